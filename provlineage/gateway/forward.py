"""Drain the outbox into the downstream (Marquez or any OpenLineage transport) through provlineage's spool.

The downstream transport is built by openlineage-python's factory from ``forward.transport`` and wrapped in
:class:`provlineage.transport.delivery.Delivery`, the same spool the producers' ``SigningTransport`` uses: events
the downstream cannot take now wait on disk in order and are re-sent, a 4xx refusal goes to its dead-letter file.
An event leaves the outbox once the Delivery has sent or spooled it; a background thread does this, woken by
each acceptance, and re-sends the spool (in direct mode, under the forwarder's control) when its back-off has
passed.
"""

from __future__ import annotations

import copy
import logging
import threading
from pathlib import Path

from openlineage.client.transport import get_default_factory

from provlineage._internal.signed_event import SignedEvent
from provlineage._internal.spool import Spool
from provlineage.errors import ConfigError
from provlineage.gateway.config import Forward
from provlineage.gateway.metrics import Metrics
from provlineage.gateway.store import Store
from provlineage.transport.delivery import Delivery

__all__ = ["Forwarder", "build_delivery"]

log = logging.getLogger("provlineage.gateway.forward")
_HANDED_OFF = frozenset({"sent", "spooled", "dead-letter"})


def build_delivery(config: Forward, outcomes: threading.local) -> Delivery:
    """The downstream transport behind a spool in ``config.spool_dir``."""
    try:
        leaf = get_default_factory().create(copy.deepcopy(config.transport))
    except Exception as error:
        raise ConfigError(
            f"gateway `forward.transport` cannot be built ({type(error).__name__}: {error})",
            "fix forward.transport (an OpenLineage transport config, e.g. {type: http, url: http://marquez:5000})",
        ) from error
    target = "downstream"
    spool = Spool(Path(config.spool_dir) / target)
    return Delivery(
        leaf, spool, target, retry_interval=config.retry_interval, resend_batch=config.batch, outcomes=outcomes
    )


class Forwarder:
    def __init__(self, store: Store, config: Forward, metrics: Metrics) -> None:
        self.store, self.config, self.metrics = store, config, metrics
        self._outcomes = threading.local()
        self.delivery = build_delivery(config, self._outcomes)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="provlineage-gateway-forwarder", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the batch under way, then return (what is left stays queued in the store)."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        self.delivery.close()

    def spool_state(self) -> tuple[int, float | None]:
        """Events waiting in the spool and the time the oldest was spooled."""
        spool = self.delivery.spool
        try:
            names = spool.pending()
        except OSError:  # unusable (the forwarder logs why)
            return 0, None
        try:
            return len(names), (spool.directory / names[0]).stat().st_mtime if names else None
        except OSError:  # sent meanwhile
            return len(names), None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # a wake from now on means another round
            try:
                moved = self.forward_once()
                self._retry_spool()
            except Exception:
                log.exception("forwarding failed; retrying", extra={"event": "forward-error"})
                moved = 0
                self._stop.wait(1.0)
            if moved < 0:  # neither sent nor spooled: wait as the spool would before trying again
                self._stop.wait(max(self.config.retry_interval, 0.1))
            elif not moved:
                self._wake.wait(0.5)

    def forward_once(self) -> int:
        """Hand one batch of the outbox to the downstream; how many left the outbox (-1: stuck, try later)."""
        stuck = False
        with self.store.claim(self.config.batch) as batch:
            for pending in batch:
                self._outcomes.items = []
                self.delivery.emit(SignedEvent.from_json(pending.body))
                statuses = [outcome.status for outcome in self._outcomes.items]
                if not statuses or not set(statuses) <= _HANDED_OFF:
                    log.error("event %d could not be sent or spooled; kept in the outbox", pending.id)
                    stuck = True
                    break
                batch.mark_forwarded(pending)
                if "dead-letter" in statuses:
                    log.error("downstream refused event %d; see %s", pending.id, self.delivery.spool.dead_letter_path)
            moved = len(batch.done)
        self.metrics.forwarded.inc(moved)
        return -1 if stuck and not moved else moved

    def _retry_spool(self) -> None:
        """Re-send the spool when its back-off (``retry_interval``, doubled per failure in a row) has passed."""
        try:
            if not self.delivery.spool.count():
                return
        except OSError:
            return
        result = self.delivery.drain()
        if result.sent:
            log.info("re-sent %d spooled events downstream", result.sent, extra={"event": "spool-resend"})
