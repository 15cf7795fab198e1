"""Delivery under faults (issue #10, findings 2 and 5): a hung or flapping backend delays delivery, never loses an
event and never blocks another process's emit; an unreadable spool entry is set aside and delivery goes on.

The backend is the local fault server of ``tests/fixtures/fault_server.py`` (a plain HTTP endpoint that hangs or
answers 5xx on cue; it is not a Marquez imitation).  Every scenario ends with every acknowledged event delivered
and ``provlineage verify`` exiting 0 on the file log and on what the server received.  No assertion is about
time: "does not block" is checked as "finished while the backend was still holding a request".  Set
``PROVLINEAGE_FAULT_ROUNDS`` to repeat the multi-process scenarios; they print their figures (run with ``-s``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.transport import get_default_factory
from openlineage.client.uuid import generate_new_uuid

from provlineage.cli import cli
from provlineage.transport import SigningTransport

from fixtures.fault_server import FaultServer

SIGNING = "provlineage.transport.SigningTransport"
FILE_LOG = "provlineage.transport.FileLogTransport"
ROUNDS = int(os.environ.get("PROVLINEAGE_FAULT_ROUNDS", "1"))
SAFETY = 120.0  # a join that never expires would hang the suite if delivery blocked; this is not a speed check

CHILD = """
import json, sys, time
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.transport import get_default_factory
from openlineage.client.uuid import generate_new_uuid

config, count, tag = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
transport = get_default_factory().create(config)
latencies = []
for index in range(count):
    event = RunEvent(eventType=RunState.COMPLETE, eventTime="2026-03-01T12:00:00Z",
                     run=Run(runId=str(generate_new_uuid())), job=Job(namespace="ml", name=f"{tag}-{index}"),
                     producer="https://example.com/tests")
    started = time.perf_counter()
    if transport.emit(event) is None:
        sys.exit(3)
    latencies.append(time.perf_counter() - started)
transport.close()
print(json.dumps({"max": max(latencies), "mean": sum(latencies) / len(latencies)}))
"""


def run_event(name: str) -> RunEvent:
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime="2026-03-01T12:00:00Z",
        run=Run(runId=str(generate_new_uuid())),
        job=Job(namespace="ml", name=name),
        producer="https://example.com/tests",
    )


def signing(tmp_path: Path, key_dir: Path, server: FaultServer, **extra: Any) -> dict[str, Any]:
    """File log + HTTP: openlineage-python's default HTTP retries, and a read timeout longer than any test."""
    return {
        "type": SIGNING,
        "private_key": str(key_dir / "private_key.pem"),
        "state_dir": str(tmp_path / "state"),
        "spool_dir": str(tmp_path / "spool"),
        "retry_interval": 0,
        "delivery_timeout": 0.5,
        "exit_timeout": 1,
        "lock_timeout": 5,
        "transport": {
            "type": "composite",
            "transports": {
                "server": {"type": "http", "url": server.url, "timeout": 3600},
                "file": {"type": FILE_LOG, "path": str(tmp_path / "events.jsonl")},
            },
        },
        **extra,
    }


def build(config: dict[str, Any]) -> SigningTransport:
    transport = get_default_factory().create(json.loads(json.dumps(config)))
    assert isinstance(transport, SigningTransport)
    return transport


def names_in(path: Path) -> list[str]:
    return [json.loads(line)["job"]["name"] for line in path.read_text().splitlines()] if path.exists() else []


def verify_exit(key_dir: Path, path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["verify", str(path), "--public-key", str(key_dir / "public_key.pem")])
    return result.exit_code, result.output


