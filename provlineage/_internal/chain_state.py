"""Where each signing stream's chain stands: stream id, last sequence number and head digest.

A *stream* is one key on one host with one state directory; its id is ``<hostname>/<key id, 16 hex>/<random
16 hex>`` (the random part tells apart two state directories on one host, and a stream restarted after its
state was lost).  Every process on the host that signs with that key and state directory continues the same
stream, so Airflow's forked task processes and several workers produce one gap-free chain.

The state lives in one small file per stream, ``<state_dir>/<key id, 32 hex>@<hostname>.chain``, holding a
JSON record padded to a fixed 512 bytes.  It is read and rewritten in place (``pread``/``pwrite`` at offset 0,
one system call each, atomic with respect to a process being killed) while the caller holds an exclusive lock on
the same file, and the lock is held until the signed event has been delivered, so sequence order is also the
order in which events reach the file backend.

Crash behaviour: the state is advanced *before* delivery.  A process killed between the two leaves a sequence
number that no backend received; the verifier reports it as a gap ("deleted or never delivered"), which is
the truth.  The state is not fsynced: after an OS crash it may lag the log, and the verifier then reports the
reused numbers as conflicts.  A state record that cannot be parsed starts a new stream (with a warning).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from provlineage._internal.fdlock import locked_open
from provlineage.signing import ChainLink

log = logging.getLogger(__name__)

RECORD_SIZE = 512
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


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


class StreamCursor:
    """The locked state of one stream: read once, advanced once per signed event."""

    def __init__(self, fd: int, path: Path, key_id: str) -> None:
        self._fd = fd
        self._path = path
        self._key_id = key_id
        self.stream, self.sequence, self.head = self._read()

    def _read(self) -> tuple[str, int, str | None]:
        raw = os.pread(self._fd, RECORD_SIZE, 0)
        if raw.strip():
            try:
                record = json.loads(raw)
                stream, sequence, head = record["stream"], record["sequence"], record.get("head")
                if isinstance(stream, str) and isinstance(sequence, int) and (head is None or isinstance(head, str)):
                    return stream, sequence, head
            except (ValueError, KeyError, TypeError):
                pass
            aside = self._path.with_name(f"{self._path.name}.corrupt-{int(time.time())}")
            with contextlib.suppress(OSError):
                aside.write_bytes(raw)
            log.warning(
                "provlineage: chain state %s was unreadable (kept as %s); starting a new stream", self._path, aside
            )
        return f"{hostname()}/{_key_hex(self._key_id)[:16]}/{secrets.token_hex(8)}", 0, None

    def next_link(self) -> ChainLink:
        """The chain position of the next event."""
        return ChainLink(self.stream, self.sequence + 1, self.head)

    def commit(self, link: ChainLink, digest: str) -> None:
        """Record that ``link`` now holds the event with ``digest``."""
        record = json.dumps({"v": 1, "stream": link.stream, "sequence": link.sequence, "head": digest}).encode()
        os.pwrite(self._fd, record.ljust(RECORD_SIZE - 1) + b"\n", 0)
        self.stream, self.sequence, self.head = link.stream, link.sequence, digest


class ChainState:
    """The chain state directory of one signer on this host."""

    def __init__(self, state_dir: Path, key_id: str, *, lock_timeout: float = 30.0) -> None:
        self.state_dir = state_dir
        self.key_id = key_id
        self.lock_timeout = lock_timeout
        self.path = state_dir / f"{_key_hex(key_id)[:32]}@{hostname()}.chain"

    @contextlib.contextmanager
    def locked(self) -> Iterator[StreamCursor]:
        """Hold the stream's lock and yield its cursor (advance it with :meth:`StreamCursor.commit`)."""
        with contextlib.ExitStack() as stack:
            try:
                fd = stack.enter_context(locked_open(self.path, os.O_RDWR, timeout=self.lock_timeout, mode=0o600))
            except FileNotFoundError:
                self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = stack.enter_context(locked_open(self.path, os.O_RDWR, timeout=self.lock_timeout, mode=0o600))
            yield StreamCursor(fd, self.path, self.key_id)
