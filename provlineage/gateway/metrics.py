"""Prometheus metrics: counters kept by this process, gauges read from the shared store at scrape time.

Counters (accepted, rejected by reason, duplicates, rate-limited, forwarded, latency) are per process, as usual
for Prometheus (sum them across instances).  Open gaps and the forward queue come from the store and spool, so
every process of a PostgreSQL-backed cluster reports the same cluster-wide values.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from provlineage.gateway.store import Stats

__all__ = ["Metrics"]

_PREFIX = "provlineage_gateway"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.accepted = Counter(
            f"{_PREFIX}_accepted", "Events accepted and queued", ["producer"], registry=self.registry
        )
        self.rejected = Counter(
            f"{_PREFIX}_rejected", "Requests refused and quarantined", ["reason"], registry=self.registry
        )
        self.duplicates = Counter(
            f"{_PREFIX}_duplicates", "Exact re-sends answered idempotently", ["producer"], registry=self.registry
        )
        self.rate_limited = Counter(
            f"{_PREFIX}_rate_limited", "Requests answered 429", ["producer"], registry=self.registry
        )
        self.unrecorded = Counter(
            f"{_PREFIX}_unauthenticated_unrecorded",
            "Unauthenticated requests answered 401 but not quarantined (over limits.unauthenticated_rate_limit)",
            registry=self.registry,
        )
        self.forwarded = Counter(
            f"{_PREFIX}_forwarded", "Events handed to the downstream (sent or spooled)", registry=self.registry
        )
        self.latency = Histogram(
            f"{_PREFIX}_request_seconds",
            "Latency of POST /api/v1/lineage",
            ["status"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )

    def watch(self, stats: Callable[[], Stats], spool: Callable[[], tuple[int, float | None]]) -> None:
        """Add the gauges that are read at scrape time (``spool`` gives its depth and oldest event time)."""
        self.registry.register(_StateCollector(stats, spool))


class _StateCollector(Collector):
    def __init__(self, stats: Callable[[], Stats], spool: Callable[[], tuple[int, float | None]]) -> None:
        self._stats, self._spool = stats, spool

    def collect(self) -> Iterator[Metric]:
        try:
            state = self._stats()
        except Exception:  # /metrics must answer while the store is away; readyz says why
            yield GaugeMetricFamily(f"{_PREFIX}_store_up", "Whether the store answered this scrape", 0)
            return
        yield GaugeMetricFamily(f"{_PREFIX}_store_up", "Whether the store answered this scrape", 1)
        spooled, spooled_since = self._spool()
        now = time.time()
        yield GaugeMetricFamily(
            f"{_PREFIX}_open_gap_streams", "Streams with missing sequence numbers", state.streams_with_gaps
        )
        yield GaugeMetricFamily(
            f"{_PREFIX}_open_gap_events",
            "Sequence numbers below a stream's head not (yet) received",
            state.missing_events,
        )
        yield GaugeMetricFamily(
            f"{_PREFIX}_open_gap_oldest_seconds",
            "How long the oldest open gap has been open (0 when none); alert when it stays open",
            now - state.oldest_gap_since if state.oldest_gap_since is not None else 0.0,
        )
        depth = GaugeMetricFamily(
            f"{_PREFIX}_forward_queue_depth", "Accepted events not yet delivered downstream", labels=["stage"]
        )
        depth.add_metric(["outbox"], state.queued)
        depth.add_metric(["spool"], spooled)
        yield depth
        oldest = [t for t in (state.oldest_queued_at, spooled_since) if t is not None]
        yield GaugeMetricFamily(
            f"{_PREFIX}_forward_lag_seconds",
            "Age of the oldest accepted event not yet delivered downstream (0 when none waits)",
            max(0.0, now - min(oldest)) if oldest else 0.0,
        )
