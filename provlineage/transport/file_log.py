"""``provlineage.transport.FileLogTransport``: an append-only JSON Lines log that many processes share.

Config (``type: provlineage.transport.FileLogTransport``):

``path``
    The log file (a local path or ``file://`` URI; ``~`` is expanded; parent directories are created).
``durability``
    ``interval`` (default): fsync when ``fsync_interval`` seconds have passed since this process last did, and
    at ``close()``.  ``always``: fsync after every event (each emit is on disk when it returns; costs a disk
    flush per event).  ``never``: leave it to the OS.  In every mode a written event is in the kernel as soon
    as ``emit`` returns, so a killed or crashed *process* loses nothing; only an OS crash or power loss can
    lose what was not yet fsynced (the default exposes at most the last ``fsync_interval`` seconds of events,
    or those since the last emit of an idle process, until the OS writes them back).
``fsync_interval``
    Seconds, default 1.0.
``lock_timeout``
    Seconds to wait for another writer, default 30.

Every event is one line written with one ``write`` call while holding an exclusive lock on the log, so lines
from concurrent processes never interleave, whatever their size.  A log never keeps a partial line:

* a write that fails part-way (disk full, file size limit, I/O error) is rolled back under the lock
  (``ftruncate`` to the size before it), and the error names the true cause;
* a process killed mid-write leaves a partial last line, which the next writer removes (everything after the
  last newline, under the lock) before appending, with a warning.  Only a lock holder writes, and a writer holds
  the lock until its line is complete, so bytes after the last newline are always an unfinished write whose
  ``emit`` never returned: no one was told that event was recorded.

Events signed by :class:`provlineage.transport.SigningTransport` are written from the JSON text made when
they were signed; other events are written as ``Serde.to_json`` writes them.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import attr
from openlineage.client.serde import Serde
from openlineage.client.transport.transport import Config, Transport

from provlineage._internal.fdlock import cached_fd, forget_fd, held
from provlineage._internal.signed_event import SignedEvent
from provlineage.errors import ConfigError, DeliveryError

log = logging.getLogger(__name__)

DURABILITY_MODES = ("interval", "always", "never")
_sync = getattr(os, "fdatasync", os.fsync)
_FLAGS = os.O_RDWR | os.O_APPEND
_TAIL_CHUNK = 1 << 16


def _cause(error: OSError) -> str:
    """The true cause of a failed write, in words an operator acts on."""
    if error.errno == errno.ENOSPC:
        return "the disk is full (ENOSPC)"
    if error.errno == errno.EFBIG:
        return "the file size limit was reached (EFBIG)"
    if error.errno == errno.EDQUOT:
        return "the disk quota is exhausted (EDQUOT)"
    return error.strerror or str(error)


class OpenLog:
    """The log while its lock is held: the end of its last complete line, appends that leave no partial line."""

    def __init__(self, fd: int, path: Path, size: int) -> None:
        self.fd = fd
        self.path = path
        self.end = self._complete_end(size)

    def _complete_end(self, size: int) -> int:
        """The log's size after removing a partial last line left by a writer that was killed mid-write."""
        if not size or os.pread(self.fd, 1, size - 1) == b"\n":
            return size
        keep = 0
        position = size
        while position > 0:
            start = max(0, position - _TAIL_CHUNK)
            newline = os.pread(self.fd, position - start, start).rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            position = start
        if os.pread(self.fd, 1, keep) != b"{":  # not the start of a record: not ours to remove
            log.warning("provlineage: %s does not end with a newline; starting a new line", self.path)
            os.write(self.fd, b"\n")
            return size + 1
        os.ftruncate(self.fd, keep)
        log.warning(
            "provlineage: %s ended with %d bytes of an incomplete record (a writer was killed mid-write and its "
            "emit never returned); removed them",
            self.path,
            size - keep,
        )
        return keep

    def append(self, data: bytes) -> int:
        """Write ``data`` (complete lines) at the end and return its offset; on failure nothing of it stays."""
        offset = self.end
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError as error:
            written = len(data) - len(view)
            self.roll_back(offset)
            raise DeliveryError(
                f"cannot append to log file {self.path}: {_cause(error)} after {written} of {len(data)} bytes; "
                "the partial record was rolled back",
                "free space on that filesystem (or raise its limit); the event waits in the spool until "
                "`provlineage flush`",
            ) from error
        self.end = offset + len(data)
        return offset

    def roll_back(self, offset: int) -> None:
        """Cut the log back to ``offset`` (the end before a write that must not count)."""
        try:
            os.ftruncate(self.fd, offset)
        except OSError as error:  # the next writer removes the partial line instead
            log.error("provlineage: could not roll back a partial record in %s (%s)", self.path, _cause(error))
        self.end = offset

    def holds(self, offset: int, length: int, probe: bytes, probe_at: int) -> bool:
        """Whether the complete line of ``length`` bytes written at ``offset`` (``probe`` at ``probe_at``) is there."""
        if probe_at < 0 or offset + length > self.end or os.pread(self.fd, 1, offset + length - 1) != b"\n":
            return False
        return os.pread(self.fd, len(probe), offset + probe_at) == probe

    def read(self, offset: int, length: int) -> bytes:
        return os.pread(self.fd, length, offset)

    def identity(self) -> tuple[int, int]:
        status = os.fstat(self.fd)
        return status.st_dev, status.st_ino


