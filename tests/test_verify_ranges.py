"""Logs checked on several processes, each reading its own byte range: the same answer as one process reading all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_verify_log import signed_events

from provlineage._internal import forked
from provlineage.errors import ProvlineageError
from provlineage.keys import Keyring
from provlineage.signature_check import Status
from provlineage.signing import signed_event_text
from provlineage.verification import Report, verify_files
from provlineage.verification.ranges import plan_ranges
from provlineage.verification.reading import read_log, read_segment


def _answer(report: Report) -> tuple[object, ...]:
    """Everything a report says, except which of two equivalent proofs authenticated a record (a range's last
    record is checked by its own signature instead of its successor's link)."""
    records = [
        (r.source, r.line, r.status, r.reason, r.digest, r.stream, r.sequence, r.withheld) for r in report.records
    ]
    return records, report.chain, report.streams, report.ok


@pytest.fixture
def keyring(key_dir: Path) -> Keyring:
    return Keyring.from_files([key_dir / "public_key.pem"])


@pytest.fixture
def awkward_logs(tmp_path: Path, key_dir: Path) -> list[Path]:
    """Three files of one log: blank lines, CRLF, bad UTF-8, a tampered and a torn record, an empty file, no final
    newline; stream ``host/s`` runs across the first two files."""
    texts = [signed_event_text(event) for event in signed_events(key_dir, 60)]
    texts[17] = texts[17].replace('"name":"job"', '"name":"jab"')  # tampered
    first = "\n".join(texts[:25]) + "\n\n   \n" + texts[25] + "\r\n" + "\n".join(texts[26:30]) + "\n"
    second = b"\xff\xfe not utf-8 \xc3\n" + ("\n".join(texts[30:59]) + "\n" + texts[59][:200]).encode()
    other = [signed_event_text(event) for event in signed_events(key_dir, 7, stream="host/other")]
    paths = [tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "empty.jsonl", tmp_path / "c.jsonl"]
    paths[0].write_text(first)
    paths[1].write_bytes(second)
    paths[2].write_text("")
    paths[3].write_text("\n".join(other))  # no final newline
    return paths


# Run in a fresh interpreter: forking is refused while other threads run, as they may in this test process.
_COMPARE_IN_ONE_THREAD = """
import pickle, sys
from provlineage.keys import Keyring
from provlineage._internal import forked
from provlineage.verification import verify_files
from test_verify_ranges import _answer

paths, keyring = sys.argv[2:], Keyring.from_files([sys.argv[1]])
serial = _answer(verify_files(paths, keyring, workers=1))
forks = []
start = forked.start
forked.start = lambda work: forks.append(1) or start(work)
for workers in (2, 3, 4, 7, 40):
    forks.clear()
    assert _answer(verify_files(paths, keyring, workers=workers)) == serial, workers
    assert len(forks) == workers - 1 or (workers > 4 and forks), (workers, len(forks))  # some of 40 are empty
events = [r.event for r in verify_files(paths, keyring, keep_events=True, workers=1).records]
assert [r.event for r in verify_files(paths, keyring, keep_events=True, workers=3).records] == events  # lineage
assert any(events)
pickle.dumps = lambda *_, **__: 1 / 0  # every child dies before it answers: the parent checks its range
assert _answer(verify_files(paths, keyring, workers=3)) == serial
print("same answer")
"""


def test_ranges_give_the_serial_answer(awkward_logs: list[Path], keyring: Keyring, key_dir: Path) -> None:
    """2, 3, 4, 7 and 40 processes, and children that fail, give the one-process answer on awkward logs."""
    serial = verify_files(awkward_logs, keyring, workers=1)
    assert {r.status for r in serial.records} >= {Status.VALID, Status.FAILED, Status.MALFORMED, Status.TORN}
    tests = Path(__file__).parent
    done = subprocess.run(
        [sys.executable, "-c", _COMPARE_IN_ONE_THREAD, str(key_dir / "public_key.pem"), *map(str, awkward_logs)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tests), os.environ.get("PYTHONPATH", "")])},
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == "same answer", done.stderr[-2000:]


def test_other_threads_mean_no_fork(
    awkward_logs: list[Path], keyring: Keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = _answer(verify_files(awkward_logs, keyring, workers=1))
    monkeypatch.setattr(forked.threading, "active_count", lambda: 2)
    assert not forked.fork_allowed()
    assert _answer(verify_files(awkward_logs, keyring, workers=2)) == serial


def test_a_pipe_is_read_whole(awkward_logs: list[Path], keyring: Keyring, tmp_path: Path) -> None:
    """``verify --workers 2 <(zcat log.gz)``: a pipe has no size to split; it is read on one process."""
    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)
    data = awkward_logs[0].read_bytes()
    writer = subprocess.Popen([sys.executable, "-c", f"open({str(fifo)!r}, 'wb').write({data!r})"])
    try:
        piped = verify_files([fifo], keyring, workers=2)
    finally:
        writer.wait(timeout=30)
    whole = verify_files([awkward_logs[0]], keyring, workers=1)
    assert [(r.line, r.status, r.digest) for r in piped.records] == [
        (r.line, r.status, r.digest) for r in whole.records
    ]
    assert len(piped.records) == 30  # the first file: 30 events, blank lines and a CRLF line among them


def test_unreadable_logs_are_named_before_any_work(tmp_path: Path, keyring: Keyring) -> None:
    with pytest.raises(ProvlineageError, match="does not exist"):
        verify_files([tmp_path / "missing.jsonl"], keyring, workers=2)
    with pytest.raises(ProvlineageError, match="is a directory"):
        verify_files([tmp_path], keyring, workers=2)


@settings(max_examples=150, deadline=None)
@given(
    files=st.lists(
        st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")), max_size=8).map(b"\n".join),
        min_size=1,
        max_size=4,
    ),
    count=st.integers(1, 9),
)
def test_ranges_cover_every_line_once(tmp_path_factory: pytest.TempPathFactory, files: list[bytes], count: int) -> None:
    """Whatever the sizes, ranges cover each file exactly once, in order, cut only just after a newline."""
    folder = tmp_path_factory.mktemp("logs")
    sizes = []
    for index, data in enumerate(files):
        path = folder / f"{index}.jsonl"
        path.write_bytes(data)
        sizes.append((str(path), len(data)))
    ranges = plan_ranges(sizes, count)
    assert len(ranges) == count
    segments = [segment for segments in ranges for segment in segments]
    for path, size in sizes:
        mine = [s for s in segments if s.path == path]
        assert [s.start for s in mine] == [0, *(s.stop for s in mine)][: len(mine)]  # contiguous, from 0
        assert (mine[-1].stop if mine else 0) == size
        data = Path(path).read_bytes()
        assert all(s.start == 0 or data[s.start - 1 : s.start] == b"\n" for s in mine)
        pieced, before = [], 0
        for segment in mine:
            lines, physical = read_segment(segment)
            pieced += [(source, before + number, text) for source, number, text in lines]
            before += physical
        assert pieced == read_log(path)
