"""Verify what Marquez holds: events read back over real HTTP from the contract server, chains included."""

from __future__ import annotations

import json
import random
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import nominal_time_run, parent_run
from openlineage.client.transport import get_default_factory
from openlineage.client.uuid import generate_new_uuid

from provlineage.cli import cli
from provlineage.errors import ProvlineageError
from provlineage.facets import HyperparametersRunFacet
from provlineage.keys import Keyring, write_key_pair
from provlineage.marquez import MarquezReader, _event_time, verify_marquez
from provlineage.signature_check import Status
from provlineage.verification import Report, verify_records


def run_event(index: int, event_time: str | None = None) -> RunEvent:
    """Values Marquez rewrites on the way in: offsets, fraction zeros, parent links, doubles, big integers."""
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=event_time or f"2026-03-01T13:00:{index:02d}.120000+01:00",
        run=Run(
            runId=str(generate_new_uuid()),
            facets={
                "nominalTime": nominal_time_run.NominalTimeRunFacet(nominalStartTime="2026-03-01T12:00:00.000+00:00"),
                "parent": parent_run.ParentRunFacet(
                    run=parent_run.Run(runId=str(generate_new_uuid())),
                    job=parent_run.Job(namespace="airflow", name="dag"),
                ),
                "provlineage_hyperparameters": HyperparametersRunFacet(
                    parameters={"lr": 1e-7, "ratio": 100.0, "seed": 12345678901234567890, "step": index}
                ),
            },
        ),
        job=Job(namespace="ml", name=f"step-{index}"),
        producer="https://example.com/tests",
    )


def deliver(
    tmp_path: Path,
    key_dir: Path,
    server: Any,
    count: int,
    *,
    file_log: Path | None = None,
    times: dict[int, str] | None = None,
) -> None:
    inner: dict[str, Any] = {"type": "http", "url": server.url, "retry": {"total": 0}}
    if server.token:
        inner["auth"] = {"type": "api_key", "apiKey": server.token}
    if file_log is not None:
        inner = {
            "type": "composite",
            "transports": [inner, {"type": "provlineage.transport.FileLogTransport", "path": str(file_log)}],
        }
    transport = get_default_factory().create(
        {
            "type": "provlineage.transport.SigningTransport",
            "private_key": str(key_dir / "private_key.pem"),
            "state_dir": str(tmp_path / "state"),
            "strict": True,
            "transport": inner,
        }
    )
    for index in range(count):
        transport.emit(run_event(index, (times or {}).get(index)))


def keyring(key_dir: Path) -> Keyring:
    return Keyring.from_files([key_dir / "public_key.pem"])


def kinds(report: Report) -> list[str]:
    return [finding.kind for finding in report.chain]


def verify_cli(server: Any, key_dir: Path, *extra: str) -> Any:
    return CliRunner().invoke(
        cli, ["verify", "--marquez", server.url, "--public-key", str(key_dir / "public_key.pem"), *extra]
    )


def test_events_rewritten_by_marquez_verify(tmp_path: Path, key_dir: Path, marquez_server: Any) -> None:
    deliver(tmp_path, key_dir, marquez_server, 6)
    held = marquez_server.events[0]
    assert held["eventTime"] == "2026-03-01T12:00:00.12Z"  # Marquez's spelling, not ours
    result = verify_cli(marquez_server, key_dir)
    assert result.exit_code == 0, result.output
    assert "6 records from " + marquez_server.url in result.output and "RESULT: OK" in result.output


def listings(server: Any) -> list[str]:
    return [r.path for r in server.requests if r.path.startswith("/api/v1/events/lineage")]


def test_pages_are_read_in_full(tmp_path: Path, key_dir: Path, marquez_server: Any) -> None:
    deliver(tmp_path, key_dir, marquez_server, 10)
    reader = MarquezReader(marquez_server.url, page_size=4)
    records = list(reader.events())
    assert [position for _, position, _ in records] == list(range(1, 11))
    assert [event["job"]["name"] for _, _, event in records] == [f"step-{index}" for index in range(10)]
    assert len(listings(marquez_server)) == 7  # a full page, then its window narrowed to before its last event
    assert not any("offset=" in path for path in listings(marquez_server))


def test_events_sharing_an_event_time_are_read_once_each(tmp_path: Path, key_dir: Path, marquez_server: Any) -> None:
    """On the real Marquez, offset pages cut through 60 events of one eventTime: 14 read twice, 14 never.

    (Marquez 0.51.1 on PostgreSQL 15, tests/marquez_contract/observed/paging.md: ``verify --marquez`` reported false
    duplicates and a gap for an honest store.)  The contract server orders equal times differently for each
    ``limit + offset`` as the real one did, so offset paging fails here too; reading by time windows does not.
    """
    same = "2026-03-01T13:00:30Z"
    deliver(tmp_path, key_dir, marquez_server, 30, times={index: same for index in range(5, 30)})
    reader = MarquezReader(marquez_server.url, page_size=7)  # 25 equal times: page boundaries fall inside them
    records = list(reader.events())
    sequences = sorted(event["run"]["facets"]["provlineage_signature"]["sequence"] for _, _, event in records)
    assert sequences == list(range(1, 31))
    report = verify_records(records, keyring(key_dir), in_log_order=False)
    assert report.ok and kinds(report) == []
    assert not any("offset=" in path for path in listings(marquez_server))


