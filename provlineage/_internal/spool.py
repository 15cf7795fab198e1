"""A durable, ordered queue of signed events waiting for one backend, plus its dead-letter file.

Layout of one spool directory (one per inner transport, ``<spool_dir>/<transport name>/``)::

    .queue                    lock taken to append; holds the last entry number given out
    .drain                    lock taken to send; holds when the next re-send may be tried and the last error
    .destination              where the events go (a URL, a file URI, a topic), written with the directory
    0000000000000001.json     one signed event per file (its exact JSON line), in sending order
    dead-letter.jsonl         events the backend refused (4xx) and entries that could not be read, with the reason
    unreadable/               entries that could not be read, kept byte for byte (named in dead-letter.jsonl)

Two locks, so that appending never waits for the network: a writer holds ``.queue`` only while it writes one
file (local, bounded work, done under the chain lock); a sender holds ``.drain`` while it sends, so two processes
never send the same entry, and it is the only one that removes entries.  Entry numbers come from a counter in
``.queue`` and are never reused, so a name always means one event and the oldest pending entry is the next to send.

Each entry is written to a temporary name and linked into place under a free number (an existing name is never
replaced), so a half-written entry is never sent and a killed process loses nothing.  Entries of a network backend
are fsynced (file and directory) only when they are not sent within the emit (:meth:`Spool.sync`), so an entry
that waits survives an OS crash too, while a healthy backend costs no disk flush.  Delivery is at least once: a
crash between a successful send and the removal of the entry (removals are not fsynced) sends the event again,
which the verifier then reports as a duplicate.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from provlineage._internal.fdlock import locked_open

QUEUE_FILE = ".queue"
DRAIN_FILE = ".drain"
DEAD_LETTER_FILE = "dead-letter.jsonl"
DESTINATION_FILE = ".destination"
UNREADABLE_DIR = "unreadable"
_EVENT_FILE = re.compile(r"^(\d{16})\.json$")
_RECORD = 1024
#: Longest wait between re-sends when a backend keeps failing (the wait doubles from ``retry_interval``).
MAX_BACKOFF_SECONDS = 300.0


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform lets a directory be opened and synced
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _read_record(fd: int) -> dict[str, Any]:
    raw = os.pread(fd, _RECORD, 0)
    try:
        value = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _write_record(fd: int, record: dict[str, Any]) -> None:
    data = json.dumps(record, ensure_ascii=True).encode()[: _RECORD - 1]
    os.pwrite(fd, data.ljust(_RECORD - 1) + b"\n", 0)


def _entries(directory: Path) -> list[str]:
    try:
        return sorted(name for name in os.listdir(directory) if _EVENT_FILE.match(name))
    except FileNotFoundError:
        return []


class SpoolQueue:
    """A spool directory while its append lock is held (writers; local work only)."""

    def __init__(self, directory: Path, fd: int) -> None:
        self.directory = directory
        self._fd = fd
        self._cleaned = False

    def pending(self) -> list[str]:
        """Names of the spooled events, oldest first (a sender may remove some meanwhile)."""
        if not self._cleaned:  # temporary files left by a writer that crashed: only append-lock holders write them
            self._cleaned = True
            for name in os.listdir(self.directory):
                if name.endswith(".tmp"):
                    with contextlib.suppress(OSError):
                        os.unlink(self.directory / name)
        return _entries(self.directory)

    def append(self, text: str, *, sync: bool = True) -> str:
        """Store one event at the end of the queue and return its entry name.

        ``sync=False`` leaves the fsync to :meth:`Spool.sync` (for an entry that is about to be sent anyway): the
        entry survives the process being killed, and only an OS crash before the sync can lose it.
        """
        last = _read_record(self._fd).get("last")
        if not isinstance(last, int) or last % 1000 == 0:  # no counter yet, or now and then: look at the files
            names = self.pending()
            last = max(last if isinstance(last, int) else 0, int(names[-1][:16]) if names else 0)
        temporary = self.directory / f".{last + 1:016d}.json.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            data = memoryview(text.encode("utf-8"))
            while data:
                data = data[os.write(fd, data) :]
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        number = self._place(temporary, last + 1)
        if sync:
            _fsync_dir(self.directory)
        _write_record(self._fd, {"last": number})
        return f"{number:016d}.json"

    def _place(self, temporary: Path, number: int) -> int:
        """Give the written file the first free entry name from ``number`` on, never replacing an existing entry."""
        while True:
            final = self.directory / f"{number:016d}.json"
            try:
                os.link(temporary, final)  # fails if anything (a file, a directory, a link) has that name
            except FileExistsError:
                names = _entries(self.directory)
                number = max(number, int(names[-1][:16]) if names else 0) + 1
                continue
            except OSError:  # no hard links here: check, then rename (append-lock holders are the only writers)
                if os.path.lexists(final):
                    number += 1
                    continue
                os.replace(temporary, final)
                return number
            os.unlink(temporary)
            return number


class SpoolDrain:
    """A spool directory while its send lock is held (the only holder that removes entries)."""

    def __init__(self, directory: Path, fd: int) -> None:
        self.directory = directory
        self._fd = fd

    def pending(self) -> list[str]:
        """Names of the spooled events, oldest first (writers may add more meanwhile)."""
        return _entries(self.directory)

    def read(self, name: str) -> str:
        return (self.directory / name).read_text(encoding="utf-8")

    def remove(self, name: str) -> None:
        """Drop a sent entry (not fsynced: after an OS crash it may come back and be sent twice, never lost)."""
        os.unlink(self.directory / name)

    def set_aside(self, name: str, *, target: str, reason: str) -> Path:
        """Move an entry that cannot be sent to ``unreadable/`` (bytes kept) and say why in ``dead-letter.jsonl``.

        Raises :class:`OSError` only when the entry can be neither moved nor read.
        """
        source = self.directory / name
        aside = self.directory / UNREADABLE_DIR / name
        record: dict[str, Any] = {"transport": target, "file": name, "reason": reason}
        try:
            aside.parent.mkdir(exist_ok=True, mode=0o700)
            os.replace(source, aside)
            _fsync_dir(self.directory)
            record["keptAt"] = str(aside)
        except OSError as error:  # cannot move it: keep its bytes in the dead-letter record, then drop it
            raw = source.read_bytes()
            record.update(eventText=raw.decode("utf-8", "backslashreplace"), moveError=str(error))
            os.unlink(source)
        with contextlib.suppress(OSError):  # lossless view of small text entries, for the reader's convenience
            if "eventText" not in record and aside.stat().st_size <= 1_000_000:
                record["eventText"] = aside.read_bytes().decode("utf-8", "backslashreplace")
        return _append_dead_letter(self.directory, record)


def _append_dead_letter(directory: Path, fields: dict[str, Any]) -> Path:
    record = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"), **fields}
    path = directory / DEAD_LETTER_FILE
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


class Spool:
    """The spool directory of one backend."""

    def __init__(self, directory: Path, *, lock_timeout: float = 30.0, destination: str | None = None) -> None:
        self.directory = directory
        self.lock_timeout = lock_timeout
        self.destination = destination

    def _make_directory(self) -> None:
        """Create the spool directory (0700), recording its destination in ``.destination`` when it has one."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        marker = self.directory / DESTINATION_FILE
        if self.destination is not None and not marker.exists():
            temporary = self.directory / f"{DESTINATION_FILE}.{os.getpid()}"
            temporary.write_text(self.destination + "\n", encoding="utf-8", errors="surrogateescape")
            os.replace(temporary, marker)

    def recorded_destination(self) -> str | None:
        """The destination in ``.destination`` (``None`` for spools written before it was recorded)."""
        try:
            text = (self.directory / DESTINATION_FILE).read_text(encoding="utf-8", errors="surrogateescape")
        except OSError:
            return None
        return text.strip() or None

    @property
    def dead_letter_path(self) -> Path:
        return self.directory / DEAD_LETTER_FILE

    @contextlib.contextmanager
    def _locked(self, name: str, timeout: float) -> Iterator[int]:
        path = self.directory / name
        with contextlib.ExitStack() as stack:
            try:
                fd = stack.enter_context(locked_open(path, os.O_RDWR, timeout=timeout, mode=0o600))
            except FileNotFoundError:
                self._make_directory()
                fd = stack.enter_context(locked_open(path, os.O_RDWR, timeout=timeout, mode=0o600))
            yield fd

    @contextlib.contextmanager
    def locked(self) -> Iterator[SpoolQueue]:
        """Hold the append lock (never held across network I/O, so waiting for it is short)."""
        with self._locked(QUEUE_FILE, self.lock_timeout) as fd:
            yield SpoolQueue(self.directory, fd)

    @contextlib.contextmanager
    def draining(self, timeout: float | None = None) -> Iterator[SpoolDrain]:
        """Hold the send lock (raises :class:`~provlineage.errors.LockTimeout` after ``timeout`` seconds)."""
        with self._locked(DRAIN_FILE, self.lock_timeout if timeout is None else timeout) as fd:
            yield SpoolDrain(self.directory, fd)

    def pending(self) -> list[str]:
        """Spooled entries, oldest first (without a lock; for reports and checks)."""
        return _entries(self.directory)

    def count(self) -> int:
        """Spooled events (without taking a lock; for reports)."""
        return len(_entries(self.directory))

    def sync(self, name: str) -> None:
        """Make an entry written with ``sync=False`` durable (nothing to do when it was sent meanwhile)."""
        try:
            fd = os.open(self.directory / name, os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        _fsync_dir(self.directory)

    def holds(self, name: str) -> bool:
        """Whether entry ``name`` is still waiting (names are never reused)."""
        return (self.directory / name).exists()

    def dead_letter(self, text: str, *, target: str, status: int | None, reason: str) -> Path:
        """Append a refused event, with the status and the server's answer, to ``dead-letter.jsonl``."""
        return _append_dead_letter(
            self.directory, {"transport": target, "status": status, "reason": reason, "event": json.loads(text)}
        )

    # When to try again: one pread/pwrite of the ``.drain`` record each, no lock needed.
    @contextlib.contextmanager
    def _record_fd(self) -> Iterator[int]:
        try:
            fd = os.open(self.directory / DRAIN_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:
            self._make_directory()
            fd = os.open(self.directory / DRAIN_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            yield fd
        finally:
            os.close(fd)

    def _record(self) -> dict[str, Any]:
        try:
            fd = os.open(self.directory / DRAIN_FILE, os.O_RDONLY)
        except OSError:
            return {}
        try:
            return _read_record(fd)
        finally:
            os.close(fd)

    def due(self) -> bool:
        """Whether a re-send may be tried now (the back-off after the last failure has passed)."""
        retry_at = self._record().get("retryAt")
        return not isinstance(retry_at, (int, float)) or time.time() >= retry_at

    def defer(self, seconds: float, error: str) -> float:
        """Remember a failure: no re-send for ``seconds``, doubled for each failure in a row (up to a cap).

        Returns the wait chosen.  ``provlineage flush`` ignores it.
        """
        with self._record_fd() as fd:
            failures = _read_record(fd).get("failures")
            failures = failures + 1 if isinstance(failures, int) else 1
            wait = min(seconds * 2 ** min(failures - 1, 20), max(seconds, MAX_BACKOFF_SECONDS))
            _write_record(fd, {"retryAt": time.time() + wait, "failures": failures, "lastError": error[:600]})
        return wait

    def last_error(self) -> str | None:
        """The last send failure recorded."""
        error = self._record().get("lastError")
        return error if isinstance(error, str) else None

    def clear(self) -> None:
        """The backend took an event: forget the failures."""
        if self._record():
            with self._record_fd() as fd:
                _write_record(fd, {})
