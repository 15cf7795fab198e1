"""Issue 15, items 9-11: one name per model, digest prefixes with or without ``sha256:``, and a model whose file was
missing when logged stays in the record and is flagged.

The log is written by ``provlineage.track()`` through the real signing transport, as a user's jobs write it.  The
inference job names the model after its file (``churn_model``), as the Airflow plugin does for a model inlet
without ``model_name``, while training named it ``churn-logreg``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openlineage.client.client import OpenLineageClient

import provlineage
from provlineage.cli import main
from provlineage.hashing import HashOptions
from provlineage.keys import write_key_pair
from provlineage.transport import SigningConfig, SigningTransport


@dataclass
class Record:
    log: Path
    public_key: Path
    model: Path
    digest: str
    inference_run: str

    def args(self, *question: str) -> list[str]:
        return ["lineage", str(self.log), "--public-key", str(self.public_key), *question]


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> Record:
    root = tmp_path_factory.mktemp("names")
    keys = write_key_pair(root / "keys", "ed25519")
    log = root / "lineage.jsonl"
    config = {
        "private_key": str(keys.private_key),
        "state_dir": str(root / "state"),
        "strict": True,
        "transport": {"type": "provlineage.transport.FileLogTransport", "path": str(log)},
    }
    settings: dict[str, Any] = {
        "namespace": "names",
        "hash_options": HashOptions(use_cache=False, progress=False),
        "inference_log": root / "inferences.jsonl",
    }
    train, model = root / "train.csv", root / "models" / "churn_model.json"
    train.write_text("tenure,churn\n1,0\n24,1\n")
    model.parent.mkdir()
    with provlineage.track(
        "churn.train",
        kind="training",
        client=OpenLineageClient(transport=SigningTransport(SigningConfig.from_dict(config))),
        **settings,
    ) as run:
        run.log_dataset(train)
        model.write_text('{"weights": [0.4, -1.2]}')
        run.log_model(model, name="churn-logreg", version="1", framework="numpy")
    with provlineage.track(
        "churn.predict",
        kind="inference",
        client=OpenLineageClient(transport=SigningTransport(SigningConfig.from_dict(config))),
        **settings,
    ) as run:
        run.log_model(model, name="churn_model", role="input")  # named after the file, as the Airflow plugin does
        run.log_inference({"tenure": 3}, {"churn": False})
        inference_run = run.run_id
    with provlineage.track(
        "ghost.train",
        kind="training",
        strict=False,  # the default: a file that cannot be hashed is logged as one line and the job goes on
        client=OpenLineageClient(transport=SigningTransport(SigningConfig.from_dict(config))),
        **settings,
    ) as run:
        run.log_dataset(train)
        run.log_model(root / "models" / "never_written.pkl", name="ghost", version="2", framework="sklearn")
    digest = json.loads(log.read_text().splitlines()[1])["outputs"][0]["facets"]["provlineage_model"]["digest"]
    return Record(log, keys.public_key, model, digest, inference_run)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


# --- 9: one name per model, found by any name the output shows --------------------------------------------------
def test_the_model_has_one_name_in_the_output(record: Record, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = cli(capsys, *record.args("--model", "churn-logreg"))
    assert status == 0, err
    assert "MODEL churn-logreg@1" in out
    assert f"file:{record.model}  sha256:{record.digest[7:23]}…  [model churn-logreg@1]" in out  # the inference input
    assert "churn_model]" not in out


@pytest.mark.parametrize("name", ["churn_model", "churn-logreg@1", "file:{model}", "{model}"])
def test_model_is_found_by_any_name_the_output_shows(
    record: Record, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    status, out, err = cli(capsys, *record.args("--model", name.format(model=record.model)))
    assert status == 0, err
    assert out.count("MODEL churn-logreg@1") == 1 and f"inference run {record.inference_run}" in out


def test_json_carries_the_one_label_beside_the_recorded_facet(
    record: Record, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = cli(capsys, *record.args("--run", record.inference_run, "--format", "json"))
    assert status == 0
    (model_input,) = [ref for ref in json.loads(out)["answer"]["run"]["inputs"] if ref["model"]]
    assert model_input["modelLabel"] == "churn-logreg@1" and model_input["model"]["name"] == "churn_model"


# --- 10: NAME@<digest prefix>, with or without sha256: ----------------------------------------------------------
@pytest.mark.parametrize("prefix", ["sha256:{hex}", "{hex}", "{HEX}"])
def test_digest_prefix_with_or_without_algorithm(
    record: Record, capsys: pytest.CaptureFixture[str], prefix: str
) -> None:
    hex_prefix = record.digest.removeprefix("sha256:")[:10]
    query = "churn-logreg@" + prefix.format(hex=hex_prefix, HEX=hex_prefix.upper())
    status, out, err = cli(capsys, *record.args("--model", query))
    assert status == 0, err
    assert "MODEL churn-logreg@1" in out


@pytest.mark.parametrize("prefix", ["sha256:{short}", "{short}"])
def test_a_digest_prefix_needs_seven_hex_digits(
    record: Record, capsys: pytest.CaptureFixture[str], prefix: str
) -> None:
    short = record.digest.removeprefix("sha256:")[:6]
    status, _, err = cli(capsys, *record.args("--model", "churn-logreg@" + prefix.format(short=short)))
    assert status == 2 and err.startswith("provlineage: error: no model 'churn-logreg@")


def test_a_digest_prefix_that_matches_nothing_is_not_found(record: Record, capsys: pytest.CaptureFixture[str]) -> None:
    wrong = "0" * 10 if not record.digest.startswith("sha256:0") else "f" * 10
    status, out, err = cli(capsys, *record.args("--model", f"churn-logreg@{wrong}"))
    assert status == 2 and out == ""
    assert err == (
        f"provlineage: error: no model 'churn-logreg@{wrong}' in the 6 verified events of {record.log} "
        "(known: churn-logreg@1, ghost@2). run `provlineage lineage ... --report` to list models, or check the spelling\n"
    )


# --- 11: a model whose file was missing keeps its name and version, and is flagged ------------------------------
def test_missing_model_file_keeps_name_and_version_in_the_event(record: Record, event_validator: Any) -> None:
    events = [json.loads(line) for line in record.log.read_text().splitlines()]
    (ghost,) = [e for e in events if e["job"]["name"] == "ghost.train" and e["eventType"] == "COMPLETE"]
    facet = ghost["outputs"][0]["facets"]["provlineage_model"]
    assert (facet["name"], facet["version"], facet["framework"]) == ("ghost", "2", "sklearn")
    assert "digest" not in facet and "provlineage_datasetHash" not in ghost["outputs"][0]["facets"]
    event_validator(ghost)


def test_report_flags_the_model_without_an_artifact_digest(record: Record, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, *record.args("--report"))
    assert status == 1
    section = out.split("MODELS WITHOUT AN ARTIFACT DIGEST (1)\n", 1)[1].split("\n\n", 1)[0]
    assert section == (
        f"└─ ghost@2  file:{record.model.parent / 'never_written.pkl'}  no artifact digest was recorded (the file "
        "could not be read when it was logged): which bytes this model is cannot be checked"
    )
    assert out.rstrip().endswith("RESULT: answer given, with problems: 1 model(s) without an artifact digest")


def test_model_question_shows_the_missing_digest_as_a_caveat(
    record: Record, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = cli(capsys, *record.args("--model", "ghost"))
    assert status == 0
    assert "MODEL ghost@2" in out and "artifact digest (not recorded)" in out
    assert "CAVEAT no-artifact-digest: no artifact digest was recorded" in out


def test_verify_datasets_lists_the_model_without_an_artifact_digest(
    record: Record, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = cli(capsys, "verify", str(record.log), "--public-key", str(record.public_key), "--datasets")
    assert status == 1
    missing = record.model.parent / "never_written.pkl"
    assert (
        f"DATASET     file:{missing}  no-digest  (model ghost@2: no artifact digest was recorded (the file could not "
        "be read when it was logged); nothing to compare)"
    ) in out.splitlines()
    assert "datasets    3 re-hashed: 2 match, 0 changed, 0 missing, 0 unreadable, 1 no-digest" in out
