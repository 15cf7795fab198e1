"""The gateway's state: each stream's chain, the outbox of accepted events, and the quarantine.

Two backends share this logic and differ in connections and locking (:mod:`.store_sqlite`, one process;
:mod:`.store_postgres`, several processes).  One transaction per event does, for its stream: take the stream's
row lock, read the stored neighbours (sequence n-1, n, n+1), let the caller judge, and on acceptance insert the
event into the outbox.  The transaction's commit is what "durably queued" means: the gateway answers 201 after
it, and the forwarder drains the outbox.  ``UNIQUE (stream, sequence)`` backs the row lock: no interleaving can
accept two events at one position.

Tables: ``gw_streams`` (key id, highest sequence, count: ``head - count`` events are missing, since when),
``gw_events``
(chain links of every accepted event; the body only until forwarded) and ``gw_quarantine`` (every refusal).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Claimed",
    "Incoming",
    "Judge",
    "Link",
    "Pending",
    "QuarantineEntry",
    "Stats",
    "Store",
    "Verdict",
    "open_store",
]

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS gw_streams (
        stream TEXT PRIMARY KEY, key_id TEXT, head BIGINT NOT NULL, events BIGINT NOT NULL,
        gap_since DOUBLE PRECISION)""",
    """CREATE TABLE IF NOT EXISTS gw_events (
        id {id} PRIMARY KEY {autoincrement}, stream TEXT, sequence BIGINT, digest TEXT, previous_digest TEXT,
        key_id TEXT, producer TEXT NOT NULL, body TEXT, received_at DOUBLE PRECISION NOT NULL,
        forwarded_at DOUBLE PRECISION, UNIQUE (stream, sequence))""",
    "CREATE INDEX IF NOT EXISTS gw_events_outbox ON gw_events (id) WHERE forwarded_at IS NULL",
    "CREATE INDEX IF NOT EXISTS gw_events_unchained ON gw_events (digest) WHERE stream IS NULL",
    """CREATE TABLE IF NOT EXISTS gw_quarantine (
        id {id} PRIMARY KEY {autoincrement}, received_at DOUBLE PRECISION NOT NULL, producer TEXT,
        reason TEXT NOT NULL, status INTEGER NOT NULL, detail TEXT NOT NULL, stream TEXT, sequence BIGINT,
        body TEXT NOT NULL)""",
]


@dataclass(frozen=True)
class Incoming:
    """An authenticated event whose signature verified (or an unsigned one, when allowed)."""

    producer: str
    body: str
    stream: str | None = None
    sequence: int | None = None
    digest: str | None = None
    previous_digest: str | None = None
    key_id: str | None = None


@dataclass(frozen=True)
class Link:
    """A stored event's place in its chain."""

    sequence: int
    digest: str
    previous_digest: str | None


@dataclass(frozen=True)
class Verdict:
    """``accepted``, ``duplicate`` or ``rejected`` (with a reason code and a sentence)."""

    outcome: str
    reason: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Pending:
    id: int
    body: str
    received_at: float


class Claimed(list[Pending]):
    """A claimed batch; ``mark_forwarded`` records what reached the downstream (or its spool)."""

    def __init__(self, items: list[Pending]) -> None:
        super().__init__(items)
        self.done: list[int] = []

    def mark_forwarded(self, pending: Pending) -> None:
        self.done.append(pending.id)


@dataclass(frozen=True)
class Stats:
    queued: int
    oldest_queued_at: float | None
    streams_with_gaps: int
    missing_events: int
    oldest_gap_since: float | None = None


@dataclass(frozen=True)
class QuarantineEntry:
    id: int
    received_at: float
    producer: str | None
    reason: str
    status: int
    detail: str
    stream: str | None
    sequence: int | None
    body: str


_ENTRY = "id, received_at, producer, reason, status, detail, stream, sequence, body"
Judge = Callable[[Incoming, str | None, Sequence[Link]], Verdict]