def destination_of_path(path: Path) -> str:
    """This log's identity in a stream id: ``file://<host>/<absolute path>`` (a local file lives on one host)."""
    from urllib.parse import quote

    host = socket.gethostname().split(".")[0] or "localhost"
    return f"file://{quote(host, safe='')}{quote(os.path.abspath(path))}"


def _local_path(value: str) -> Path:
    if value.startswith("file:"):
        parsed = urlparse(value)
        value = url2pathname(parsed.path)
    return Path(value).expanduser()


def _as_float(params: dict[str, Any], key: str, default: float) -> float:
    value = params.get(key, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"FileLogTransport `{key}` is {value!r}, not a number", f"set {key} to seconds, e.g. {default}"
        ) from None
    if number < 0:
        raise ConfigError(f"FileLogTransport `{key}` is negative ({number})", f"set {key} to 0 or more seconds")
    return number


@attr.define
class FileLogConfig(Config):
    path: str
    durability: str = "interval"
    fsync_interval: float = 1.0
    lock_timeout: float = 30.0

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> FileLogConfig:
        path = params.get("path")
        if not path or not isinstance(path, str):
            raise ConfigError(
                "FileLogTransport config has no `path`",
                'add the log file, e.g. {"type": "provlineage.transport.FileLogTransport", "path": "/var/lib/lineage/events.jsonl"}',
            )
        durability = str(params.get("durability", "interval")).lower()
        if durability not in DURABILITY_MODES:
            raise ConfigError(
                f"FileLogTransport `durability` is {durability!r}", f"use one of: {', '.join(DURABILITY_MODES)}"
            )
        return cls(
            path=path,
            durability=durability,
            fsync_interval=_as_float(params, "fsync_interval", 1.0),
            lock_timeout=_as_float(params, "lock_timeout", 30.0),
        )


class FileLogTransport(Transport):
    """Appends each event as one JSON line to ``path``; safe for many writer processes at once."""

    kind = "provlineage.transport.FileLogTransport"
    config_class = FileLogConfig

    def __init__(self, config: FileLogConfig) -> None:
        self.config = config
        self.path = _local_path(config.path)
        self._last_sync = time.monotonic()
        self._unsynced = False

    @property
    def destination(self) -> str:
        """What a signing stream writing here is bound to (see :mod:`provlineage._internal.chain_state`)."""
        return destination_of_path(self.path)

    def emit(self, event: Any) -> None:
        text = event.json_text if isinstance(event, SignedEvent) else Serde.to_json(event)
        self.append_line(text)

    def append_line(self, text: str) -> None:
        """Append one complete line (``text`` must not contain a newline)."""
        data = text.encode("utf-8") + b"\n"
        with self.locked() as opened:
            offset = opened.append(data)
            self.after_write(opened, offset)

    @contextlib.contextmanager
    def locked(self) -> Iterator[OpenLog]:
        """Hold the log's lock; yields it with any partial last line already removed."""
        for _attempt in range(3):
            try:
                fd = self._fd()
            except OSError as error:
                raise DeliveryError(
                    f"cannot open log file {self.path} ({_cause(error)})",
                    "check that its directory exists and is writable by this user",
                ) from error
            with held(fd, self.path, timeout=self.config.lock_timeout):
                opened = self._current(fd)
                if opened is not None:
                    yield opened
                    return
            forget_fd(self.path, _FLAGS)  # rotated or deleted while this process kept it open: open the new file
        raise DeliveryError(f"log file {self.path} keeps being replaced", "check what rotates or deletes it")

    def _fd(self) -> int:
        try:
            return cached_fd(self.path, _FLAGS)
        except FileNotFoundError:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return cached_fd(self.path, _FLAGS)

    def _current(self, fd: int) -> OpenLog | None:
        """The log open at ``fd`` if it is still the file at ``path`` (one ``stat`` and one ``fstat``)."""
        try:
            on_disk = os.stat(self.path)
        except FileNotFoundError:
            return None
        opened = os.fstat(fd)
        if (on_disk.st_dev, on_disk.st_ino) != (opened.st_dev, opened.st_ino):
            return None
        return OpenLog(fd, self.path, opened.st_size)

    def after_write(self, opened: OpenLog, offset: int) -> None:
        """Sync as ``durability`` asks; a failed sync rolls the write at ``offset`` back, so it is not counted twice."""
        try:
            self._after_write(opened.fd)
        except OSError as error:
            opened.roll_back(offset)
            raise DeliveryError(
                f"cannot sync log file {self.path} ({_cause(error)}); the record was rolled back",
                "check the disk; the event waits in the spool until `provlineage flush`",
            ) from error

    def _after_write(self, fd: int) -> None:
        mode = self.config.durability
        if mode == "never":
            return
        now = time.monotonic()
        if mode == "always" or now - self._last_sync >= self.config.fsync_interval:
            _sync(fd)
            self._last_sync = now
            self._unsynced = False
        else:
            self._unsynced = True

    def sync(self) -> None:
        """fsync what this process wrote and has not yet synced."""
        if not self._unsynced:
            return
        fd = os.open(self.path, os.O_RDONLY)
        try:
            _sync(fd)
        finally:
            os.close(fd)
        self._last_sync = time.monotonic()
        self._unsynced = False

    def close(self, timeout: float = -1) -> bool:
        try:
            self.sync()
        except OSError as error:
            log.warning("provlineage: could not fsync %s at close (%s)", self.path, error)
            return False
        return True
