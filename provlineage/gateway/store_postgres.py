"""PostgreSQL state shared by several gateway processes behind a load balancer.

Concurrency, argued:

* Ingest: each event's transaction (READ COMMITTED) upserts its stream's row and locks it with ``SELECT ... FOR
  UPDATE``, so check-and-insert for one stream runs one at a time across all processes, while other streams go
  on in parallel.  After the lock is granted, the next statement takes a fresh snapshot and sees every event the
  previous holder committed: no false gap, no second acceptance of a duplicate.  ``UNIQUE (stream, sequence)``
  is the backstop.  SERIALIZABLE would give the same result with retries on every conflict; the row lock
  serializes exactly what must be serialized and nothing else.
* Forwarding: a claim holds the transaction-level advisory lock ``pg_try_advisory_xact_lock``, so one process at
  a time forwards (the others skip that round and take over if it dies), in outbox order, which keeps each
  stream's order; an event is marked forwarded in the same transaction that claimed it: no double forward short
  of a crash between the downstream's answer and the commit (then at least once, as with the spool).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from provlineage.errors import ConfigError
from provlineage.gateway.store import SCHEMA, Claimed, Store

__all__ = ["PostgresStore"]

_SCHEMA_LOCK = 0x70726F76  # "prov": serializes CREATE TABLE IF NOT EXISTS between processes starting together
_FORWARD_LOCK = 0x67617465  # "gate": one forwarder at a time


class PostgresStore(Store):
    placeholder = "%s"
    lock_suffix = " FOR UPDATE"

    def __init__(self, url: str, *, max_connections: int = 16) -> None:
        try:
            from psycopg_pool import ConnectionPool
        except ImportError:
            raise ConfigError(
                "the PostgreSQL gateway store needs psycopg", "pip install 'provlineage[gateway]'"
            ) from None
        self.url = url
        self._pool = ConnectionPool(url, min_size=1, max_size=max_connections, open=False, timeout=30.0)
        try:
            self._pool.open(wait=True, timeout=30.0)
        except Exception as error:
            raise ConfigError(
                f"gateway store {_redact(url)} cannot be reached ({type(error).__name__})",
                "check the postgresql:// URL, the server and its credentials",
            ) from None
        with self._transaction(write=True) as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            for statement in SCHEMA:
                cursor.execute(statement.format(id="BIGSERIAL", autoincrement=""))

    def _lock_digest(self, cursor: Any, digest: str) -> None:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (digest,))

    @contextlib.contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Any]:
        with self._pool.connection() as connection, connection.transaction(), connection.cursor() as cursor:
            yield cursor

    @contextlib.contextmanager
    def claim(self, limit: int) -> Iterator[Claimed]:
        with self._transaction(write=True) as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", (_FORWARD_LOCK,))
            if not cursor.fetchone()[0]:
                yield Claimed([])
                return
            batch = Claimed(self._pending(cursor, limit, " FOR UPDATE"))
            yield batch
            if batch.done:
                self._mark(cursor, batch.done)

    def close(self) -> None:
        self._pool.close()


def _redact(url: str) -> str:
    """The URL without a password."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    return f"{scheme}{sep}{credentials.split(':')[0]}{at}{host}" if at else url
