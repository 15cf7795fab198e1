"""Delivery that loses nothing and never holds the chain lock across the network.

:class:`SigningTransport` wraps every *leaf* of its inner transport tree (the children of a ``composite`` are
wrapped one by one) in a :class:`Delivery` with a spool of its own.  Spooling per leaf matters: ``composite``
swallows a child's failure when ``continue_on_failure`` is true, and with file + HTTP a re-send must not write the
file a second time.

Two modes:

* **direct** (local backends: ``provlineage.transport.FileLogTransport``, ``file``, ``console``; and the gateway's
  forwarder): the event is written at once, under the chain lock, so the file log is in sequence order.  Spooled
  events go first; a failure stores the event in the spool.
* **deferred** (every other backend: ``http``, ``kafka``, ...): under the chain lock the event is only appended to
  the spool (one fsynced file: local, bounded work).  Once the lock is released, :func:`settle` wakes this
  process's sender thread, which takes the spool's send lock (so two processes never send the same entry) and
  sends the spool oldest first until it is empty or the backend fails.  The emit waits for its event at most
  ``delivery_timeout`` seconds (and not at all while the sender is still stuck on an earlier event); what is not
  sent by then stays spooled and goes with a later emit, ``provlineage flush``, or the drain at process exit
  (which waits at most ``exit_timeout`` seconds).  A hung backend therefore delays delivery, loses nothing, and
  never blocks another process's emit.

Failures: one that may pass (connection refused, timeout, HTTP 5xx, 408, 425, 429, any non-HTTP error) keeps the
event spooled and backs off (``retry_interval``, doubled per failure in a row, at most 5 minutes; ``flush``
ignores the back-off).  An HTTP 4xx refusal writes the event, with the status and the server's answer, to
``dead-letter.jsonl``; an entry that cannot be read as an event is moved to ``unreadable/`` with its reason in
``dead-letter.jsonl``; in both cases delivery goes on with the next entry.

Notes for configuring the inner backends:

* ``http``: its own urllib3 retries run in the sender thread, never under the chain lock; ``retry: {total: 0}``
  (or 1) still makes a failing backend give up sooner, since the spool retries anyway.
* ``async_http`` reports failures in the background, where no spool sees them: use ``http``.
* ``kafka`` picks its message key from typed events only; with signed events give ``messageKey`` explicitly.
* A spool directory is named after the transport's ``name`` (the key under a ``composite`` mapping) or its kind,
  and its destination (:mod:`provlineage.transport.building`); renaming a transport or pointing it elsewhere
  leaves its spool behind, which ``provlineage flush`` reports.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from openlineage.client.serde import Serde
from openlineage.client.transport.transport import Transport

from provlineage._internal.fdlock import LockTimeout
from provlineage._internal.signed_event import SignedEvent, to_json_line
from provlineage._internal.spool import Spool, SpoolDrain, SpoolQueue
from provlineage.transport.sender import Sender, settle

__all__ = ["Delivery", "FlushResult", "Outcome", "classify", "is_direct", "settle"]

log = logging.getLogger(__name__)

#: HTTP 4xx answers that say "try later" rather than "never".
RETRYABLE_CLIENT_ERRORS = frozenset({408, 425, 429})
#: A direct emit re-sends spooled events for at most this long before it returns to the user's job.
RESEND_BUDGET_SECONDS = 5.0
#: Backends written under the chain lock: local, bounded work whose order must follow the chain.
DIRECT_KINDS = frozenset({"provlineage.transport.FileLogTransport", "file", "console", "noop"})


@dataclass
class Outcome:
    """What happened to one event at one backend: ``sent``, ``queued``, ``spooled``, ``dead-letter`` or ``failed``.

    ``queued`` (deferred backends, under the chain lock) becomes one of the others in :func:`settle`.
    """

    target: str
    status: str
    detail: str = ""
    delivery: Delivery | None = field(default=None, repr=False)
    entry: str | None = None
    event: Any = field(default=None, repr=False)


@dataclass
class FlushResult:
    target: str
    sent: int
    dead_lettered: int
    remaining: int
    error: str | None = None


def _http_status(error: BaseException) -> tuple[int | None, str]:
    """Status and body of the HTTP response behind ``error`` (following causes), if there is one."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        response = getattr(current, "response", None)
        status = getattr(response, "status_code", None)
        if isinstance(status, int):
            try:
                body = response.text  # type: ignore[union-attr]
            except Exception:  # a body that cannot be decoded still has a status
                body = ""
            return status, (body or getattr(response, "reason", "") or "").strip()[:2000]
        current = current.__cause__ or current.__context__
    return None, ""


