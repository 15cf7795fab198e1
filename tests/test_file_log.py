"""FileLogTransport: many real writer processes, a writer killed with SIGKILL mid-stream, torn last lines."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.transport import get_default_factory
from openlineage.client.uuid import generate_new_uuid

from provlineage.errors import ConfigError
from provlineage.facets import HyperparametersRunFacet
from provlineage.keys import Keyring
from provlineage.signature_check import Status
from provlineage.transport import FileLogConfig, FileLogTransport
from provlineage.verification import verify_files

SIGNING = "provlineage.transport.SigningTransport"
FILE_LOG = "provlineage.transport.FileLogTransport"


def run_event(index: int, payload_bytes: int = 0) -> RunEvent:
    facets: dict[str, Any] = {}
    if payload_bytes:
        facets["provlineage_hyperparameters"] = HyperparametersRunFacet(
            parameters={"blob": "x" * payload_bytes, "index": index}
        )
    return RunEvent(
        eventType=RunState.RUNNING,
        eventTime="2026-03-01T12:00:00Z",
        run=Run(runId=str(generate_new_uuid()), facets=facets),
        job=Job(namespace="ml", name=f"writer-{os.getpid()}"),
        producer="https://example.com/tests",
    )


def transport_config(log: Path, key_dir: Path, state_dir: Path) -> dict[str, Any]:
    return {
        "type": SIGNING,
        "private_key": str(key_dir / "private_key.pem"),
        "state_dir": str(state_dir),
        "strict": True,
        "transport": {"type": FILE_LOG, "path": str(log)},
    }


def _writer(config: dict[str, Any], count: int) -> None:
    transport = get_default_factory().create(config)
    for index in range(count):
        # every 25th event is larger than a pipe buffer and Python's write buffer: it must still land in one piece
        transport.emit(run_event(index, payload_bytes=200_000 if index % 25 == 0 else 0))
    transport.close()


def test_four_processes_append_to_one_log(tmp_path: Path, key_dir: Path) -> None:
    log = tmp_path / "logs" / "events.jsonl"
    config = transport_config(log, key_dir, tmp_path / "state")
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_writer, args=(config, 250)) for _ in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
        assert writer.exitcode == 0
    lines = log.read_text().splitlines()
    assert len(lines) == 1000
    assert all(line.startswith("{") and json.loads(line)["run"] for line in lines)
    report = verify_files([log], Keyring.from_files([key_dir / "public_key.pem"]))
    assert report.ok, report.to_json()["chain"][:3]
    # one host, one key, one state directory: the four processes continue one gap-free stream, in file order
    (stream,) = report.streams.values()
    assert (stream.count, stream.first_sequence, stream.last_sequence) == (1000, 1, 1000)
    assert [record.sequence for record in report.records] == list(range(1, 1001))
    assert len({json.loads(line)["job"]["name"] for line in lines}) == 4


_KILLABLE_WRITER = """
import sys
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.transport import get_default_factory
from openlineage.client.uuid import generate_new_uuid
from provlineage.facets import HyperparametersRunFacet
config = {config!r}
transport = get_default_factory().create(config)
index = 0
while True:
    facets = {{"provlineage_hyperparameters": HyperparametersRunFacet(parameters={{"blob": "y" * 2_000_000, "i": index}})}}
    transport.emit(RunEvent(eventType=RunState.RUNNING, eventTime="2026-03-01T12:00:00Z",
                            run=Run(runId=str(generate_new_uuid()), facets=facets), job=Job(namespace="ml", name="killed"),
                            producer="https://example.com/tests"))
    index += 1