class Store:
    """SQL shared by both backends; subclasses provide ``_transaction`` and the dialect bits."""

    placeholder = "?"
    lock_suffix = ""  # " FOR UPDATE" where rows can be locked

    def _transaction(self, *, write: bool) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _q(self, sql: str) -> str:
        return sql.replace("?", self.placeholder)

    def close(self) -> None:
        """Release connections."""

    def ping(self) -> None:
        with self._transaction(write=False) as cursor:
            cursor.execute("SELECT 1")

    def admit(self, event: Incoming, judge: Judge) -> Verdict:
        """Judge ``event`` against its stream under the stream's lock; insert it into the outbox if accepted."""
        with self._transaction(write=True) as cursor:
            return self._admit_in(cursor, event, judge, time.time())

    def _admit_in(self, cursor: Any, event: Incoming, judge: Judge, now: float) -> Verdict:
        if event.stream is None:  # signed without a chain (dedup by digest), or unsigned and allowed
            if event.digest is not None:
                self._lock_digest(cursor, event.digest)
                cursor.execute(self._q("SELECT 1 FROM gw_events WHERE stream IS NULL AND digest = ?"), (event.digest,))
                if cursor.fetchone() is not None:
                    return Verdict("duplicate", "duplicate", "this signed event was accepted before")
            self._insert(cursor, event, now)
            return Verdict("accepted")
        cursor.execute(
            self._q("INSERT INTO gw_streams (stream, key_id, head, events) VALUES (?, ?, 0, 0) ON CONFLICT DO NOTHING"),
            (event.stream, event.key_id),
        )
        cursor.execute(
            self._q("SELECT key_id, head, events, gap_since FROM gw_streams WHERE stream = ?" + self.lock_suffix),
            (event.stream,),
        )
        key_id, head, count, gap_since = cursor.fetchone()
        assert event.sequence is not None
        cursor.execute(
            self._q(
                "SELECT sequence, digest, previous_digest FROM gw_events "
                "WHERE stream = ? AND sequence BETWEEN ? AND ? ORDER BY sequence"
            ),
            (event.stream, event.sequence - 1, event.sequence + 1),
        )
        neighbours = [Link(int(row[0]), row[1], row[2]) for row in cursor.fetchall()]
        verdict = judge(event, key_id, neighbours)
        if verdict.outcome == "accepted":
            self._insert(cursor, event, now)
            new_head = max(int(head), event.sequence)
            if new_head == int(count) + 1:
                gap_since = None  # every sequence number up to the head is here
            elif gap_since is None:
                gap_since = now  # a gap opened: how long it stays open is what operators alert on
            cursor.execute(
                self._q("UPDATE gw_streams SET head = ?, events = events + 1, gap_since = ? WHERE stream = ?"),
                (new_head, gap_since, event.stream),
            )
            if event.sequence > int(head) + 1:
                missing = f"{int(head) + 1}" + (f"-{event.sequence - 1}" if event.sequence - 1 > int(head) + 1 else "")
                return Verdict(
                    "accepted", "gap-opened", f"sequence {missing} of stream {event.stream} not received yet"
                )
            if event.sequence < int(head):
                return Verdict("accepted", "gap-filled", f"late sequence {event.sequence} of stream {event.stream}")
        return verdict

    def _lock_digest(self, cursor: Any, digest: str) -> None:
        """Serialize admissions of one unchained event (SQLite: writers are serialized already)."""

    def _insert(self, cursor: Any, event: Incoming, now: float) -> None:
        cursor.execute(
            self._q(
                "INSERT INTO gw_events (stream, sequence, digest, previous_digest, key_id, producer, body, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            (event.stream, event.sequence, event.digest, event.previous_digest, event.key_id, event.producer,
             event.body, now),
        )  # fmt: skip

    def quarantine(
        self, *, producer: str | None, reason: str, status: int, detail: str, body: str,
        stream: str | None = None, sequence: int | None = None,
    ) -> int:  # fmt: skip
        """Keep a refused request: nothing is dropped unseen."""
        with self._transaction(write=True) as cursor:
            cursor.execute(
                self._q(
                    "INSERT INTO gw_quarantine (received_at, producer, reason, status, detail, stream, sequence, body)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
                ),
                (time.time(), producer, reason, status, detail, stream, sequence, body),
            )
            return int(cursor.fetchone()[0])

    def claim(self, limit: int) -> AbstractContextManager[Claimed]:
        """The oldest unforwarded events; those the caller passes to ``mark_forwarded`` are marked on exit."""
        raise NotImplementedError

    def _pending(self, cursor: Any, limit: int, suffix: str = "") -> list[Pending]:
        cursor.execute(
            self._q("SELECT id, body, received_at FROM gw_events WHERE forwarded_at IS NULL ORDER BY id LIMIT ?")
            + suffix,
            (limit,),
        )
        return [Pending(int(row[0]), row[1], float(row[2])) for row in cursor.fetchall()]

    def _mark(self, cursor: Any, ids: Sequence[int]) -> None:
        """Forwarded: drop the body (the chain links stay for the checks)."""
        now = time.time()
        cursor.executemany(
            self._q("UPDATE gw_events SET forwarded_at = ?, body = NULL WHERE id = ?"), [(now, i) for i in ids]
        )

    def stats(self) -> Stats:
        with self._transaction(write=False) as cursor:
            cursor.execute("SELECT COUNT(*), MIN(received_at) FROM gw_events WHERE forwarded_at IS NULL")
            queued, oldest = cursor.fetchone()
            cursor.execute(
                "SELECT COUNT(*), COALESCE(SUM(head - events), 0), MIN(gap_since) FROM gw_streams WHERE head > events"
            )
            streams, missing, gap_since = cursor.fetchone()
        return Stats(
            int(queued),
            None if oldest is None else float(oldest),
            int(streams),
            int(missing),
            None if gap_since is None else float(gap_since),
        )

    def open_gaps(self) -> list[tuple[str, int, int, float]]:
        """(stream, highest sequence, missing count, open since) of every stream with a gap, oldest gap first."""
        with self._transaction(write=False) as cursor:
            cursor.execute(
                "SELECT stream, head, head - events, gap_since FROM gw_streams WHERE head > events "
                "ORDER BY gap_since, stream"
            )
            return [(row[0], int(row[1]), int(row[2]), float(row[3])) for row in cursor.fetchall()]

    def quarantined(self, *, limit: int = 100, reason: str | None = None) -> list[QuarantineEntry]:
        where, params = ("WHERE reason = ?", (reason, limit)) if reason else ("", (limit,))
        return self._entries(f"SELECT {_ENTRY} FROM gw_quarantine {where} ORDER BY id DESC LIMIT ?", params)

    def quarantine_entry(self, entry_id: int) -> QuarantineEntry | None:
        found = self._entries(f"SELECT {_ENTRY} FROM gw_quarantine WHERE id = ?", (entry_id,))
        return found[0] if found else None

    def purge_quarantine(self, before: float) -> int:
        """Delete quarantine entries received before ``before`` (a Unix time); how many went."""
        with self._transaction(write=True) as cursor:
            cursor.execute(self._q("DELETE FROM gw_quarantine WHERE received_at < ?"), (before,))
            return int(cursor.rowcount)

    def _entries(self, sql: str, params: tuple[Any, ...]) -> list[QuarantineEntry]:
        with self._transaction(write=False) as cursor:
            cursor.execute(self._q(sql), params)
            return [QuarantineEntry(*row) for row in cursor.fetchall()]

    def accepted_events(self) -> Iterator[tuple[str | None, int | None, str | None, float | None]]:
        """(stream, sequence, digest, forwarded_at) of every accepted event, for tests and audits."""
        with self._transaction(write=False) as cursor:
            cursor.execute("SELECT stream, sequence, digest, forwarded_at FROM gw_events ORDER BY id")
            rows = cursor.fetchall()
        yield from rows


def open_store(url: str, *, serving: bool = False) -> Store:
    """``sqlite:///path`` or ``postgresql://...``; ``serving``: for a gateway process (SQLite allows one)."""
    if url.startswith("sqlite:///"):
        from provlineage.gateway.store_sqlite import SqliteStore

        return SqliteStore(url[len("sqlite:///") :], serving=serving)
    from provlineage.gateway.store_postgres import PostgresStore

    return PostgresStore(url)
