"""Delivery that loses nothing: each inner backend gets its own spool, re-sent in order.

:class:`SigningTransport` wraps every *leaf* of its inner transport tree (the children of a ``composite`` are
wrapped one by one) in a :class:`Delivery`.  Spooling per leaf matters: ``composite`` swallows a child's failure
when ``continue_on_failure`` is true, and with file + HTTP a re-send must not write the file a second time.

For each event a :class:`Delivery`, holding its spool's lock:

* sends it at once when nothing is spooled;
* otherwise first re-sends the spooled events, oldest first (at most ``resend_batch`` per emit, and not before
  ``retry_interval`` seconds after the last failure), and sends the new event only if the spool emptied,
  else appends it to the spool, so the backend receives every event in order;
* on a failure that may pass (connection refused, timeout, HTTP 5xx, 408, 429, any non-HTTP error) stores
  the event in the spool; on an HTTP 4xx refusal writes it, with the status and the server's answer, to
  ``dead-letter.jsonl`` instead of retrying it forever.

``provlineage flush`` re-sends everything spooled, ignoring the retry interval.

Notes for configuring the inner backends:

* ``http``: its own urllib3 retries (5, with back-off, by default) run while the chain lock is held; since the spool
  retries anyway, ``retry: {total: 0}`` (or 1) keeps a failing emit short.
* ``async_http`` reports failures in the background, where no spool sees them: use ``http``.
* ``kafka`` picks its message key from typed events only; with signed events give ``messageKey`` explicitly.
* A spool directory is named after the transport's ``name`` (the key under a ``composite`` mapping) or its kind;
  renaming a transport leaves its spool behind, which ``provlineage flush`` reports.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from openlineage.client.serde import Serde
from openlineage.client.transport.transport import Transport

from provlineage._internal.signed_event import SignedEvent, to_json_line
from provlineage._internal.spool import Spool, SpoolQueue

log = logging.getLogger(__name__)

#: HTTP 4xx answers that say "try later" rather than "never".
RETRYABLE_CLIENT_ERRORS = frozenset({408, 425, 429})
#: An emit re-sends spooled events for at most this long before it returns to the user's job.
RESEND_BUDGET_SECONDS = 5.0


@dataclass
class Outcome:
    """What happened to one event at one backend: ``sent``, ``spooled``, ``dead-letter`` or ``failed``."""

    target: str
    status: str
    detail: str = ""


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
    ) -> None:
        self.leaf = leaf
        self.spool = spool
        self.target = target
        self.name = leaf.name
        self.priority = leaf.priority
        self.retry_interval = retry_interval
        self.resend_batch = resend_batch
        self._outcomes = outcomes

    def __str__(self) -> str:
        return f"<spooled {self.leaf}>"

    def _record(self, status: str, detail: str = "") -> None:
        outcomes = getattr(self._outcomes, "items", None)
        if outcomes is not None:
            outcomes.append(Outcome(self.target, status, detail))

    def emit(self, event: Any) -> None:
        with contextlib.ExitStack() as stack:
            try:
                queue = stack.enter_context(self.spool.locked())
            except OSError as error:
                self._send_unspooled(event, error)
                return
            if queue.pending():
                if not queue.due():
                    self._store(queue, event, "waiting to re-send earlier events")
                    return
                self._resend(queue, self.resend_batch, RESEND_BUDGET_SECONDS)
                if queue.pending():
                    self._store(queue, event, queue.last_error() or "earlier events are still spooled")
                    return
            self._send(queue, event)

    def _send(self, queue: SpoolQueue, event: Any) -> None:
        try:
            self.leaf.emit(event)
        except Exception as error:
            permanent, status, reason = classify(error)
            text = _text_of(event)
            if permanent:
                path = queue.dead_letter(text, target=self.target, status=status, reason=reason)
                log.error(
                    "provlineage: %s refused event %s (%s); written to %s", self.target, _describe(event), reason, path
                )
                self._record("dead-letter", reason)
                return
            queue.defer(self.retry_interval, reason)
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

    def _send_unspooled(self, event: Any, spool_error: OSError) -> None:
        try:
            self.leaf.emit(event)
        except Exception as error:
            reason = f"{classify(error)[2]}; and spool {self.spool.directory} is unusable ({spool_error})"
            log.error("provlineage: event %s lost for %s: %s", _describe(event), self.target, reason)
            self._record("failed", reason)
            return
        log.warning(
            "provlineage: spool %s is unusable (%s); events are sent without a safety net",
            self.spool.directory,
            spool_error,
        )
        self._record("sent")

    def _store(self, queue: SpoolQueue, event: Any, why: str) -> None:
        queue.append(_text_of(event))
        log.debug("provlineage: event %s spooled for %s (%s)", _describe(event), self.target, why)
        self._record("spooled", why)

    def _resend(self, queue: SpoolQueue, limit: int | None, budget: float | None = None) -> FlushResult:
        sent = dead = 0
        deadline = None if budget is None else time.monotonic() + budget
        for name in list(queue.pending()[:limit] if limit else queue.pending()):
            if deadline is not None and time.monotonic() > deadline:
                break
            try:
                text = queue.read(name)
                event = SignedEvent.from_json(text)
            except (ValueError, AttributeError) as error:  # damaged on disk: set aside, do not block the queue
                path = queue.dead_letter_file(
                    name, target=self.target, reason=f"spooled file is not a JSON event ({error})"
                )
                log.error("provlineage: spooled file %s for %s is damaged; moved to %s", name, self.target, path)
                dead += 1
                queue.remove(name)
                continue
            try:
                self.leaf.emit(event)
            except Exception as error:
                permanent, status, reason = classify(error)
                if not permanent:
                    queue.defer(self.retry_interval, reason)
                    if sent or dead:
                        log.info(
                            "provlineage: re-sent %d spooled events to %s before it failed again", sent, self.target
                        )
                    return FlushResult(self.target, sent, dead, len(queue.pending()), reason)
                path = queue.dead_letter(text, target=self.target, status=status, reason=reason)
                log.error(
                    "provlineage: %s refused spooled event %s (%s); written to %s",
                    self.target,
                    event.describe(),
                    reason,
                    path,
                )
                dead += 1
            else:
                sent += 1
            queue.remove(name)
        if not queue.pending():
            queue.clear()
        if sent:
            log.info("provlineage: re-sent %d spooled events to %s", sent, self.target)
        return FlushResult(self.target, sent, dead, len(queue.pending()))

    def flush(self) -> FlushResult:
        """Re-send every spooled event now, in order, until one fails."""
        with self.spool.locked() as queue:
            return self._resend(queue, None)

    def close(self, timeout: float = -1) -> bool:
        return self.leaf.close(timeout)


def _describe(event: Any) -> str:
    return event.describe() if isinstance(event, SignedEvent) else "(unsigned)"
