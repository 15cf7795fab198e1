"""What verification finds: per-record results, chain findings, per-stream summaries and the report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from provlineage.signature_check import Status


@dataclass
class RecordResult:
    """One record of a log and what verification found."""

    source: str
    line: int
    status: Status
    reason: str = ""
    key_id: str | None = None
    digest: str | None = None
    stream: str | None = None
    sequence: int | None = None
    previous_digest: str | None = None
    authenticated_by: str | None = None
    event: dict[str, Any] | None = None
    withheld: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data.pop("event")
        return {key: value for key, value in data.items() if value not in (None, "", ())}


@dataclass
class ChainFinding:
    """A problem with a stream's chain: gap, duplicate, conflict, out-of-order, broken-link or truncated."""

    stream: str
    kind: str
    detail: str
    source: str = ""
    line: int = 0


@dataclass
class StreamSummary:
    stream: str
    key_id: str | None
    count: int
    first_sequence: int
    last_sequence: int
    head_digest: str | None


@dataclass
class Report:
    records: list[RecordResult] = field(default_factory=list)
    chain: list[ChainFinding] = field(default_factory=list)
    streams: dict[str, StreamSummary] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        counts = {status.value: 0 for status in Status}
        for record in self.records:
            counts[record.status.value] += 1
        counts["chainErrors"] = len(self.chain)
        return counts

    @property
    def ok(self) -> bool:
        return bool(self.records) and not self.chain and all(r.status.verified for r in self.records)

    def withheld(self) -> list[RecordResult]:
        """Verified records from which values were withheld after signing (``provlineage withhold``)."""
        return [r for r in self.records if r.status is Status.WITHHELD]

    def problems(self) -> list[RecordResult]:
        return [r for r in self.records if not r.status.verified]

    def notes(self) -> list[RecordResult]:
        """Records that verified with something to say (numbers read as doubles); withheld ones say it there."""
        return [r for r in self.records if r.status is Status.VALID and r.reason]

    def verified_events(self) -> list[tuple[RecordResult, dict[str, Any]]]:
        """Events whose signature verified (requires ``keep_events=True``)."""
        return [(r, r.event) for r in self.records if r.status.chained and r.event is not None]

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "counts": self.counts(),
            "failures": [r.to_json() for r in self.problems()],
            "notes": [r.to_json() for r in self.notes()],
            "chain": [asdict(finding) for finding in self.chain],
            "streams": [asdict(summary) for summary in self.streams.values()],
        }