def classify(error: BaseException) -> tuple[bool, int | None, str]:
    """``(permanent, HTTP status, reason)``: only an HTTP 4xx refusal (not 408/425/429) is permanent."""
    status, body = _http_status(error)
    reason = f"HTTP {status}: {body}" if status is not None else f"{type(error).__name__}: {error}"
    permanent = status is not None and 400 <= status < 500 and status not in RETRYABLE_CLIENT_ERRORS
    return permanent, status, reason


def is_direct(transport: Transport) -> bool:
    """Whether ``transport`` is written under the chain lock (a local backend) rather than from the spool."""
    return (transport.kind or "") in DIRECT_KINDS


def _text_of(event: Any) -> str:
    return event.json_text if isinstance(event, SignedEvent) else to_json_line(Serde.to_dict(event))


class Delivery(Transport):
    """One inner backend with its spool."""

    kind = "provlineage.delivery"

    def __init__(
        self,
        leaf: Transport,
        spool: Spool,
        target: str,
        *,
        retry_interval: float,
        resend_batch: int,
        outcomes: threading.local,
        deferred: bool = False,
        exit_timeout: float = 10.0,
    ) -> None:
        self.leaf = leaf
        self.spool = spool
        self.target = target
        self.name = leaf.name
        self.priority = leaf.priority
        self.retry_interval = retry_interval
        self.resend_batch = resend_batch
        self.deferred = deferred
        self.exit_timeout = exit_timeout
        self._outcomes = outcomes
        self.sender = Sender(self) if deferred else None

    def __str__(self) -> str:
        return f"<spooled {self.leaf}>"

    def _record(self, status: str, detail: str = "", **extra: Any) -> None:
        outcomes = getattr(self._outcomes, "items", None)
        if outcomes is not None:
            outcomes.append(Outcome(self.target, status, detail, delivery=self, **extra))

    # Under the chain lock: local work only.
    def emit(self, event: Any) -> None:
        if self.deferred:
            self._enqueue(event)
            return
        with contextlib.ExitStack() as stack:
            try:
                queue = stack.enter_context(self.spool.locked())
            except (OSError, LockTimeout) as error:
                self._send_unspooled(event, error)
                return
            if queue.pending():
                if self.spool.due():
                    with contextlib.suppress(LockTimeout), self.spool.draining() as drain:  # else: another sends
                        self._resend(drain, self.resend_batch, RESEND_BUDGET_SECONDS)
                if queue.pending():
                    self._store(queue, event, self.spool.last_error() or "earlier events are still spooled")
                    return
            self._send(queue, event)

    def _enqueue(self, event: Any) -> None:
        """Deferred backends: only store the event in the spool (sent by :func:`settle` after the lock)."""
        try:
            with self.spool.locked() as queue:
                name = queue.append(_text_of(event), sync=False)  # fsynced by settle() unless sent at once
        except (OSError, LockTimeout) as error:  # no spool: sent from memory after the lock, without a safety net
            self._record("unspooled", str(error), event=event)
            return
        self._record("queued", entry=name)

    def _send(self, queue: SpoolQueue, event: Any) -> None:
        try:
            self.leaf.emit(event)
        except Exception as error:
            permanent, status, reason = classify(error)
            text = _text_of(event)
            if permanent:
                path = self.spool.dead_letter(text, target=self.target, status=status, reason=reason)
                log.error(
                    "provlineage: %s refused event %s (%s); written to %s", self.target, _describe(event), reason, path
                )
                self._record("dead-letter", reason)
                return
            self.spool.defer(self.retry_interval, reason)
            queue.append(text)
            log.warning(
                "provlineage: %s failed (%s); event %s kept in spool %s and re-sent later",
                self.target,
                reason,
                _describe(event),
                self.spool.directory,
            )
            self._record("spooled", reason)
            return
        self._record("sent")

    def _send_unspooled(self, event: Any, spool_error: Exception | str) -> bool:
        try:
            self.leaf.emit(event)
        except Exception as error:
            reason = f"{classify(error)[2]}; and spool {self.spool.directory} is unusable ({spool_error})"
            log.error("provlineage: event %s lost for %s: %s", _describe(event), self.target, reason)
            self._record("failed", reason)
            return False
        log.warning(
            "provlineage: spool %s is unusable (%s); events are sent without a safety net",
            self.spool.directory,
            spool_error,
        )
        self._record("sent")
        return True

    def _store(self, queue: SpoolQueue, event: Any, why: str) -> None:
        queue.append(_text_of(event))
        log.debug("provlineage: event %s spooled for %s (%s)", _describe(event), self.target, why)
        self._record("spooled", why)

    # Sending the spool: holding its send lock, never the chain lock.
    def _resend(self, drain: SpoolDrain, limit: int | None, budget: float | None = None) -> FlushResult:
        """Send spooled entries oldest first until none is left, one fails, ``limit`` or ``budget`` is reached."""
        sent = dead = 0
        deadline = None if budget is None else time.monotonic() + budget
        skipped: set[str] = set()
        tried: set[str] = set()
        while True:
            names = [name for name in drain.pending() if name not in skipped]
            if not names:
                break
            for name in names:
                if name in tried:  # still listed after it was handled: never loop on it
                    skipped.add(name)
                    continue
                tried.add(name)
                if (limit and sent + dead >= limit) or (deadline is not None and time.monotonic() > deadline):
                    return self._result(drain, sent, dead, skipped)
                event = self._read(drain, name, skipped)
                if not isinstance(event, SignedEvent):
                    dead += event
                    continue
                try:
                    self.leaf.emit(event)
                except Exception as error:
                    permanent, status, reason = classify(error)
                    if not permanent:
                        wait = self.spool.defer(self.retry_interval, reason)
                        log.warning(
                            "provlineage: %s failed (%s); %d spooled events wait, next try in %.0f s "
                            "(or `provlineage flush`)",
                            self.target,
                            reason,
                            len(drain.pending()),
                            wait,
                        )
                        return self._result(drain, sent, dead, skipped, reason)
                    path = self.spool.dead_letter(event.json_text, target=self.target, status=status, reason=reason)
                    log.error(
                        "provlineage: %s refused spooled event %s (%s); written to %s",
                        self.target,
                        event.describe(),
                        reason,
                        path,
                    )
                    dead += 1
                    if self.sender is not None:
                        self.sender.refused.add(name)
                else:
                    sent += 1
                    self.spool.clear()
                try:
                    drain.remove(name)
                except FileNotFoundError:
                    pass
                except OSError as error:  # cannot remove: stop rather than send it again and again
                    return self._result(drain, sent, dead, skipped, f"cannot remove spooled {name} ({error})")
                if self.sender is not None:
                    self.sender.progressed()
        return self._result(drain, sent, dead, skipped)

    def _read(self, drain: SpoolDrain, name: str, skipped: set[str]) -> SignedEvent | int:
        """The spooled event; else 1 after setting an unreadable entry aside (its reason in the dead letters), or 0."""
        try:
            return SignedEvent.from_json(drain.read(name))
        except FileNotFoundError as error:
            if not os.path.lexists(drain.directory / name):
                return 0  # gone meanwhile
            reason = f"spooled entry is not a JSON event that can be sent ({type(error).__name__}: {error})"
        except Exception as error:  # damaged on disk, not an event, not a file: set aside, do not block the queue
            reason = f"spooled entry is not a JSON event that can be sent ({type(error).__name__}: {error})"
        try:
            path = drain.set_aside(name, target=self.target, reason=reason)
        except OSError as error:
            skipped.add(name)
            log.error(
                "provlineage: spooled entry %s for %s is unreadable (%s) and cannot be moved (%s); skipped",
                drain.directory / name,
                self.target,
                reason,
                error,
            )
            return 0
        log.error("provlineage: spooled entry %s for %s set aside: %s (see %s)", name, self.target, reason, path)
        return 1

    def _result(
        self, drain: SpoolDrain, sent: int, dead: int, skipped: set[str], error: str | None = None
    ) -> FlushResult:
        if sent:
            log.info("provlineage: re-sent %d spooled events to %s", sent, self.target)
        if skipped and error is None:
            error = f"{len(skipped)} unreadable entries could not be set aside"
        return FlushResult(self.target, sent, dead, len(drain.pending()), error)

    def drain(self, *, force: bool = False, lock_wait: float | None = None) -> FlushResult:
        """Send the spool now (``force``: even during the back-off), waiting ``lock_wait`` s for another sender."""
        if not self.spool.pending():
            return FlushResult(self.target, 0, 0, 0)
        try:
            with self.spool.draining(lock_wait) as drain:
                if not force and not self.spool.due():
                    return FlushResult(self.target, 0, 0, len(drain.pending()), self.spool.last_error())
                return self._resend(drain, None)
        except LockTimeout:
            return FlushResult(
                self.target, 0, 0, self.spool.count(), "another process is sending this spool (it is slow or hung)"
            )

    def flush(self) -> FlushResult:
        """Re-send every spooled event now, in order, until one fails (ignores the back-off)."""
        return self.drain(force=True)

    def close(self, timeout: float = -1) -> bool:
        if self.sender is not None and not self.sender.wait_idle(self.exit_timeout if timeout < 0 else timeout):
            self.sender.given_up = True  # waited once already: the exit drain does not wait again
        return self.leaf.close(timeout)


def _describe(event: Any) -> str:
    return event.describe() if isinstance(event, SignedEvent) else "(unsigned)"
