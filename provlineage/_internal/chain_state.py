"""Where each signing stream's chain stands, with a write-ahead reservation for the event being recorded.

A *stream* is one key on one host writing to one destination.  Its id is
``<hostname>/<key id, 16 hex>/<random 16 hex>@<destination>``, where the destination names where the stream's
events go: ``file://<host>/<path>`` for a file log, the URL for HTTP, several of them separated by spaces for a
composite, or the transport's ``destination`` setting.  The id is inside the signed chain payload, so a verifier
can tell which destination each stream was written for (a stream spliced into a log it was not written to shows a
foreign destination), and two jobs sharing a key but writing to different places form two streams, each of which
verifies on its own.  Every process on the host that signs with that key for that destination continues the same
stream (Airflow's forked task processes and several workers produce one gap-free chain).

The state lives in one small file per stream, ``<state_dir>/<key id, 32 hex>@<hostname>.<destination hash>.chain``:
one JSON record padded to a fixed size, read and rewritten in place (``pread``/``pwrite`` at offset 0, one system
call each, atomic with respect to a process being killed) under an exclusive lock on that file.

Recording one event (see :mod:`provlineage.transport.recording`):

1. under the lock, the record holds the last *committed* event (``sequence``, ``head``);
2. a *reservation* is written into the record before any byte of the event is stored anywhere: its sequence
   number and digest, its length, and, per destination, where it is being written (the offset in each file log)
   or that it was handed to a backend's spool (for those, the event's line is also kept in ``<state>.pending``);
3. the event is appended to each local durable store (file logs, spools);
4. the record is *committed*: ``sequence``/``head`` move to the event, the reservation is dropped.

A process killed anywhere in 2-4 leaves a reservation, which the next writer of the stream reconciles before it
signs anything: if no destination holds the event, the reservation is dropped and its number is used again (no
gap: nobody ever received it); if any does, it is completed (written to the destinations that lack it) and
committed.  So a crash leaves either nothing or the complete event, never a false gap.

The state is not fsynced: after an OS crash it may lag a log that was synced, and the verifier then reports the
reused numbers as conflicts.  A state record that cannot be parsed starts a new stream (with a warning).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from json.encoder import encode_basestring as _json_string
from pathlib import Path

from provlineage._internal.fdlock import cached_fd, held
from provlineage.signing import ChainLink

log = logging.getLogger(__name__)

RECORD_SIZE = 4096
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_LONGEST_DESTINATION = 2000


def default_state_dir() -> Path:
    """``$PROVLINEAGE_STATE_DIR``, else ``$XDG_STATE_HOME/provlineage``, else ``~/.local/state/provlineage``."""
    explicit = os.environ.get("PROVLINEAGE_STATE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return base / "provlineage"


def hostname() -> str:
    return _UNSAFE.sub("-", socket.gethostname())[:64] or "localhost"


def _key_hex(key_id: str) -> str:
    return _UNSAFE.sub("", key_id.split(":", 1)[-1])


def stream_destination(stream: str) -> str | None:
    """The destination a stream id is bound to (``None`` for ids written before streams were bound)."""
    _, at, destination = stream.partition("@")
    return destination if at and destination else None


@dataclass
class Reservation:
    """An event being recorded: written before its bytes go anywhere, dropped when it is committed."""

    sequence: int
    digest: str
    previous: str | None
    length: int
    probe_at: int
    journal: bool = False
    marks: dict[int, list[int]] = field(default_factory=dict)
    """Per destination index: ``[offset]`` for a file log being written, ``[-1]`` handed over, ``[-2]`` done."""

    def to_json_text(self) -> str:
        """The reservation as JSON (built by hand: it is written twice per event)."""
        previous = "null" if self.previous is None else _json_string(self.previous)
        marks = ",".join(f'"{index}":[{mark[0]}]' for index, mark in self.marks.items())
        return (
            f'{{"sequence":{self.sequence},"digest":{_json_string(self.digest)},"previous":{previous},'
            f'"length":{self.length},"probeAt":{self.probe_at},"journal":{"true" if self.journal else "false"},'
            f'"marks":{{{marks}}}}}'
        )

    @classmethod
    def from_json(cls, value: dict[str, object]) -> Reservation:
        marks = value.get("marks") or {}
        assert isinstance(marks, dict)
        return cls(
            int(value["sequence"]),  # type: ignore[call-overload]
            str(value["digest"]),
            value.get("previous"),  # type: ignore[arg-type]
            int(value["length"]),  # type: ignore[call-overload]
            int(value["probeAt"]),  # type: ignore[call-overload]
            bool(value.get("journal")),
            {int(index): list(mark) for index, mark in marks.items()},
        )


HANDED_OVER = -1
DONE = -2
# The record this process wrote last per state file, with its parsed value (re-read unchanged on the next emit).
_LAST_WRITTEN: dict[Path, tuple[bytes, tuple[str, int, str | None]]] = {}


class StreamCursor:
    """The locked state of one stream: its committed head and, after a crash, an open reservation."""

    def __init__(self, fd: int, path: Path, key_id: str, destination: str) -> None:
        self._fd = fd
        self._path = path
        self._key_id = key_id
        self._destination = destination
        self.pending: Reservation | None = None
        self.stream, self.sequence, self.head = self._read()

    @property
    def journal_path(self) -> Path:
        return self._path.with_name(self._path.name + ".pending")

    def _read(self) -> tuple[str, int, str | None]:
        raw = os.pread(self._fd, RECORD_SIZE, 0)
        known = _LAST_WRITTEN.get(self._path)
        if known is not None and known[0] == raw:  # what this process wrote last: no need to parse it again
            return known[1]
        if raw.strip():
            try:
                record = json.loads(raw)
                stream, sequence, head = record["stream"], record["sequence"], record.get("head")
                if isinstance(stream, str) and isinstance(sequence, int) and (head is None or isinstance(head, str)):
                    if record.get("pending") is not None:
                        self.pending = Reservation.from_json(record["pending"])
                    return stream, sequence, head
            except (ValueError, KeyError, TypeError, AssertionError):
                pass
            aside = self._path.with_name(f"{self._path.name}.corrupt-{int(time.time())}")
            with contextlib.suppress(OSError):
                aside.write_bytes(raw)
            log.warning(
                "provlineage: chain state %s was unreadable (kept as %s); starting a new stream", self._path, aside
            )
        destination = self._destination
        if len(destination) > _LONGEST_DESTINATION:
            destination = "sha256:" + hashlib.sha256(destination.encode()).hexdigest()
        stream = f"{hostname()}/{_key_hex(self._key_id)[:16]}/{secrets.token_hex(8)}@{destination}"
        return stream, 0, None

    def _write(self) -> None:
        head = "null" if self.head is None else _json_string(self.head)
        text = f'{{"v":2,"stream":{_json_string(self.stream)},"sequence":{self.sequence},"head":{head}'
        if self.pending is not None:
            text += ',"pending":' + self.pending.to_json_text()
        data = (text + "}").encode()
        if len(data) >= RECORD_SIZE:
            raise ValueError(f"chain state record of {len(data)} bytes does not fit {RECORD_SIZE}")
        record = data + b" " * (RECORD_SIZE - 1 - len(data)) + b"\n"
        os.pwrite(self._fd, record, 0)
        if self.pending is None:
            _LAST_WRITTEN[self._path] = (record, (self.stream, self.sequence, self.head))
        else:
            _LAST_WRITTEN.pop(self._path, None)

    def next_link(self) -> ChainLink:
        """The chain position of the next event (after any reservation was reconciled)."""
        return ChainLink(self.stream, self.sequence + 1, self.head)

    def reserve(self, link: ChainLink, digest: str, length: int, probe_at: int) -> Reservation:
        """Start recording the event at ``link`` (kept in memory until the first :meth:`mark` writes it)."""
        self.pending = Reservation(link.sequence, digest, link.previous_digest, length, probe_at)
        return self.pending

    def keep_journal(self, line: bytes) -> None:
        """Keep the event's line beside the state, so a crash after handing it to a spool can be completed."""
        assert self.pending is not None
        with open(self.journal_path, "wb") as handle:
            handle.write(line)
        self.pending.journal = True

    def journal(self) -> bytes | None:
        try:
            return self.journal_path.read_bytes()
        except FileNotFoundError:
            return None

    def mark(self, index: int, value: int) -> None:
        """Record, before (offset / ``HANDED_OVER``) or after (``DONE``) it, what happens at destination ``index``."""
        assert self.pending is not None
        self.pending.marks[index] = [value]
        self._write()

    def commit(self) -> None:
        """The reserved event is recorded everywhere it goes: advance the chain to it."""
        assert self.pending is not None
        self.sequence, self.head = self.pending.sequence, self.pending.digest
        journal, self.pending = self.pending.journal, None
        self._write()
        if journal:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.journal_path)

    def drop(self) -> None:
        """Forget the reservation: no destination received its event, so its number is free again."""
        journal, self.pending = self.pending is not None and self.pending.journal, None
        self._write()
        if journal:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.journal_path)


class ChainState:
    """The chain state of one signer writing to one destination from this host."""

    def __init__(self, state_dir: Path, key_id: str, destination: str = "", *, lock_timeout: float = 30.0) -> None:
        self.state_dir = state_dir
        self.key_id = key_id
        self.destination = destination
        self.lock_timeout = lock_timeout
        bound = f".{hashlib.sha256(destination.encode()).hexdigest()[:16]}" if destination else ""
        self.path = state_dir / f"{_key_hex(key_id)[:32]}@{hostname()}{bound}.chain"

    @contextlib.contextmanager
    def locked(self) -> Iterator[StreamCursor]:
        """Hold the stream's lock and yield its cursor.

        The descriptor is kept open between events.  If the state file is deleted meanwhile, this process goes on
        with the stream it holds while new processes start a new one: two streams, each consistent.
        """
        try:
            fd = cached_fd(self.path, os.O_RDWR, mode=0o600)
        except FileNotFoundError:
            self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = cached_fd(self.path, os.O_RDWR, mode=0o600)
        with held(fd, self.path, timeout=self.lock_timeout):
            yield StreamCursor(fd, self.path, self.key_id, self.destination)