def assert_all_delivered(tmp_path: Path, key_dir: Path, server: FaultServer, expected: set[str]) -> None:
    """Every event is in the file log once and at the server once, each stream in order, and both verify."""
    log = tmp_path / "events.jsonl"
    assert sorted(names_in(log)) == sorted(expected)
    received = [event["job"]["name"] for event in server.events]
    assert sorted(received) == sorted(expected), "the server lacks or repeats events"
    by_stream: dict[str, list[int]] = {}
    for event in server.events:
        facet = event["run"]["facets"]["provlineage_signature"]
        by_stream.setdefault(facet["stream"], []).append(facet["sequence"])
    assert all(numbers == sorted(numbers) for numbers in by_stream.values()), "the server got a stream out of order"
    copy = tmp_path / "received.jsonl"
    copy.write_text("".join(json.dumps(event) + "\n" for event in server.events))
    for path in (log, copy):
        code, output = verify_exit(key_dir, path)
        assert code == 0, output
    assert not list((tmp_path / "spool").glob("*/*.json")), "events left in a spool"
    assert not list((tmp_path / "spool").glob("*/dead-letter.jsonl")), "events dead-lettered"


def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + SAFETY
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def flush(tmp_path: Path, config: dict[str, Any]) -> None:
    (tmp_path / "openlineage.yml").write_text(json.dumps({"transport": config}))
    result = CliRunner().invoke(cli, ["flush", "--config", str(tmp_path / "openlineage.yml")])
    assert result.exit_code == 0, result.output


def children(config: dict[str, Any], processes: int, count: int, tag: str) -> list[subprocess.Popen[str]]:
    return [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, json.dumps(config), str(count), f"{tag}p{number}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for number in range(processes)
    ]


def finish(procs: list[subprocess.Popen[str]]) -> list[dict[str, float]]:
    figures = []
    for proc in procs:
        out, err = proc.communicate(timeout=SAFETY)
        assert proc.returncode == 0, err[-2000:]
        figures.append(json.loads(out.strip().splitlines()[-1]))
    return figures


def test_a_hung_backend_does_not_hold_the_chain_lock(tmp_path: Path, key_dir: Path, fault_server: FaultServer) -> None:
    """Finding 2: while the backend holds one emit's request, another emitter still records its event at once."""
    config = signing(tmp_path, key_dir, fault_server)
    first, second = build(config), build(config)  # two emitters sharing one stream, as two processes would
    fault_server.hang()
    first.emit(run_event("first"))
    wait_for(lambda: fault_server.held >= 1, "the backend to hold a request")
    done = threading.Event()
    threading.Thread(target=lambda: (second.emit(run_event("second")), done.set()), daemon=True).start()
    assert done.wait(SAFETY)
    assert fault_server.held >= 1 and not fault_server.events  # the request is still hanging
    assert names_in(tmp_path / "events.jsonl") == ["first", "second"]  # recorded without waiting for it
    fault_server.release()
    flush(tmp_path, config)
    assert_all_delivered(tmp_path, key_dir, fault_server, {"first", "second"})


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_four_processes_emit_while_the_backend_hangs(
    tmp_path: Path, key_dir: Path, fault_server: FaultServer, round_: int
) -> None:
    """4 processes x 10 events while the HTTP backend hangs: all exit 0 before it answers; nothing is lost."""
    config = signing(tmp_path, key_dir, fault_server)
    fault_server.hang()
    figures = finish(children(config, 4, 10, "hung"))
    assert fault_server.held >= 1 and not fault_server.events  # every process finished while a request hung
    expected = {f"hungp{p}-{i}" for p in range(4) for i in range(10)}
    assert sorted(names_in(tmp_path / "events.jsonl")) == sorted(expected)  # the file backend got everything
    fault_server.release()
    flush(tmp_path, config)
    assert_all_delivered(tmp_path, key_dir, fault_server, expected)
    print(
        f"\nFIGURES hung round {round_}: 4 processes x 10 events, max emit "
        f"{max(f['max'] for f in figures) * 1000:.0f} ms, mean {sum(f['mean'] for f in figures) / 4 * 1000:.1f} ms "
        f"(delivery_timeout 0.5 s); held requests {fault_server.held}"
    )


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_processes_emit_while_the_backend_flaps(
    tmp_path: Path, key_dir: Path, fault_server: FaultServer, round_: int
) -> None:
    """A backend answering bursts of 503 gets every event exactly once, each stream in order."""
    config = signing(tmp_path, key_dir, fault_server)
    config["transport"]["transports"]["server"] = {"type": "http", "url": fault_server.url, "retry": {"total": 0}}
    fault_server.flap([503, 200, 200, 503, 503, 503, 200, 500])
    figures = finish(children(config, 2, 15, "flap"))
    fault_server.flap(None)
    flush(tmp_path, config)
    assert_all_delivered(tmp_path, key_dir, fault_server, {f"flapp{p}-{i}" for p in range(2) for i in range(15)})
    print(
        f"\nFIGURES flapping round {round_}: 2 processes x 15 events, {fault_server.requests} requests, "
        f"max emit {max(f['max'] for f in figures) * 1000:.0f} ms"
    )


