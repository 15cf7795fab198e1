"""`provlineage verify --datasets / --inference-log / --inference` on logs written by track() through SigningTransport."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from openlineage.client.client import OpenLineageClient
from openlineage.client.transport import get_default_factory

import provlineage
from provlineage.cli import cli
from provlineage.datasets_check import check_datasets
from provlineage.keys import Keyring
from provlineage.verification import verify_files


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVLINEAGE_CACHE_DIR", str(tmp_path / "hash-cache"))
    monkeypatch.delenv("PROVLINEAGE_STRICT", raising=False)
    monkeypatch.delenv("PROVLINEAGE_INFERENCE_LOG", raising=False)


def _client(tmp_path: Path, key_dir: Path) -> OpenLineageClient:
    config = {
        "type": "provlineage.transport.SigningTransport",
        "private_key": str(key_dir / "private_key.pem"),
        "state_dir": str(tmp_path / "state"),
        "transport": {"type": "provlineage.transport.FileLogTransport", "path": str(tmp_path / "lineage.jsonl")},
    }
    return OpenLineageClient(transport=get_default_factory().create(config))


def _verify(tmp_path: Path, key_dir: Path, *options: str) -> Result:
    args = ["verify", str(tmp_path / "lineage.jsonl"), "--public-key", str(key_dir / "public_key.pem"), *options]
    return CliRunner().invoke(cli, args)


@pytest.fixture
def recorded(tmp_path: Path, key_dir: Path) -> dict[str, Any]:
    """A training run that read a CSV and a directory of shards and wrote a model, all signed."""
    data = tmp_path / "data"
    shards = data / "shards"
    shards.mkdir(parents=True)
    for i in range(4):
        (shards / f"part-{i}.csv").write_text(f"id,value\n{i},{i * 10}\n")
    table = data / "customers.csv"
    table.write_text("id,name\n1,a\n")
    model = tmp_path / "model.bin"
    model.write_bytes(b"weights-v1")
    client = _client(tmp_path, key_dir)
    with provlineage.track("train", kind="training", client=client) as run:
        run.log_dataset(shards)
        run.log_dataset(table)
        run.log_model(model, name="m")
    client.close()
    return {"shards": shards, "table": table, "model": model}


def test_unchanged_datasets_match(tmp_path: Path, key_dir: Path, recorded: dict[str, Any]) -> None:
    result = _verify(tmp_path, key_dir, "--datasets")
    assert result.exit_code == 0, result.output
    assert "3 re-hashed: 3 match, 0 changed, 0 missing, 0 unreadable" in result.output
    assert result.output.rstrip().endswith("RESULT: OK")


def test_directory_change_lists_added_missing_and_changed_files(
    tmp_path: Path, key_dir: Path, recorded: dict[str, Any]
) -> None:
    shards: Path = recorded["shards"]
    (shards / "part-1.csv").write_text("id,value\n1,11\n")  # modified
    (shards / "part-2.csv").unlink()  # removed
    (shards / "part-9.csv").write_text("id,value\n9,90\n")  # added
    result = _verify(tmp_path, key_dir, "--datasets")
    assert result.exit_code == 1
    (line,) = [line for line in result.output.splitlines() if line.startswith("DATASET")]
    assert str(shards) in line and "changed" in line
    assert "added 1: part-9.csv" in line and "missing 1: part-2.csv" in line and "changed 1: part-1.csv" in line
    assert "RESULT: FAILED" in result.output

    as_json = json.loads(_verify(tmp_path, key_dir, "--datasets", "--json").output)
    assert as_json["ok"] is False
    (changed,) = [d for d in as_json["datasets"] if d["status"] != "match"]
    assert (changed["added"], changed["missing"], changed["changed"]) == (
        ["part-9.csv"],
        ["part-2.csv"],
        ["part-1.csv"],
    )


def test_missing_and_modified_files_are_named(tmp_path: Path, key_dir: Path, recorded: dict[str, Any]) -> None:
    recorded["table"].unlink()
    recorded["model"].write_bytes(b"weights-v2")
    report = verify_files(
        [tmp_path / "lineage.jsonl"], Keyring.from_files([key_dir / "public_key.pem"]), keep_events=True
    )
    checks = {check.name: check for check in check_datasets(report)}
    table, model = checks[str(recorded["table"])], checks[str(recorded["model"])]
    assert table.status == "missing" and "no longer exists" in table.detail
    assert (
        model.status == "changed" and model.changed == ["model.bin"] and model.current_digest != model.recorded_digest
    )
    assert checks[str(recorded["shards"])].status == "match"


def test_the_latest_record_of_a_dataset_is_the_reference(
    tmp_path: Path, key_dir: Path, recorded: dict[str, Any]
) -> None:
    model: Path = recorded["model"]
    model.write_bytes(b"weights-v2")  # retrained into the same path, and recorded again
    client = _client(tmp_path, key_dir)
    with provlineage.track("retrain", kind="training", client=client) as run:
        run.log_model(model, name="m", version="2")
    client.close()
    result = _verify(tmp_path, key_dir, "--datasets")
    assert result.exit_code == 0, result.output


def _served(tmp_path: Path, key_dir: Path, count: int = 2000) -> tuple[list[str], Path]:
    model = tmp_path / "model.bin"
    model.write_bytes(b"weights")
    client = _client(tmp_path, key_dir)
    with provlineage.track("serve", kind="inference", client=client) as run:
        run.log_model(model, name="m", role="input")
        ids = [run.log_inference({"customer": i}, {"score": i % 3}) for i in range(count)]
    client.close()
    assert run.inference_log == tmp_path / "lineage.inferences.jsonl"
    return [i for i in ids if i], run.inference_log


def test_inference_log_matches_the_signed_roots(tmp_path: Path, key_dir: Path) -> None:
    ids, log = _served(tmp_path, key_dir)
    result = _verify(tmp_path, key_dir, "--inference-log", str(log))
    assert result.exit_code == 0, result.output
    assert "2000 records, ok" in result.output

    proven = _verify(tmp_path, key_dir, "--inference", ids[1234])
    assert proven.exit_code == 0, proven.output
    assert f"{ids[1234]}: record 1234 of 2000" in proven.output

    unknown = _verify(tmp_path, key_dir, "--inference", "inf-0000")
    assert unknown.exit_code == 1 and "is in none of the inference logs" in unknown.output


def test_an_altered_or_deleted_inference_record_is_caught(tmp_path: Path, key_dir: Path) -> None:
    ids, log = _served(tmp_path, key_dir, count=50)
    lines = log.read_text().splitlines()
    record = json.loads(lines[7])
    record["outputDigest"] = "sha256:" + "0" * 64
    lines[7] = json.dumps(record, sort_keys=True, separators=(",", ":"))
    log.write_text("\n".join(lines) + "\n")
    altered = _verify(tmp_path, key_dir, "--inference-log", str(log))
    assert altered.exit_code == 1 and "root-mismatch" in altered.output
    assert _verify(tmp_path, key_dir, "--inference", ids[7]).exit_code == 1
    assert (
        _verify(tmp_path, key_dir, "--inference", ids[8]).exit_code == 1
    )  # the whole tree is no longer the signed one

    del lines[7]
    log.write_text("\n".join(lines) + "\n")
    deleted = _verify(tmp_path, key_dir, "--inference-log", str(log))
    assert deleted.exit_code == 1 and "malformed" in deleted.output and "gaps" in deleted.output
