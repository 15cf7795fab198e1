"""``provlineage demo``: the whole story in a few seconds, on the embedded file backend.

In ``--dir`` (default ``./provlineage-demo``): create a key pair if there is none, write an ``openlineage.yml`` for
``SigningTransport`` -> ``FileLogTransport``, generate a synthetic churn dataset, run the example training and
inference jobs (``examples/``) with ``provlineage.track()``, verify the signed log and the inference log, prove one
prediction, and print the lineage of the model.  The client is built from that config explicitly, so the user's
own ``openlineage.yml`` or ``OPENLINEAGE__*`` variables do not redirect the demo's events.

Exit status 0 when everything verifies, 1 otherwise.
"""

from __future__ import annotations

import importlib
import shlex
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import click

from provlineage.errors import ConfigError, ProvlineageError
from provlineage.keys import PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, Keyring, write_key_pair

DEFAULT_DIR = "provlineage-demo"
MODEL_NAME = "churn-logreg"


def examples_dir() -> Path:
    """Where the example jobs are: shipped in the wheel (``provlineage/_examples``) or ``examples/`` of a checkout."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "_examples", package.parent / "examples"):
        if (candidate / "train_churn.py").is_file():
            return candidate
    raise ConfigError(
        f"the example jobs are not installed (looked in {package / '_examples'} and {package.parent / 'examples'})",
        "run the demo from a source checkout of provlineage, or reinstall a release that ships them",
    )


def _load_examples() -> tuple[ModuleType, ModuleType, ModuleType]:
    directory = str(examples_dir())
    sys.path.insert(0, directory)
    try:
        return tuple(importlib.import_module(name) for name in ("churn_data", "train_churn", "predict_churn"))  # type: ignore[return-value]
    finally:
        sys.path.remove(directory)


def transport_config(directory: Path) -> dict[str, Any]:
    return {
        "type": "provlineage.transport.SigningTransport",
        "private_key": str(directory / "keys" / PRIVATE_KEY_FILE),
        "state_dir": str(directory / "state"),
        "transport": {"type": "provlineage.transport.FileLogTransport", "path": str(directory / "lineage.jsonl")},
    }


def _write_config(directory: Path, config: dict[str, Any]) -> Path:
    import yaml

    path = directory / "openlineage.yml"
    path.write_text(
        "# Written by `provlineage demo`: sign every event and append it to the demo's log.\n"
        f"# Use it for your own jobs with OPENLINEAGE_CONFIG={shlex.quote(str(path))}\n"
        + yaml.safe_dump({"transport": config}, sort_keys=False),
        encoding="utf-8",
    )
    return path


def _client(config: dict[str, Any]) -> Any:
    from openlineage.client.client import OpenLineageClient
    from openlineage.client.transport import get_default_factory

    return OpenLineageClient(transport=get_default_factory().create(config), config={"transport": config})


def _lineage_text(log: Path, keyring: Keyring) -> str:
    from provlineage.lineage import ask_model, lineage_from_files
    from provlineage.lineage.render_text import render_text

    return render_text(ask_model(lineage_from_files([log], keyring), MODEL_NAME))


@click.command()
@click.option(
    "--dir",
    "directory",
    default=DEFAULT_DIR,
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where keys, data, model, logs and config go (reused if it exists).",
)
def demo(directory: str) -> None:
    """Train and serve a small churn model with signed lineage, verify it, and show the model's lineage."""
    from provlineage import inference
    from provlineage.verification import verify_files

    root = Path(directory).expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    say = click.echo
    keys = root / "keys"
    if (keys / PRIVATE_KEY_FILE).exists():
        say(f"1. keys        using {keys / PRIVATE_KEY_FILE}")
    else:
        created = write_key_pair(keys, "ed25519")
        say(f"1. keys        created Ed25519 key pair in {keys} (key id {created.key_id[:23]}...)")
    config = transport_config(root)
    config_path = _write_config(root, config)
    event_log, public_key = root / "lineage.jsonl", keys / PUBLIC_KEY_FILE
    say(f"2. config      {config_path}: SigningTransport -> FileLogTransport {event_log}")

    churn_data, train_churn, predict_churn = _load_examples()
    paths = churn_data.generate(root / "data")
    say(f"3. data        {len(churn_data.read_rows(paths['train']))} training rows, synthetic, in {root / 'data'}")
    client = _client(config)
    try:
        trained = train_churn.train(root / "data", root / "models" / "churn_model.json", client=client)
        say(f"4. training    run {trained.run_id}: model {trained.model_digest} holdout {trained.metrics}")
        served = predict_churn.predict(
            trained.model_path, paths["score"], root / "predictions" / "churn_predictions.csv", client=client
        )
        say(
            f"5. inference   run {served.run_id}: {len(served.inference_ids)} predictions, records in {served.inference_log}"
        )
    finally:
        client.close(timeout=10.0)

    keyring = Keyring.from_files([public_key])
    report = verify_files([event_log], keyring, keep_events=True)
    counts = report.counts()
    say(f"6. verify      {len(report.records)} events: {counts['valid']} valid, chain errors {counts['chainErrors']}")
    committed = inference.commitments((r.source, r.line, e) for r, e in report.verified_events())
    log_checks = inference.check_inference_log(served.inference_log, committed, keyring)
    sample = served.inference_ids[0] if served.inference_ids else ""
    proven = False
    try:
        proof, commitment = inference.prove_committed(sample, committed, [served.inference_log], run_id=served.run_id)
        proven = True
        say(
            f"7. proof       {sample} is record {proof.index} of {proof.tree_size}, "
            f"proven against the root signed at {Path(commitment.source).name}:{commitment.line}"
        )
    except ProvlineageError as error:
        say(f"7. proof       FAILED: {error}")
    for check in log_checks:
        if not check.ok:
            say(f"   {check.line()}")

    say("\nLineage of the model:\n")
    try:
        say(_lineage_text(event_log, keyring))
    except ProvlineageError as error:
        say(f"   (lineage unavailable: {error})")

    ok = report.ok and proven and all(check.ok for check in log_checks)
    q = shlex.quote
    say("\nDEMO OK: every event and inference record verified" if ok else "\nDEMO FAILED: see above")
    say("\nNext steps:")
    say(
        f"  provlineage verify {q(str(event_log))} --public-key {q(str(public_key))} --datasets --inference-log {q(str(served.inference_log))}"
    )
    say(f"  provlineage lineage {q(str(event_log))} --public-key {q(str(public_key))} --model {MODEL_NAME}")
    say(f"  provlineage lineage {q(str(event_log))} --public-key {q(str(public_key))} --inference {sample}")
    say(f"  OPENLINEAGE_CONFIG={q(str(config_path))} python your_job.py   # sign your own provlineage.track() runs")
    sys.exit(0 if ok else 1)