def test_unreadable_spool_entries_are_set_aside(tmp_path: Path, key_dir: Path, fault_server: FaultServer) -> None:
    """Finding 5: damaged entries among good ones do not block delivery, and flush neither raises nor stalls."""
    config = signing(tmp_path, key_dir, fault_server)
    config["transport"]["transports"]["server"]["timeout"] = 5
    config["transport"]["transports"]["server"]["retry"] = {"total": 0}
    transport = build(config)
    spool = next(delivery.spool for delivery in transport.deliveries if delivery.target == "server")
    fault_server.stop()  # connection refused: events wait in the spool
    damage = {
        2: lambda path: path.mkdir(),  # not a file
        4: lambda path: path.write_bytes(b'{"job": "\xff\xfe"}'),  # not UTF-8
        6: lambda path: path.write_bytes(b'{"run": {"runId": "x"'),  # torn
        7: lambda path: path.write_text("[1, 2]"),  # JSON, not an event
        8: lambda path: path.symlink_to(tmp_path / "nowhere.json"),  # dangling link
    }
    for index in range(1, 10):
        if index in damage:
            damage[index](spool.directory / f"{index:016d}.json")
        else:
            transport.emit(run_event(f"e{index}"))
    good = {f"e{index}" for index in range(1, 10) if index not in damage}
    assert len(spool.pending()) == 9

    server = FaultServer(port=int(fault_server.url.rsplit(":", 1)[1]))  # the backend is back, at its address
    try:
        flush(tmp_path, config)
        assert [event["job"]["name"] for event in server.events] == sorted(good, key=lambda name: int(name[1:]))
        records = [json.loads(line) for line in spool.dead_letter_path.read_text().splitlines()]
        assert sorted(record["file"] for record in records) == sorted(f"{index:016d}.json" for index in damage)
        assert all("not a JSON event" in record["reason"] for record in records)
        assert sorted(path.name for path in (spool.directory / "unreadable").iterdir()) == sorted(
            f"{index:016d}.json" for index in damage
        )
        assert spool.pending() == []
        copy = tmp_path / "received.jsonl"
        copy.write_text("".join(json.dumps(event) + "\n" for event in server.events))
        assert verify_exit(key_dir, copy)[0] == 0
        assert verify_exit(key_dir, tmp_path / "events.jsonl")[0] == 0
    finally:
        server.stop()


def test_a_process_tries_its_spool_once_more_at_exit(tmp_path: Path, key_dir: Path, fault_server: FaultServer) -> None:
    """An event refused with a 503 during the job is sent by the exit drain when the back-off has passed."""
    config = signing(tmp_path, key_dir, fault_server)
    config["transport"]["transports"]["server"] = {"type": "http", "url": fault_server.url, "retry": {"total": 0}}
    fault_server.fail_next(1, status=503)
    finish(children(config, 1, 1, "exit"))
    assert [event["job"]["name"] for event in fault_server.events] == ["exitp0-0"]
    assert fault_server.requests == 2  # the refused try during the job, the one at exit
    assert_all_delivered(tmp_path, key_dir, fault_server, {"exitp0-0"})
