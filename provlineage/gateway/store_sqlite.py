"""SQLite state for one gateway process (the embedded default).

WAL with ``synchronous=FULL``: a committed event survives a power cut, which is what the 201 promises.  Writers
take the database lock at ``BEGIN IMMEDIATE``, so each stream's check-and-insert runs alone; a serving process
batches concurrent admissions into one transaction (:mod:`.group_commit`).  One serving
process per file: a second one would run a second forwarder over the same outbox, so it is refused at start
(an exclusive ``flock`` on ``<db>.lock``); the ``quarantine`` commands may read it while it runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from provlineage.errors import ConfigError
from provlineage.gateway.group_commit import GroupCommitter
from provlineage.gateway.store import SCHEMA, Claimed, Incoming, Judge, Store, Verdict

__all__ = ["SqliteStore"]


class SqliteStore(Store):
    def __init__(self, path: str, *, serving: bool = False) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        self._writer = threading.Lock()  # queue writers here, not in SQLite's busy handler (which sleeps)
        self._lock_fd: int | None = None
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(
                f"gateway store directory {self.path.parent} cannot be created ({error})", "fix `store`"
            ) from None
        if serving:
            self._lock_fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(self._lock_fd)
                raise ConfigError(
                    f"another gateway process already serves {self.path}",
                    "run one process per SQLite store, or use a postgresql:// store for several",
                ) from None
        with self._transaction(write=True) as cursor:
            for statement in SCHEMA:
                cursor.execute(statement.format(id="INTEGER", autoincrement="AUTOINCREMENT"))
        self._committer: GroupCommitter | None = None
        if serving:
            self._committer = GroupCommitter(lambda: self._transaction(write=True), self._admit_in)

    def admit(self, event: Incoming, judge: Judge) -> Verdict:
        """In a serving process, through the group committer (one fsync for the events that arrived together)."""
        if self._committer is None:
            return super().admit(event, judge)
        return self._committer.admit(event, judge)

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise sqlite3.ProgrammingError(f"gateway store {self.path} is closed")
        connection = getattr(self._local, "connection", None)
        if connection is None:
            try:
                connection = sqlite3.connect(self.path, isolation_level=None, timeout=30.0, check_same_thread=False)
            except sqlite3.Error as error:
                raise ConfigError(f"gateway store {self.path} cannot be opened ({error})", "fix `store`") from None
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            self._local.connection = connection
            with self._guard:
                self._connections.append(connection)
        return connection

    @contextlib.contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Any]:
        connection = self._connection()
        with self._writer if write else contextlib.nullcontext():
            cursor = connection.cursor()
            cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield cursor
            except BaseException:
                connection.rollback()
                raise
            else:
                connection.commit()
            finally:
                cursor.close()

    @contextlib.contextmanager
    def claim(self, limit: int) -> Iterator[Claimed]:
        """One forwarder per SQLite store (see the module note), so reading without a lock is safe."""
        with self._transaction(write=False) as cursor:
            batch = Claimed(self._pending(cursor, limit))
        yield batch
        if batch.done:
            with self._transaction(write=True) as cursor:
                self._mark(cursor, batch.done)

    def close(self) -> None:
        if self._committer is not None:
            self._committer.close()
            self._committer = None
        self._closed = True
        with self._guard:
            for connection in self._connections:
                with contextlib.suppress(sqlite3.Error):
                    connection.close()
            self._connections.clear()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