"""


def test_writer_killed_mid_stream(tmp_path: Path, key_dir: Path) -> None:
    log = tmp_path / "events.jsonl"
    config = transport_config(log, key_dir, tmp_path / "state")
    script = tmp_path / "writer.py"
    script.write_text(_KILLABLE_WRITER.format(config=config))
    process = subprocess.Popen([sys.executable, str(script)])
    try:
        deadline = time.monotonic() + 60
        while (not log.exists() or log.stat().st_size < 12_000_000) and time.monotonic() < deadline:
            assert process.poll() is None, "the writer died on its own"
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    written_before = len(log.read_bytes().split(b"\n")) - 1

    _writer(config, 5)  # the next writer continues the log and the stream

    report = verify_files([log], Keyring.from_files([key_dir / "public_key.pem"]))
    assert [record.status for record in report.records] == [Status.VALID] * len(report.records)
    (stream,) = report.streams.values()
    assert stream.last_sequence == stream.count >= written_before + 5
    # the event being written at the kill is removed (torn) or kept (complete), and no gap is left either way
    assert report.ok and not report.chain


def test_torn_last_line_is_removed_by_the_next_writer(
    tmp_path: Path, key_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "events.jsonl"
    config = transport_config(log, key_dir, tmp_path / "state")
    _writer(config, 3)
    complete = log.read_text().splitlines()[1]
    with log.open("a") as handle:  # what a writer killed in the middle of its write leaves behind
        handle.write(complete[: len(complete) // 2])
    _writer(config, 2)
    lines = log.read_text().splitlines()
    assert len(lines) == 5 and complete[: len(complete) // 2] not in lines
    assert f"ended with {len(complete) // 2} bytes of an incomplete record" in caplog.text
    report = verify_files([log], Keyring.from_files([key_dir / "public_key.pem"]))
    assert [record.status for record in report.records] == [Status.VALID] * 5
    assert report.ok and not report.chain


def test_durability_settings(tmp_path: Path) -> None:
    always = FileLogTransport(
        FileLogConfig.from_dict({"path": f"file://{tmp_path}/a/b/events.jsonl", "durability": "always"})
    )
    always.emit(run_event(1))
    assert always.path == tmp_path / "a" / "b" / "events.jsonl"
    assert always.close() is True
    default = FileLogConfig.from_dict({"path": str(tmp_path / "x.jsonl")})
    assert (default.durability, default.fsync_interval) == ("interval", 1.0)
    never = FileLogTransport(FileLogConfig.from_dict({"path": str(tmp_path / "n.jsonl"), "durability": "never"}))
    never.emit(run_event(2))
    assert len((tmp_path / "n.jsonl").read_text().splitlines()) == 1
    with pytest.raises(ConfigError, match="durability"):
        FileLogConfig.from_dict({"path": "x", "durability": "sometimes"})
    with pytest.raises(ConfigError, match="fsync_interval"):
        FileLogConfig.from_dict({"path": "x", "fsync_interval": "soon"})


def test_threads_and_forked_children_share_cached_descriptors_safely(tmp_path: Path, key_dir: Path) -> None:
    """Descriptors stay open between events: threads of one process, and children forked after the parent emitted
    (which inherit them), must still take turns, or the chain would show conflicts."""
    import threading

    log = tmp_path / "events.jsonl"
    transport = get_default_factory().create(transport_config(log, key_dir, tmp_path / "state"))
    transport.emit(run_event(0))  # the parent now holds open descriptors of the state file and the log
    children = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 0
            try:
                for index in range(40):
                    transport.emit(run_event(index))
            except BaseException:
                code = 1
            os._exit(code)
        children.append(pid)
    threads = [
        threading.Thread(target=lambda: [transport.emit(run_event(index)) for index in range(40)]) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for pid in children:
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    report = verify_files([log], Keyring.from_files([key_dir / "public_key.pem"]))
    assert report.ok, report.chain[:3]
    (stream,) = report.streams.values()
    assert (stream.count, stream.last_sequence) == (201, 201)


def test_a_last_line_that_is_not_a_record_is_kept(tmp_path: Path, key_dir: Path) -> None:
    """Only a cut-off record (it starts with ``{``) is removed; other text left without a newline is kept."""
    log = tmp_path / "events.jsonl"
    log.write_text("# written by hand, no newline")
    _writer(transport_config(log, key_dir, tmp_path / "state"), 1)
    lines = log.read_text().splitlines()
    assert lines[0] == "# written by hand, no newline" and len(lines) == 2
