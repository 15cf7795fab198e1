"""Which destination each stream was written for, and streams that do not belong to the log that holds them.

A stream id written by ``SigningTransport`` ends with ``@<destination>``: the backends the stream was bound to when
its events were signed (``file://<host>/<path>`` for a file log, a URL for HTTP, several separated by spaces for
a composite, or the transport's ``destination`` setting).  The id is inside the signed chain payload, so it cannot
be changed without breaking the signature.

Every stream honestly written to one log names that log among its destinations, so the streams of one log share
at least one destination.  A stream that shares none with the others was written for somewhere else and
copied in: a whole foreign stream (another host's events signed by the same key) verifies on its own, but not as
part of this log.  Each source file is checked on its own (several logs may be verified in one run), and the
destination most streams of the file share is taken as the file's.  Stream ids without a destination (written
before streams were bound) are not checked.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from provlineage.verification.results import ChainFinding, RecordResult


def destinations(stream: str) -> frozenset[str]:
    """The destinations bound into a stream id (empty for ids written before streams were bound)."""
    _, at, bound = stream.partition("@")
    return frozenset(bound.split()) if at else frozenset()


def foreign_streams(records: Iterable[RecordResult]) -> list[ChainFinding]:
    """A ``foreign-stream`` finding for each stream bound to none of the destinations its file's other streams share."""
    by_source: dict[str, dict[str, int]] = defaultdict(dict)
    first_line: dict[tuple[str, str], int] = {}
    for record in records:
        if record.status.chained and record.stream is not None and destinations(record.stream):
            counts = by_source[record.source]
            counts[record.stream] = counts.get(record.stream, 0) + 1
            first_line.setdefault((record.source, record.stream), record.line)
    findings: list[ChainFinding] = []
    for source, streams in by_source.items():
        if len(streams) < 2:
            continue
        votes: Counter[str] = Counter()
        for stream, count in streams.items():
            for destination in destinations(stream):
                votes[destination] += 1_000_000 + count  # streams first, events break ties
        home, _ = min(votes.items(), key=lambda item: (-item[1], item[0]))
        for stream in sorted(streams):
            if home not in destinations(stream):
                findings.append(
                    ChainFinding(
                        stream,
                        "foreign-stream",
                        f"written for {' and '.join(sorted(destinations(stream)))}, not for {home} like the other "
                        f"streams of this log ({streams[stream]} events): copied in from another log or host",
                        source,
                        first_line[(source, stream)],
                    )
                )
    return findings
