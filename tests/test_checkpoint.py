"""Tampering with a file log: deletion, reordering, duplication, truncation (with a signed checkpoint), rewriting."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.transport import get_default_factory
from openlineage.client.uuid import generate_new_uuid

from provlineage.checkpoint import (
    apply_checkpoint,
    build_checkpoint,
    load_checkpoint,
    sign_checkpoint,
    write_checkpoint,
)
from provlineage.cli import cli
from provlineage.errors import ProvlineageError
from provlineage.keys import Keyring, write_key_pair
from provlineage.signer import KeySigner
from provlineage.verification import Report, verify_files


def run_event(index: int) -> RunEvent:
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=f"2026-03-01T12:00:{index:02d}Z",
        run=Run(runId=str(generate_new_uuid())),
        job=Job(namespace="ml", name=f"step-{index}"),
        producer="https://example.com/tests",
    )


def emit(log: Path, key_dir: Path, state_dir: Path, indexes: range) -> None:
    transport = get_default_factory().create(
        {
            "type": "provlineage.transport.SigningTransport",
            "private_key": str(key_dir / "private_key.pem"),
            "state_dir": str(state_dir),
            "strict": True,
            "transport": {"type": "provlineage.transport.FileLogTransport", "path": str(log)},
        }
    )
    for index in indexes:
        transport.emit(run_event(index))


@pytest.fixture
def log(tmp_path: Path, key_dir: Path) -> Path:
    path = tmp_path / "events.jsonl"
    emit(path, key_dir, tmp_path / "state", range(6))
    return path


def rewrite(path: Path, edit: Any) -> Path:
    lines = path.read_text().splitlines()
    path.write_text("\n".join(edit(lines)) + "\n")
    return path


def verify(path: Path, key_dir: Path) -> Report:
    return verify_files([path], Keyring.from_files([key_dir / "public_key.pem"]))


def kinds(report: Report) -> list[str]:
    return [finding.kind for finding in report.chain]


def checkpoint_of(path: Path, key_dir: Path, out: Path) -> Path:
    result = CliRunner().invoke(
        cli, ["checkpoint", str(path), "--out", str(out), "--private-key", str(key_dir / "private_key.pem")]
    )
    assert result.exit_code == 0, result.output
    return out


def test_intact_log_verifies(log: Path, key_dir: Path) -> None:
    report = verify(log, key_dir)
    assert report.ok and not report.chain


def test_deletion(log: Path, key_dir: Path) -> None:
    report = verify(rewrite(log, lambda lines: lines[:2] + lines[3:]), key_dir)
    assert kinds(report) == ["gap"] and "missing sequence 3 of 6" in report.chain[0].detail
    assert not report.ok


def test_reordering(log: Path, key_dir: Path) -> None:
    report = verify(rewrite(log, lambda lines: [lines[0], lines[3], lines[2], lines[1], *lines[4:]]), key_dir)
    assert "out-of-order" in kinds(report) and not report.ok


def test_duplication(log: Path, key_dir: Path) -> None:
    report = verify(rewrite(log, lambda lines: [*lines, lines[1]]), key_dir)
    assert "duplicate" in kinds(report) and not report.ok


def test_truncation_needs_a_checkpoint(log: Path, key_dir: Path, tmp_path: Path) -> None:
    checkpoint = checkpoint_of(log, key_dir, tmp_path / "outside" / "checkpoint.json")
    rewrite(log, lambda lines: lines[:4])
    assert verify(log, key_dir).ok  # a shorter chain is still a valid chain ...
    result = CliRunner().invoke(
        cli, ["verify", str(log), "--public-key", str(key_dir / "public_key.pem"), "--checkpoint", str(checkpoint)]
    )
    assert result.exit_code == 1  # ... which the checkpoint exposes
    assert "truncated" in result.output and "events 5..6 were removed" in result.output
    assert "RESULT: FAILED" in result.output


def test_log_grown_after_the_checkpoint_still_verifies(log: Path, key_dir: Path, tmp_path: Path) -> None:
    checkpoint = checkpoint_of(log, key_dir, tmp_path / "checkpoint.json")
    emit(log, key_dir, tmp_path / "state", range(6, 9))
    report = apply_checkpoint(
        verify(log, key_dir), load_checkpoint(checkpoint, Keyring.from_files([key_dir / "public_key.pem"])), logs=[log]
    )
    assert report.ok, report.to_json()["chain"]


def test_rewritten_history_disagrees_with_the_checkpoint(tmp_path: Path, key_dir: Path) -> None:
    """Someone with the key and the chain state re-signs a different event 6: the chain is valid, the head differs."""
    log, state = tmp_path / "events.jsonl", tmp_path / "state"
    emit(log, key_dir, state, range(5))
    shutil.copytree(state, tmp_path / "state-at-5")
    emit(log, key_dir, state, range(5, 6))
    checkpoint = checkpoint_of(log, key_dir, tmp_path / "checkpoint.json")
    rewrite(log, lambda lines: lines[:5])
    shutil.rmtree(state)
    shutil.copytree(tmp_path / "state-at-5", state)
    emit(log, key_dir, state, range(50, 51))
    keyring = Keyring.from_files([key_dir / "public_key.pem"])
    assert verify(log, key_dir).ok
    report = apply_checkpoint(verify(log, key_dir), load_checkpoint(checkpoint, keyring), logs=[log])
    assert kinds(report) == ["disagrees"] and "sequence 6" in report.chain[0].detail


def test_tampered_or_foreign_checkpoint(log: Path, key_dir: Path, tmp_path: Path) -> None:
    keyring = Keyring.from_files([key_dir / "public_key.pem"])
    checkpoint = checkpoint_of(log, key_dir, tmp_path / "checkpoint.json")
    document = json.loads(checkpoint.read_text())
    document["checkpoint"]["streams"][0]["lastSequence"] = 3  # hide later truncation
    checkpoint.write_text(json.dumps(document))
    report = apply_checkpoint(verify(log, key_dir), load_checkpoint(checkpoint, keyring))
    assert kinds(report) == ["checkpoint-invalid"] and "altered" in report.chain[0].detail

    other = write_key_pair(tmp_path / "other", "ecdsa-p256")
    foreign = tmp_path / "foreign.json"
    write_checkpoint(
        foreign, sign_checkpoint(build_checkpoint(verify(log, key_dir), [log]), KeySigner.from_file(other.private_key))
    )
    report = apply_checkpoint(verify(log, key_dir), load_checkpoint(foreign, keyring))
    assert kinds(report) == ["checkpoint-invalid"] and "not among the trusted" in report.chain[0].detail

    (tmp_path / "junk.json").write_text("{}")
    with pytest.raises(ProvlineageError, match="not a provlineage checkpoint"):
        load_checkpoint(tmp_path / "junk.json", keyring)


def test_checkpoint_refuses_a_log_that_does_not_verify(log: Path, key_dir: Path, tmp_path: Path) -> None:
    rewrite(log, lambda lines: lines[:2] + lines[3:])
    arguments = [
        "checkpoint",
        str(log),
        "--out",
        str(tmp_path / "c.json"),
        "--private-key",
        str(key_dir / "private_key.pem"),
    ]
    refused = CliRunner().invoke(cli, arguments)
    assert refused.exit_code != 0 and "does not verify" in str(refused.exception)
    assert not (tmp_path / "c.json").exists()
    forced = CliRunner().invoke(cli, [*arguments, "--force"])
    assert forced.exit_code == 0 and "sequence 6" in forced.output
