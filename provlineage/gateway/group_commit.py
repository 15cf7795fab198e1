"""Group commit for SQLite: admissions that arrive together share one transaction and one fsync.

SQLite has one writer and ``synchronous=FULL`` pays an fsync per commit (milliseconds on common disks), so one
transaction per event caps the gateway at a few hundred events per second.  A committer thread takes every
admission waiting in its queue, judges them one after another in one transaction (each inside a SAVEPOINT, so
a failure is that event's alone; later events of a stream see earlier ones of the same batch), commits once,
and only then releases the callers: nobody is answered 201 before the fsync that makes the event durable.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from typing import Any

from provlineage.gateway.store import Incoming, Judge, Verdict

__all__ = ["GroupCommitter"]

_MAX_BATCH = 256
Admit = Callable[[Any, Incoming, Judge, float], Verdict]


class GroupCommitter:
    def __init__(self, transaction: Callable[[], AbstractContextManager[Any]], admit: Admit) -> None:
        self._transaction, self._admit = transaction, admit
        self._queue: queue.Queue[tuple[Incoming, Judge, Future[Verdict]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="provlineage-gateway-commit", daemon=True)
        self._thread.start()

    def admit(self, event: Incoming, judge: Judge) -> Verdict:
        done: Future[Verdict] = Future()
        self._queue.put((event, judge, done))
        return done.result()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(30)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < _MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(more)
            self._commit(batch)

    def _commit(self, batch: list[tuple[Incoming, Judge, Future[Verdict]]]) -> None:
        outcomes: list[tuple[Future[Verdict], Verdict | BaseException]] = []
        try:
            with self._transaction() as cursor:
                now = time.time()
                for event, judge, done in batch:
                    cursor.execute("SAVEPOINT admit")
                    try:
                        outcome: Verdict | BaseException = self._admit(cursor, event, judge, now)
                    except Exception as error:
                        cursor.execute("ROLLBACK TO admit")
                        outcome = error
                    cursor.execute("RELEASE admit")
                    outcomes.append((done, outcome))
        except Exception as error:  # the commit itself failed: nothing in the batch is durable
            for _, _, done in batch:
                done.set_exception(error)
            return
        for done, outcome in outcomes:
            if isinstance(outcome, BaseException):
                done.set_exception(outcome)
            else:
                done.set_result(outcome)
