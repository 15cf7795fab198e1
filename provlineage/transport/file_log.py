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
from concurrent processes never interleave, whatever their size.  A process killed mid-write can leave a
partial last line; the next writer sees that the file does not end with a newline and starts a new line, so a
new event is never glued onto the torn one, and ``provlineage verify`` reports the torn record as ``TORN``.

Events signed by :class:`provlineage.transport.SigningTransport` are written from the JSON text made when
they were signed; other events are written as ``Serde.to_json`` writes them.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import attr
from openlineage.client.serde import Serde
from openlineage.client.transport.transport import Config, Transport

from provlineage._internal.fdlock import locked_open
from provlineage._internal.signed_event import SignedEvent
from provlineage.errors import ConfigError, DeliveryError

log = logging.getLogger(__name__)

DURABILITY_MODES = ("interval", "always", "never")
_sync = getattr(os, "fdatasync", os.fsync)


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

    def emit(self, event: Any) -> None:
        text = event.json_text if isinstance(event, SignedEvent) else Serde.to_json(event)
        self.append_line(text)

    def append_line(self, text: str) -> None:
        """Append one complete line (``text`` must not contain a newline)."""
        data = text.encode("utf-8") + b"\n"
        try:
            self._append(data)
        except FileNotFoundError:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._append(data)
        except OSError as error:
            raise DeliveryError(
                f"cannot append to log file {self.path} ({error.strerror or error})",
                "check that its directory exists and is writable by this user",
            ) from error

    def _append(self, data: bytes) -> None:
        with locked_open(self.path, os.O_RDWR | os.O_APPEND, timeout=self.config.lock_timeout) as fd:
            end = os.lseek(fd, 0, os.SEEK_END)
            if end and os.pread(fd, 1, end - 1) != b"\n":
                log.warning(
                    "provlineage: %s ends with a torn record (a writer crashed mid-write); starting a new line",
                    self.path,
                )
                data = b"\n" + data
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            self._after_write(fd)

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