def test_event_times_are_read_to_the_microsecond() -> None:
    """Marquez prints nanoseconds (``...00.123456789Z``) but compares PostgreSQL's microseconds: we truncate."""
    assert _event_time({"eventTime": "2021-04-01T10:00:00.123456789Z"}) == datetime(
        2021, 4, 1, 10, 0, 0, 123456, tzinfo=timezone.utc
    )
    assert _event_time({"eventTime": "2021-03-01T12:00:00.12+05:30"}) == datetime(
        2021, 3, 1, 6, 30, 0, 120000, tzinfo=timezone.utc
    )
    assert _event_time({"eventTime": "yesterday"}) is None and _event_time({}) is None


def test_deleted_event_is_reported(tmp_path: Path, key_dir: Path, marquez_server: Any) -> None:
    deliver(tmp_path, key_dir, marquez_server, 6)
    marquez_server.delete_event(2)
    report = verify_marquez(marquez_server.url, keyring(key_dir))
    assert kinds(report) == ["gap"] and "missing sequence 3 of 6" in report.chain[0].detail
    result = verify_cli(marquez_server, key_dir)
    assert result.exit_code == 1 and "gap" in result.output


def test_order_of_arrival_does_not_matter_but_moving_an_event_in_time_does(
    tmp_path: Path, key_dir: Path, marquez_server: Any
) -> None:
    log = tmp_path / "events.jsonl"
    deliver(tmp_path, key_dir, marquez_server, 6, file_log=log)
    lines = log.read_text().splitlines()
    random.Random(7).shuffle(lines)
    marquez_server.reset()
    for line in lines:  # the same signed events, arriving in another order (e.g. re-sent from a spool)
        assert marquez_server.post(line) == 201
    assert verify_marquez(marquez_server.url, keyring(key_dir)).ok  # the chain, not Marquez's order, is the order

    moved = marquez_server.events[1]
    moved["eventTime"] = "2026-03-01T11:59:00Z"  # reorder history by rewriting a time in the database
    marquez_server.replace_event(1, moved)
    report = verify_marquez(marquez_server.url, keyring(key_dir))
    assert [record.status for record in report.records].count(Status.FAILED) == 1 and not report.ok


def test_duplicated_event_is_reported(tmp_path: Path, key_dir: Path, marquez_server: Any) -> None:
    log = tmp_path / "events.jsonl"
    deliver(tmp_path, key_dir, marquez_server, 4, file_log=log)
    assert marquez_server.post(log.read_text().splitlines()[1]) == 201  # replayed
    report = verify_marquez(marquez_server.url, keyring(key_dir))
    assert kinds(report) == ["duplicate"]


def test_truncation_is_reported_with_a_checkpoint(tmp_path: Path, key_dir: Path, marquez_server: Any) -> None:
    log = tmp_path / "events.jsonl"
    deliver(tmp_path, key_dir, marquez_server, 5, file_log=log)
    checkpoint = tmp_path / "checkpoint.json"
    auditor = write_key_pair(tmp_path / "auditor", "ed25519")  # checkpoints are signed by the auditor's own key
    arguments = ["checkpoint", str(log), "--out", str(checkpoint), "--private-key", str(auditor.private_key)]
    made = CliRunner().invoke(cli, [*arguments, "--public-key", str(key_dir / "public_key.pem")])
    assert made.exit_code == 0, made.output
    marquez_server.delete_event(4)  # the newest event
    assert verify_cli(marquez_server, key_dir).exit_code == 0  # a chain cut at its end still looks whole
    result = verify_cli(
        marquez_server, key_dir, "--checkpoint", str(checkpoint), "--checkpoint-key", str(auditor.public_key), "--json"
    )
    assert result.exit_code == 1
    findings = json.loads(result.output)["chain"]
    assert [finding["kind"] for finding in findings] == ["truncated"]


def test_api_key(tmp_path: Path, key_dir: Path, marquez_server: Any) -> None:
    marquez_server.token = "proxy-token"
    deliver(tmp_path, key_dir, marquez_server, 2)
    assert verify_cli(marquez_server, key_dir, "--api-key", "proxy-token").exit_code == 0
    with pytest.raises(ProvlineageError, match="--api-key"):
        verify_marquez(marquez_server.url, keyring(key_dir))


def test_unreachable_marquez_is_one_line(key_dir: Path, marquez_server: Any) -> None:
    url = marquez_server.url
    marquez_server.set_down(True)
    with pytest.raises(ProvlineageError) as raised:
        verify_marquez(url, keyring(key_dir))
    assert "cannot reach Marquez at" in str(raised.value) and "\n" not in str(raised.value)
    marquez_server.set_down(False)
