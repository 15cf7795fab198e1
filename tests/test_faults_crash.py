"""Faults an honest writer meets: ``kill -9`` at any point of an emit, and a disk that fills up mid-write.

Real forked writer processes, real SIGKILL, real files; the disk-full cases use a real small tmpfs (needs root to
mount; skipped with the reason otherwise, failed under ``CI=true``) and a real file size limit (``RLIMIT_FSIZE``:
the kernel makes a short write and then fails with EFBIG, the same path as ENOSPC).  Every test ends the way
an auditor would: every event whose ``emit`` returned is in the log, and ``verify`` finds nothing wrong.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import resource
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.transport import get_default_factory
from openlineage.client.uuid import generate_new_uuid

from provlineage.facets import HyperparametersRunFacet
from provlineage.keys import Keyring
from provlineage.verification import Report, verify_files
from tests.fixtures.prerequisites import skip_or_fail

SIGNING = "provlineage.transport.SigningTransport"
FILE_LOG = "provlineage.transport.FileLogTransport"
SOAK_SECONDS = float(os.environ.get("PROVLINEAGE_FAULT_SECONDS", "12"))


def event(payload_bytes: int = 0) -> RunEvent:
    parameters: dict[str, Any] = {"lr": 0.01}
    if payload_bytes:
        parameters["blob"] = "z" * payload_bytes
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime="2026-03-01T12:00:00Z",
        run=Run(
            runId=str(generate_new_uuid()), facets={"provlineage_hyperparameters": HyperparametersRunFacet(parameters)}
        ),
        job=Job(namespace="ml", name="faults"),
        producer="https://example.com/tests",
    )


def config_for(log: Path, key_dir: Path, state: Path, **extra: Any) -> dict[str, Any]:
    return {
        "type": SIGNING,
        "private_key": str(key_dir / "private_key.pem"),
        "state_dir": str(state),
        "transport": {"type": FILE_LOG, "path": str(log), **extra},
    }


def emit_acknowledged(config: dict[str, Any], acks: Path, count: int, large_every: int = 0, large: int = 0) -> None:
    """Emit ``count`` events (forever when 0), writing each run id to ``acks`` once its emit returned."""
    transport = get_default_factory().create(config)
    index = 0
    while not count or index < count:
        item = event(large if large_every and index % large_every == large_every - 1 else 0)
        if transport.emit(item) is not None:
            with acks.open("a") as handle:
                handle.write(item.run.runId + "\n")
        index += 1


def fork(target: Callable[[], None]) -> int:
    """Run ``target`` in a forked child (which never returns into pytest)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            logging.disable(logging.CRITICAL)
            target()
        except BaseException:
            code = 1
        os._exit(code)
    return pid


def kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def audit(log: Path, acks: Path, key_dir: Path) -> Report:
    """Every acknowledged event is in the log, and the log verifies."""
    report = verify_files([log], Keyring.from_files([key_dir / "public_key.pem"]), keep_events=True)
    present = {record.event["run"]["runId"] for record in report.records if record.event}
    acknowledged = set(acks.read_text().split()) if acks.exists() else set()
    assert acknowledged <= present, f"{len(acknowledged - present)} acknowledged events are missing"
    assert report.ok, ([r.to_json() for r in report.problems()][:3], report.chain[:3])
    return report


def ends_torn(log: Path) -> bool:
    if not log.exists() or not log.stat().st_size:
        return False
    with log.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) != b"\n"


def pending_reservation(state: Path) -> bool:
    (chain,) = state.glob("*.chain")
    return "pending" in json.loads(chain.read_bytes())


