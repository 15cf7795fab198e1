"""The thread that sends a deferred backend's spool, and :func:`settle`, the step after the chain lock.

Each deferred :class:`~provlineage.transport.delivery.Delivery` has one :class:`Sender` per process, started on
demand and ended after a few idle seconds.  An emit appends its event to the spool under the chain lock, then
:func:`settle` wakes the sender and waits for it a bounded time; the sender itself may wait for the spool's send
lock and for a slow backend as long as it takes, without holding up anyone's emit.  At process exit senders still
at work get ``exit_timeout`` seconds; what they do not finish stays spooled (durable) for the next emit or
``provlineage flush``.  After ``fork()`` the child starts with fresh senders (the parent's threads do not exist
there).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from provlineage.transport.delivery import Delivery, Outcome

log = logging.getLogger("provlineage.transport.delivery")

#: A sender thread with nothing to do for this long ends (a later emit starts another).
_IDLE_SECONDS = 5.0
#: How often a waiting emit looks whether another process's sender took its event.
_POLL_SECONDS = 0.05


class Sender:
    """This process's thread that sends one deferred backend's spool, woken by each emit."""

    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery
        self._reset()
        _SENDERS.add(self)

    def _reset(self) -> None:
        self._cond = threading.Condition()
        self._asked = self._done = 0
        self._busy_since: float | None = None
        self._thread: threading.Thread | None = None
        self.given_up = False
        self.refused: set[str] = set()
        """Entries this process's sender wrote to the dead letters (read once by :func:`settle`)."""

    def kick(self) -> int:
        """Ask for a send round; returns a ticket to :meth:`wait` for."""
        with self._cond:
            self._asked += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name=f"provlineage-send-{self.delivery.target}", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()
            return self._asked

    def stuck_for(self) -> float:
        """How long the current round has been running (0 when idle)."""
        since = self._busy_since
        return 0.0 if since is None else time.monotonic() - since

    def wait(self, ticket: int, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._done >= ticket, timeout=max(timeout, 0.0))

    def wait_idle(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._done >= self._asked, timeout=max(timeout, 0.0))

    def progressed(self) -> None:
        """An entry left the spool: wake the emits waiting for theirs."""
        with self._cond:
            self._cond.notify_all()

    def outstanding(self) -> bool:
        return self._done < self._asked

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._cond.wait_for(lambda: self._asked > self._done, timeout=_IDLE_SECONDS):
                    self._thread = None
                    return
                target = self._asked
                self._busy_since = time.monotonic()
            try:
                self.delivery.drain()
            except Exception as error:  # a sender must not die silently: the events stay spooled
                log.error(
                    "provlineage: sending the spool of %s failed (%s: %s); events stay spooled",
                    self.delivery.target,
                    type(error).__name__,
                    error,
                )
            with self._cond:
                self._done = target
                self._busy_since = None
                self._cond.notify_all()


_SENDERS: weakref.WeakSet[Sender] = weakref.WeakSet()


def settle(outcomes: list[Outcome], timeout: float) -> None:
    """After the chain lock: send what deferred backends queued, waiting at most ``timeout`` s in all.

    A sender already stuck on earlier events for longer than ``timeout`` is not waited for: the event is safe in
    the spool, and the user's job goes on.
    """
    deadline = time.monotonic() + timeout
    tickets: dict[int, int] = {}
    for outcome in outcomes:
        delivery = outcome.delivery
        sender = None if delivery is None or outcome.status != "queued" else delivery.sender
        if sender is not None and id(delivery) not in tickets and (sender.outstanding() or delivery.spool.due()):
            tickets[id(delivery)] = sender.kick()
    for outcome in outcomes:
        delivery = outcome.delivery
        if delivery is None or delivery.sender is None:
            continue
        if outcome.status == "unspooled":
            _send_from_memory(outcome, delivery, deadline)
            continue
        if outcome.status != "queued" or outcome.entry is None:
            continue
        ticket = tickets.get(id(delivery))
        if ticket is not None and delivery.sender.stuck_for() <= timeout:
            _wait_for_entry(delivery, outcome.entry, ticket, deadline)
        if not delivery.spool.holds(outcome.entry):
            refused = outcome.entry in delivery.sender.refused
            delivery.sender.refused.discard(outcome.entry)
            outcome.status = "dead-letter" if refused else "sent"
            outcome.detail = f"see {delivery.spool.dead_letter_path}" if refused else ""
        else:
            try:
                delivery.spool.sync(outcome.entry)  # it waits: make it survive an OS crash too
            except OSError as error:
                log.warning("provlineage: spooled event %s could not be synced to disk (%s)", outcome.entry, error)
            outcome.status = "spooled"
            outcome.detail = delivery.spool.last_error() or "the backend has not answered yet"


def _wait_for_entry(delivery: Delivery, entry: str, ticket: int, deadline: float) -> None:
    """Until ``entry`` has left the spool (sent by this process's sender or another's), the round ends, or time is up.

    Woken by each event this process's sender sends; another process's sender is noticed within ``_POLL_SECONDS``.
    """
    sender = delivery.sender
    assert sender is not None
    with sender._cond:
        while delivery.spool.holds(entry) and sender._done < ticket:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            sender._cond.wait(min(remaining, _POLL_SECONDS))


def _send_from_memory(outcome: Outcome, delivery: Delivery, deadline: float) -> None:
    result: list[bool] = []
    spool_error = outcome.detail
    thread = threading.Thread(
        target=lambda: result.append(delivery._send_unspooled(outcome.event, spool_error)), daemon=True
    )
    thread.start()
    thread.join(max(deadline - time.monotonic(), 0.0))
    outcome.event = None
    outcome.status = "sent" if result == [True] else "failed"


def _drain_at_exit() -> None:
    """At process exit, one more round for spools whose back-off has passed, and senders still at work get up to
    their ``exit_timeout`` (shared) to finish."""
    for sender in list(_SENDERS):
        spool = sender.delivery.spool
        if not sender.given_up and not sender.outstanding() and spool.count() and spool.due():
            sender.kick()
    busy = [sender for sender in list(_SENDERS) if sender.outstanding() and not sender.given_up]
    if not busy:
        return
    deadline = time.monotonic() + max(sender.delivery.exit_timeout for sender in busy)
    for sender in busy:
        if not sender.wait_idle(deadline - time.monotonic()):
            log.warning(
                "provlineage: %s is still sending at exit; %d events stay spooled for the next run or "
                "`provlineage flush`",
                sender.delivery.target,
                sender.delivery.spool.count(),
            )


def _after_fork_in_child() -> None:
    for sender in list(_SENDERS):
        sender._reset()  # the parent's thread and lock state do not exist in the child


atexit.register(_drain_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
