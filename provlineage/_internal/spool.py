"""A durable, ordered queue of signed events waiting for one backend, plus its dead-letter file.

Layout of one spool directory (one per inner transport, ``<spool_dir>/<transport name>/``)::

    .queue                    lock file; holds when the next re-send may be tried and the last error
    0000000000000001.json     one signed event per file (its exact JSON line), in sending order
    dead-letter.jsonl         events the backend refused (4xx), with the status and the server's answer

Each event file is written to a temporary name, fsynced, renamed into place and the directory fsynced, so a
spooled event survives a crash of the process or of the OS, and a half-written one is never sent.  Files are
numbered one past the highest present; everything happens under an exclusive lock on ``.queue``, so writers
and the re-sender (``provlineage flush`` or a later emit) agree on the order.  Delivery is at least once: a
crash between a successful send and the removal of the file sends the event again, which the verifier then
reports as a duplicate.
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
DEAD_LETTER_FILE = "dead-letter.jsonl"
_EVENT_FILE = re.compile(r"^(\d{16})\.json$")
_QUEUE_RECORD = 1024


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform lets a directory be opened and synced
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class SpoolQueue:
    """A spool directory while its lock is held."""

    def __init__(self, directory: Path, fd: int) -> None:
        self.directory = directory
        self._fd = fd
        self._names: list[str] | None = None

    # --- pending events ------------------------------------------------------------------------------------
    def pending(self) -> list[str]:
        """Names of the spooled events, oldest first."""
        if self._names is None:
            names = []
            for name in os.listdir(self.directory):
                if _EVENT_FILE.match(name):
                    names.append(name)
                elif name.endswith(".tmp"):  # left by a writer that crashed: only lock holders write
                    with contextlib.suppress(OSError):
                        os.unlink(self.directory / name)
            self._names = sorted(names)
        return self._names

    def append(self, text: str) -> str:
        """Store one event durably at the end of the queue and return its file name."""
        names = self.pending()
        number = int(names[-1][:16]) + 1 if names else 1
        name = f"{number:016d}.json"
        temporary = self.directory / f".{name}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            data = memoryview(text.encode("utf-8"))
            while data:
                data = data[os.write(fd, data) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, self.directory / name)
        _fsync_dir(self.directory)
        names.append(name)
        return name

    def read(self, name: str) -> str:
        return (self.directory / name).read_text(encoding="utf-8")

    def remove(self, name: str) -> None:
        os.unlink(self.directory / name)
        _fsync_dir(self.directory)
        if self._names is not None and name in self._names:
            self._names.remove(name)

    # --- when to try again ---------------------------------------------------------------------------------
    def _record(self) -> dict[str, Any]:
        raw = os.pread(self._fd, _QUEUE_RECORD, 0)
        try:
            value = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def _write_record(self, record: dict[str, Any]) -> None:
        data = json.dumps(record, ensure_ascii=True).encode()[: _QUEUE_RECORD - 1]
        os.pwrite(self._fd, data.ljust(_QUEUE_RECORD - 1) + b"\n", 0)

    def due(self) -> bool:
        """Whether a re-send may be tried now (the last failure's retry interval has passed)."""
        retry_at = self._record().get("retryAt")
        return not isinstance(retry_at, (int, float)) or time.time() >= retry_at

    def defer(self, seconds: float, error: str) -> None:
        """Remember a failure: no re-send before ``seconds`` from now (``provlineage flush`` ignores this)."""
        self._write_record({"retryAt": time.time() + seconds, "lastError": error[:600]})

    def last_error(self) -> str | None:
        error = self._record().get("lastError")
        return error if isinstance(error, str) else None

    def clear(self) -> None:
        self._write_record({})

    # --- refused events ------------------------------------------------------------------------------------
    def dead_letter(self, text: str, *, target: str, status: int | None, reason: str) -> Path:
        """Append a refused event, with the status and the server's answer, to ``dead-letter.jsonl``."""
        return self._append_dead_letter(
            {"transport": target, "status": status, "reason": reason, "event": json.loads(text)}
        )

    def dead_letter_file(self, name: str, *, target: str, reason: str) -> Path:
        """Append a spooled file that cannot be read as an event, as raw bytes (lossless), to ``dead-letter.jsonl``."""
        try:
            raw = (self.directory / name).read_bytes().decode("utf-8", "backslashreplace")
        except OSError as error:
            raw = f"<unreadable: {error}>"
        return self._append_dead_letter({"transport": target, "file": name, "reason": reason, "eventText": raw})

    def _append_dead_letter(self, fields: dict[str, Any]) -> Path:
        record = {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            **fields,
        }
        path = self.directory / DEAD_LETTER_FILE
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return path


class Spool:
    """The spool directory of one backend."""

    def __init__(self, directory: Path, *, lock_timeout: float = 30.0) -> None:
        self.directory = directory
        self.lock_timeout = lock_timeout

    @property
    def dead_letter_path(self) -> Path:
        return self.directory / DEAD_LETTER_FILE

    @contextlib.contextmanager
    def locked(self) -> Iterator[SpoolQueue]:
        with contextlib.ExitStack() as stack:
            path = self.directory / QUEUE_FILE
            try:
                fd = stack.enter_context(locked_open(path, os.O_RDWR, timeout=self.lock_timeout, mode=0o600))
            except FileNotFoundError:
                self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = stack.enter_context(locked_open(path, os.O_RDWR, timeout=self.lock_timeout, mode=0o600))
            yield SpoolQueue(self.directory, fd)

    def count(self) -> int:
        """Spooled events (without taking the lock; for reports)."""
        try:
            return sum(1 for name in os.listdir(self.directory) if _EVENT_FILE.match(name))
        except FileNotFoundError:
            return 0