# --- kill -9 at chosen points -------------------------------------------------------------------------------
def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _kill_in_the_middle_of_the_write() -> None:
    real = os.write

    def half(fd: int, data: Any) -> int:
        if len(data) > 10_000:
            real(fd, bytes(data[: len(data) // 2]))
            _die()
        return real(fd, data)

    os.write = half  # type: ignore[assignment]


def _kill_after_the_write() -> None:
    from provlineage._internal.chain_state import StreamCursor

    StreamCursor.commit = lambda self: _die()  # type: ignore[method-assign]


def _kill_before_the_write() -> None:
    from provlineage.transport.file_log import OpenLog

    OpenLog.append = lambda self, data: _die()  # type: ignore[method-assign]


@pytest.mark.parametrize(
    "arm", [_kill_in_the_middle_of_the_write, _kill_after_the_write, _kill_before_the_write], ids=lambda f: f.__name__
)
def test_kill_at_each_point_of_an_emit_leaves_a_verifiable_log(
    tmp_path: Path, key_dir: Path, arm: Callable[[], None]
) -> None:
    log, acks, state = tmp_path / "events.jsonl", tmp_path / "acks", tmp_path / "state"
    config = config_for(log, key_dir, state)
    emit_acknowledged(config, acks, 3)

    def crashing_writer() -> None:
        transport = get_default_factory().create(config)
        arm()
        transport.emit(event(payload_bytes=50_000))

    pid = fork(crashing_writer)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert pending_reservation(state)  # the crash left the event half-recorded
    emit_acknowledged(config, acks, 2)  # the next writer finishes or drops it
    report = audit(log, acks, key_dir)
    (stream,) = report.streams.values()
    completed = arm is _kill_after_the_write  # the line was complete: it is kept and counted
    assert (stream.count, stream.last_sequence) == (6, 6) if completed else (5, 5)
    assert not pending_reservation(state)


def test_kill_after_handing_an_event_to_a_spooled_backend_completes_it(tmp_path: Path, key_dir: Path) -> None:
    """File log + an HTTP backend that is down: the writer dies after the event reached the HTTP spool."""
    import socket

    from provlineage.transport.delivery import Delivery

    with socket.socket() as probe:  # a port nothing listens on: connection refused, the event stays spooled
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log, acks, state = tmp_path / "events.jsonl", tmp_path / "acks", tmp_path / "state"
    config = {
        "type": SIGNING,
        "private_key": str(key_dir / "private_key.pem"),
        "state_dir": str(state),
        "delivery_timeout": 0.1,
        "exit_timeout": 0.1,
        "transport": {
            "type": "composite",
            "transports": {
                "file": {"type": FILE_LOG, "path": str(log)},
                "down": {"type": "http", "url": f"http://127.0.0.1:{port}", "retry": {"total": 0}},
            },
        },
    }
    emit_acknowledged(config, acks, 1)

    def crashing_writer() -> None:
        transport = get_default_factory().create(config)
        real = Delivery.emit

        def emit_then_die(self: Delivery, event: Any) -> None:
            real(self, event)
            if self.target == "down":
                _die()

        Delivery.emit = emit_then_die  # type: ignore[method-assign]
        transport.emit(event())

    pid = fork(crashing_writer)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status)
    assert pending_reservation(state)
    emit_acknowledged(config, acks, 1)  # reconciles: the half-recorded event is completed everywhere
    report = audit(log, acks, key_dir)
    (stream,) = report.streams.values()
    assert (stream.count, stream.last_sequence) == (3, 3)
    spooled = [json.loads(path.read_text()) for path in sorted((state / "spool").glob("down@*/0*.json"))]
    sequences = [entry["run"]["facets"]["provlineage_signature"]["sequence"] for entry in spooled]
    assert set(sequences) == {1, 2, 3} and len(sequences) <= 4  # at least once: a second copy of 2 at most


# --- kill -9 at random points, many rounds ------------------------------------------------------------------
def test_random_kills_of_concurrent_writers_small_and_large_events(tmp_path: Path, key_dir: Path) -> None:
    """Writers (one or two at once) killed at random moments; every fourth round writes 8 MB events."""
    log, acks, state = tmp_path / "events.jsonl", tmp_path / "acks", tmp_path / "state"
    config = config_for(log, key_dir, state)
    rng = random.Random(20261130)
    rounds = torn = reservations = 0
    deadline = time.monotonic() + SOAK_SECONDS
    while time.monotonic() < deadline:
        large = rounds % 4 == 3
        writers = [
            fork(lambda every=int(large): emit_acknowledged(config, acks, 0, large_every=every, large=8_000_000))
            for _ in range(rng.choice((1, 2)))
        ]
        started = acks.stat().st_size if acks.exists() else 0
        ready = time.monotonic() + 10
        while (not acks.exists() or acks.stat().st_size == started) and time.monotonic() < ready:
            time.sleep(0.002)  # kill them while they emit, not while they start
        time.sleep(rng.uniform(0, 0.4) if large else rng.uniform(0, 0.03))
        for pid in writers:
            kill(pid)
        rounds += 1
        torn += ends_torn(log)
        reservations += state.exists() and pending_reservation(state)
    emit_acknowledged(config, acks, 3)
    report = audit(log, acks, key_dir)
    (stream,) = report.streams.values()
    assert stream.count == stream.last_sequence == len(report.records)
    print(
        f"\n{rounds} rounds of kill -9: {torn} left a torn record, {reservations} an open reservation; "
        f"{len(report.records)} events, all acknowledged ones present, verify ok"
    )
    assert rounds >= 20


# --- a full disk --------------------------------------------------------------------------------------------
@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs (mounting needs root)."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if result.returncode != 0:
        skip_or_fail(f"cannot mount a small tmpfs for the disk-full test ({result.stderr.strip() or 'not root'})")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_disk_full_mid_write_rolls_back_and_says_so(
    tmp_path: Path, key_dir: Path, small_filesystem: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log, acks, state = small_filesystem / "events.jsonl", tmp_path / "acks", tmp_path / "state"
    transport = get_default_factory().create(config_for(log, key_dir, state))
    acknowledged = []
    for _ in range(12):  # ~30 KB each: the disk fills on the ninth or so, part-way through its write
        item = event(payload_bytes=30_000)
        assert transport.emit(item) is not None  # stored: in the log, or in the spool once the disk is full
        acknowledged.append(item.run.runId)
    assert "the disk is full (ENOSPC) after" in caplog.text and "rolled back" in caplog.text
    assert "killed mid-write" not in caplog.text
    assert log.read_bytes().endswith(b"\n")  # no partial record left behind
    before = verify_files([log], Keyring.from_files([key_dir / "public_key.pem"]))
    assert before.ok and len(before.records) < 12
    subprocess.run(["mount", "-o", "remount,size=4m", str(small_filesystem)], check=True)
    (result,) = transport.flush()
    assert result.remaining == 0 and result.sent == 12 - len(before.records)
    acks.write_text("\n".join(acknowledged) + "\n")
    report = audit(log, acks, key_dir)
    assert len(report.records) == 12


def test_file_size_limit_mid_write_rolls_back(tmp_path: Path, key_dir: Path) -> None:
    """RLIMIT_FSIZE: the kernel writes what fits, then fails with EFBIG (no root needed)."""
    log, acks, state = tmp_path / "events.jsonl", tmp_path / "acks", tmp_path / "state"
    config = config_for(log, key_dir, state)
    emit_acknowledged(config, acks, 20, large_every=1, large=30_000)
    size = log.stat().st_size  # ~600 KB: the limit below lets the journal and spool files (60 KB) be written

    def limited_writer() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 20_000, resource.RLIM_INFINITY))
        emit_acknowledged(config, acks, 1, large_every=1, large=60_000)

    pid = fork(limited_writer)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert log.stat().st_size == size  # the part that fit was rolled back
    spooled = list((state / "spool").rglob("0*.json"))
    assert len(spooled) == 1
    transport = get_default_factory().create(config)
    (result,) = transport.flush()
    assert result.sent == 1
    emit_acknowledged(config, acks, 2)
    assert len(audit(log, acks, key_dir).records) == 23
