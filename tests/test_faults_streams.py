"""What a signing stream is bound to: its destination (issue #10 item 13) and the log it belongs to (#11 item 11).

Two jobs sharing a key but writing to different places must each leave a log that verifies on its own, with
deletions still detected; a whole stream written for another host or log, appended to a log, must not verify as
part of it (not even against the log's checkpoint).
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.transport import get_default_factory
from openlineage.client.uuid import generate_new_uuid

from provlineage.keys import Keyring, write_key_pair
from provlineage.verification import verify_files
from provlineage.verification.streams import destinations

from fixtures.checkpoints import checkpoint_of, verify_with_checkpoint

SIGNING = "provlineage.transport.SigningTransport"
FILE_LOG = "provlineage.transport.FileLogTransport"


def event(job: str) -> RunEvent:
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime="2026-03-01T12:00:00Z",
        run=Run(runId=str(generate_new_uuid())),
        job=Job(namespace="ml", name=job),
        producer="https://example.com/tests",
    )


def transport(key_dir: Path, state: Path, inner: dict[str, Any], **extra: Any) -> Any:
    config = {"type": SIGNING, "private_key": str(key_dir / "private_key.pem"), "state_dir": str(state), **extra}
    return get_default_factory().create({**config, "strict": True, "transport": inner})


def file_log(path: Path) -> dict[str, Any]:
    return {"type": FILE_LOG, "path": str(path)}


def keyring(key_dir: Path) -> Keyring:
    return Keyring.from_files([key_dir / "public_key.pem"])


def test_two_logs_sharing_a_key_and_state_each_verify_alone(tmp_path: Path, key_dir: Path) -> None:
    """#10 item 13: one key, one host, one state directory, two destinations: two streams, not one."""
    state = tmp_path / "state"
    first_log, second_log = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first = transport(key_dir, state, file_log(first_log))
    both = transport(
        key_dir,
        state,
        {"type": "composite", "transports": {"a": file_log(first_log), "b": file_log(second_log)}},
    )
    second = transport(key_dir, state, file_log(second_log))
    for index in range(4):  # interleaved, as two jobs on one machine run
        first.emit(event(f"first-{index}"))
        both.emit(event(f"both-{index}"))
        second.emit(event(f"second-{index}"))
    first_report = verify_files([first_log], keyring(key_dir))
    second_report = verify_files([second_log], keyring(key_dir))
    assert first_report.ok, first_report.chain
    assert second_report.ok, second_report.chain
    assert len(first_report.records) == len(second_report.records) == 8
    assert len(first_report.streams) == len(second_report.streams) == 2
    for stream in first_report.streams:
        assert any(where.endswith(str(first_log)) for where in destinations(stream))
    # deletion is still evidence: remove one event of a stream from the middle of the first log
    lines = first_log.read_text().splitlines()
    first_log.write_text("\n".join(lines[:2] + lines[3:]) + "\n")
    damaged = verify_files([first_log], keyring(key_dir))
    assert [finding.kind for finding in damaged.chain] == ["gap"]


def _write_as_host(
    monkeypatch: pytest.MonkeyPatch, host: str, key_dir: Path, state: Path, log: Path, *, count: int, **extra: Any
) -> list[str]:
    """Events signed on ``host`` (its name is what the transport reads), written to ``log``; returns the lines."""
    with monkeypatch.context() as patch:
        patch.setattr(socket, "gethostname", lambda: host)
        sender = transport(key_dir, state, file_log(log), **extra)
        for index in range(count):
            sender.emit(event(f"{host}-{index}"))
    return log.read_text().splitlines()


@pytest.fixture
def spliced(tmp_path: Path, key_dir: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[str], list[str]]:
    """Host A's log; host B's events, written by the same key to the same path on B, to be spliced in."""
    log = tmp_path / "events.jsonl"
    home = _write_as_host(monkeypatch, "host-a", key_dir, tmp_path / "state-a", log, count=3)
    log.unlink()
    foreign = _write_as_host(monkeypatch, "host-b", key_dir, tmp_path / "state-b", log, count=2)
    log.write_text("\n".join(home) + "\n")
    return log, home, foreign


def test_a_foreign_stream_spliced_into_a_log_is_reported(
    spliced: tuple[Path, list[str], list[str]], key_dir: Path
) -> None:
    """#11 item 11: both streams verify on their own; together they do not, and the report says why."""
    log, _, foreign = spliced
    assert verify_files([log], keyring(key_dir)).ok
    with log.open("a") as handle:
        handle.write("\n".join(foreign) + "\n")
    report = verify_files([log], keyring(key_dir))
    assert not report.ok
    (finding,) = report.chain
    assert finding.kind == "foreign-stream" and finding.stream.startswith("host-b/")
    assert "file://host-b/" in finding.detail and "file://host-a/" in finding.detail and finding.line == 4


def test_a_foreign_stream_fails_verify_even_against_the_checkpoint(
    spliced: tuple[Path, list[str], list[str]], key_dir: Path, tmp_path: Path
) -> None:
    log, _, foreign = spliced
    auditor = tmp_path / "auditor"
    write_key_pair(auditor, "ed25519")
    checkpoint = tmp_path / "checkpoint.json"
    checkpoint_of(log, key_dir, checkpoint, auditor)
    with log.open("a") as handle:
        handle.write("\n".join(foreign) + "\n")
    result = verify_with_checkpoint(log, key_dir, checkpoint, auditor)
    assert result.exit_code == 1, result.output
    assert "foreign-stream" in result.output and "host-b" in result.output


def test_hosts_sharing_one_log_name_one_destination(
    tmp_path: Path, key_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log shared over a network filesystem: ``destination`` names it the same on every host."""
    log = tmp_path / "shared.jsonl"
    for host in ("host-a", "host-b", "host-a"):
        _write_as_host(
            monkeypatch, host, key_dir, tmp_path / f"state-{host}", log, count=2, destination="lineage shared-log"
        )
    report = verify_files([log], keyring(key_dir))
    assert report.ok, report.chain
    assert {destinations(stream) for stream in report.streams} == {frozenset({"lineage-shared-log"})}
    assert len(report.streams) == 2
