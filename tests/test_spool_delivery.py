"""Delivery that loses nothing: real HTTP to the Marquez contract server going down, failing, refusing, asking for a token."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.transport import get_default_factory
from openlineage.client.uuid import generate_new_uuid

from provlineage.cli import cli
from provlineage.errors import DeliveryError
from provlineage.keys import Keyring
from provlineage.marquez import verify_marquez
from provlineage.transport import SigningTransport
from provlineage.verification import verify_files

SIGNING = "provlineage.transport.SigningTransport"


def run_event(index: int) -> RunEvent:
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=f"2026-03-01T12:{index // 60:02d}:{index % 60:02d}Z",
        run=Run(runId=str(generate_new_uuid())),
        job=Job(namespace="ml", name=f"step-{index}"),
        producer="https://example.com/tests",
    )


def http(server: Any, **extra: Any) -> dict[str, Any]:
    # the spool retries; the HTTP client itself should fail fast
    return {"type": "http", "url": server.url, "timeout": 5, "retry": {"total": 0}, **extra}


def signing(tmp_path: Path, key_dir: Path, inner: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": SIGNING,
        "private_key": str(key_dir / "private_key.pem"),
        "state_dir": str(tmp_path / "state"),
        "spool_dir": str(tmp_path / "spool"),
        "retry_interval": 0,
        "transport": inner,
        **extra,
    }


def build(config: dict[str, Any]) -> SigningTransport:
    transport = get_default_factory().create(json.loads(json.dumps(config)))
    assert isinstance(transport, SigningTransport)
    return transport


def job_names(server: Any) -> list[str]:
    return [event["job"]["name"] for event in server.events]


def sequences(server: Any) -> list[int]:
    return [event["run"]["facets"]["provlineage_signature"]["sequence"] for event in server.events]


def keyring(key_dir: Path) -> Keyring:
    return Keyring.from_files([key_dir / "public_key.pem"])


def test_backend_down_for_part_of_a_run(tmp_path: Path, key_dir: Path, marquez_server: Any) -> None:
    transport = build(signing(tmp_path, key_dir, http(marquez_server)))
    for index in range(3):
        transport.emit(run_event(index))
    marquez_server.set_down(True)
    for index in range(3, 8):
        assert transport.emit(run_event(index)) is not None  # spooled, the job goes on
    assert len(marquez_server.events) == 3
    assert transport.deliveries[0].spool.count() == 5
    marquez_server.set_down(False)
    for index in range(8, 10):
        transport.emit(run_event(index))
    assert job_names(marquez_server) == [f"step-{index}" for index in range(10)]
    assert sequences(marquez_server) == list(range(1, 11))
    assert transport.deliveries[0].spool.count() == 0
    report = verify_marquez(marquez_server.url, keyring(key_dir))
    assert report.ok, report.to_json()
    assert [summary.count for summary in report.streams.values()] == [10]


def test_5xx_is_spooled_and_flush_resends_from_the_yaml(tmp_path: Path, key_dir: Path, marquez_server: Any) -> None:
    config = signing(tmp_path, key_dir, http(marquez_server), retry_interval=3600)
    (tmp_path / "openlineage.yml").write_text(json.dumps({"transport": config}))  # JSON is YAML
    transport = build(config)
    transport.emit(run_event(0))
    marquez_server.fail_next(1, status=503)
    transport.emit(run_event(1))
    requests_before = len(marquez_server.requests)
    transport.emit(run_event(2))  # within retry_interval: queued behind event 1 without trying
    assert len(marquez_server.requests) == requests_before
    assert job_names(marquez_server) == ["step-0"]

    result = CliRunner().invoke(cli, ["flush", "--config", str(tmp_path / "openlineage.yml")])
    assert result.exit_code == 0, result.output
    assert "re-sent 2" in result.output
    assert job_names(marquez_server) == ["step-0", "step-1", "step-2"]
    assert verify_marquez(marquez_server.url, keyring(key_dir)).ok


def test_flush_reports_what_remains(tmp_path: Path, key_dir: Path, marquez_server: Any) -> None:
    config = signing(tmp_path, key_dir, http(marquez_server))
    (tmp_path / "openlineage.yml").write_text(json.dumps({"transport": config}))
    marquez_server.set_down(True)
    build(config).emit(run_event(0))
    result = CliRunner().invoke(cli, ["flush", "--config", str(tmp_path / "openlineage.yml")])
    assert result.exit_code == 1
    assert "1 still spooled" in result.output and "ConnectionError" in result.output
    marquez_server.set_down(False)


def test_4xx_goes_to_the_dead_letter_file_once(tmp_path: Path, key_dir: Path, marquez_server: Any) -> None:
    transport = build(signing(tmp_path, key_dir, http(marquez_server)))
    transport.emit(run_event(0))
    marquez_server.fail_next(1, status=422)
    transport.emit(run_event(1))
    transport.emit(run_event(2))
    transport.emit(run_event(3))
    assert job_names(marquez_server) == ["step-0", "step-2", "step-3"]
    assert transport.deliveries[0].spool.count() == 0
    (dead,) = [json.loads(line) for line in transport.deliveries[0].spool.dead_letter_path.read_text().splitlines()]
    assert dead["status"] == 422 and dead["reason"].startswith("HTTP 422")
    assert dead["event"]["job"]["name"] == "step-1"
    # Marquez never got sequence 2, and the verifier says so
    report = verify_marquez(marquez_server.url, keyring(key_dir))
    assert [(finding.kind, "missing sequence 2 " in finding.detail) for finding in report.chain] == [("gap", True)]


def test_composite_file_and_http_writes_the_file_once(tmp_path: Path, key_dir: Path, marquez_server: Any) -> None:
    log = tmp_path / "events.jsonl"
    inner = {
        "type": "composite",
        "transports": [http(marquez_server), {"type": "provlineage.transport.FileLogTransport", "path": str(log)}],
    }
    transport = build(signing(tmp_path, key_dir, inner))
    transport.emit(run_event(0))
    marquez_server.set_down(True)
    for index in range(1, 4):
        transport.emit(run_event(index))
    assert len(log.read_text().splitlines()) == 4  # the file backend did not wait for Marquez
    marquez_server.set_down(False)
    assert [result.sent for result in transport.flush()] == [3, 0]
    assert len(log.read_text().splitlines()) == 4
    assert job_names(marquez_server) == [f"step-{index}" for index in range(4)]
    assert verify_files([log], keyring(key_dir)).ok
    assert verify_marquez(marquez_server.url, keyring(key_dir)).ok


def test_strict_raises_after_spooling(tmp_path: Path, key_dir: Path, marquez_server: Any) -> None:
    transport = build(signing(tmp_path, key_dir, http(marquez_server), strict=True))
    marquez_server.set_down(True)
    with pytest.raises(DeliveryError, match="kept in the spool"):
        transport.emit(run_event(0))
    marquez_server.set_down(False)
    transport.emit(run_event(1))
    assert job_names(marquez_server) == ["step-0", "step-1"]


def test_bearer_token(tmp_path: Path, key_dir: Path, marquez_server: Any) -> None:
    marquez_server.token = "s3cret"
    good = build(signing(tmp_path, key_dir, http(marquez_server, auth={"type": "api_key", "apiKey": "s3cret"})))
    good.emit(run_event(0))
    assert job_names(marquez_server) == ["step-0"]
    assert marquez_server.requests[-1].headers["Authorization"] == "Bearer s3cret"
    bad = build(signing(tmp_path / "other", key_dir, http(marquez_server, auth={"type": "api_key", "apiKey": "wrong"})))
    bad.emit(run_event(1))
    (dead,) = [json.loads(line) for line in bad.deliveries[0].spool.dead_letter_path.read_text().splitlines()]
    assert dead["status"] == 401 and "Credentials are required" in dead["reason"]


def test_damaged_spool_file_is_set_aside_and_does_not_block_delivery(tmp_path: Path, key_dir: Path) -> None:
    log = tmp_path / "events.jsonl"
    transport = build(signing(tmp_path, key_dir, {"type": "provlineage.transport.FileLogTransport", "path": str(log)}))
    spool = transport.deliveries[0].spool
    spool.directory.mkdir(parents=True)
    (spool.directory / "0000000000000001.json").write_bytes(b'{"run": {"runId": "x"')  # e.g. a disk error
    assert transport.emit(run_event(1)) is not None
    assert [json.loads(line)["job"]["name"] for line in log.read_text().splitlines()] == ["step-1"]
    assert spool.count() == 0
    (record,) = [json.loads(line) for line in spool.dead_letter_path.read_text().splitlines()]
    assert record["file"] == "0000000000000001.json" and record["eventText"] == '{"run": {"runId": "x"'
    assert "not a JSON event" in record["reason"]


def test_spool_entry_names_are_never_reused_and_back_off_doubles(tmp_path: Path) -> None:
    from provlineage._internal.spool import MAX_BACKOFF_SECONDS, Spool

    spool = Spool(tmp_path / "spool")
    with spool.locked() as queue:
        first = queue.append('{"a": 1}')
    with spool.draining() as drain:
        drain.remove(first)
    with spool.locked() as queue:
        second = queue.append('{"a": 2}')
    assert int(second[:16]) == int(first[:16]) + 1  # a name always means one event
    assert [spool.defer(2.0, "down") for _ in range(4)] == [2.0, 4.0, 8.0, 16.0]
    assert not spool.due() and spool.last_error() == "down"
    spool.clear()
    assert spool.due() and spool.defer(2.0, "down") == 2.0
    assert max(spool.defer(100.0, "down") for _ in range(5)) == MAX_BACKOFF_SECONDS


def test_a_healthy_network_backend_has_the_event_when_emit_returns(
    tmp_path: Path, key_dir: Path, marquez_server: Any
) -> None:
    """HTTP is sent after the chain lock by the sender thread; the emit waits for it (up to delivery_timeout)."""
    transport = build(signing(tmp_path, key_dir, http(marquez_server)))
    delivery = transport.deliveries[0]
    assert delivery.deferred and not transport.deliveries[0].spool.count()
    transport.emit(run_event(0))
    assert job_names(marquez_server) == ["step-0"] and delivery.spool.count() == 0
    assert transport.close()


def test_unusable_spool_sends_from_memory_after_the_lock(
    tmp_path: Path, key_dir: Path, marquez_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    transport = build(signing(tmp_path, key_dir, http(marquez_server), spool_dir=str(blocker)))
    with caplog.at_level("WARNING", logger="provlineage"):
        assert transport.emit(run_event(0)) is not None
    assert job_names(marquez_server) == ["step-0"]
    assert "sent without a safety net" in caplog.text


def test_append_never_replaces_an_entry_it_did_not_number(tmp_path: Path) -> None:
    from provlineage._internal.spool import Spool

    spool = Spool(tmp_path / "spool")
    with spool.locked() as queue:
        assert queue.append('{"a": 1}') == "0000000000000001.json"
    (spool.directory / "0000000000000002.json").write_text("put there behind the counter's back")
    (spool.directory / "0000000000000003.json").mkdir()
    with spool.locked() as queue:
        assert queue.append('{"a": 2}', sync=False) == "0000000000000004.json"
    assert (spool.directory / "0000000000000002.json").read_text() == "put there behind the counter's back"
    assert (spool.directory / "0000000000000004.json").read_text() == '{"a": 2}'
    assert not [name for name in os.listdir(spool.directory) if name.endswith(".tmp")]


def test_configurations_sharing_a_state_directory_never_send_each_others_events(tmp_path: Path, key_dir: Path) -> None:
    """Two projects, one state directory (the default one is per user), both with a backend named ``http``.

    Spooled by backend name alone, each process's sender sent the other's events to its own backend (observed:
    two projects emitting at once, each server received about a third of the other's events).
    """
    from fixtures.fault_server import FaultServer

    first, second = FaultServer(), FaultServer()
    try:
        first_port = int(first.url.rsplit(":", 1)[1])
        one, other = build(signing(tmp_path, key_dir, http(first))), build(signing(tmp_path, key_dir, http(second)))
        assert one.deliveries[0].spool.directory != other.deliveries[0].spool.directory
        first.stop()  # the first project's backend is down: its events wait in its spool
        for index in range(3):
            assert one.emit(run_event(index)) is not None
        assert one.deliveries[0].spool.count() == 3
        for index in range(10, 13):
            assert other.emit(run_event(index)) is not None
        other.close()
        assert job_names(second) == ["step-10", "step-11", "step-12"]  # none of the first project's
        config = tmp_path / "openlineage.yml"
        config.write_text(json.dumps({"transport": signing(tmp_path, key_dir, http(second))}))
        result = CliRunner().invoke(cli, ["flush", "--config", str(config)])
        assert result.exit_code == 1  # the other project's events wait: named, never sent here
        assert f"3 spooled events for http://127.0.0.1:{first_port}/api/v1/lineage" in result.output
        assert job_names(second) == ["step-10", "step-11", "step-12"]
        first = FaultServer(port=first_port)  # back at its address: its own configuration sends them
        config.write_text(json.dumps({"transport": signing(tmp_path, key_dir, http(first))}))
        assert CliRunner().invoke(cli, ["flush", "--config", str(config)]).exit_code == 0  # nothing else waits
        assert job_names(first) == ["step-0", "step-1", "step-2"]
    finally:
        first.stop()
        second.stop()


def test_a_spool_from_before_destinations_is_named_with_what_to_do(tmp_path: Path, key_dir: Path) -> None:
    from fixtures.fault_server import FaultServer

    server = FaultServer()
    try:
        legacy = tmp_path / "spool" / "http"  # how earlier versions named the spool of a backend called http
        legacy.mkdir(parents=True)
        (legacy / "0000000000000001.json").write_text(json.dumps({"run": {"runId": "x"}}))
        config = tmp_path / "openlineage.yml"
        config.write_text(json.dumps({"transport": signing(tmp_path, key_dir, http(server))}))
        result = CliRunner().invoke(cli, ["flush", "--config", str(config)])
        assert result.exit_code == 1
        assert "1 spooled events from before spools were kept per destination" in result.output
        assert server.events == []  # never sent on a guess
    finally:
        server.stop()
