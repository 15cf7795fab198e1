"""Import watermarks: which runs an import must (re)write, given what the graph already holds.

Each signing stream gets a ``(:ProvlineageImport {stream, sequence, digest})`` node: the last event imported.  A
run is written when any of its events is past its stream's watermark (or has no stream); a watermark is trusted
only when the log still holds a verified event with that stream, sequence and digest.  No driver here, so the
rule is testable without a database.
"""

from __future__ import annotations

from dataclasses import dataclass

from provlineage.lineage.graph import Lineage


@dataclass(frozen=True)
class Mark:
    """The last event of a stream that an import wrote."""

    stream: str
    sequence: int
    digest: str


def stream_heads(lineage: Lineage) -> dict[str, Mark]:
    """The last verified event of each stream (highest sequence)."""
    heads: dict[str, Mark] = {}
    for run in lineage.runs.values():
        for event in run.events:
            if event.stream is None or event.sequence is None or event.digest is None:
                continue
            head = heads.get(event.stream)
            if head is None or event.sequence > head.sequence:
                heads[event.stream] = Mark(event.stream, event.sequence, event.digest)
    return heads


def runs_to_write(lineage: Lineage, marks: dict[str, Mark]) -> tuple[list[str], list[str]]:
    """Run ids with an event past its stream's (trusted) watermark, and a note per watermark not trusted."""
    known = {(event.stream, event.sequence): event.digest for run in lineage.runs.values() for event in run.events}
    streams = {stream for stream, _ in known}
    trusted, notes = {}, []
    for mark in marks.values():
        if known.get((mark.stream, mark.sequence)) == mark.digest:
            trusted[mark.stream] = mark.sequence
        elif mark.stream in streams:
            notes.append(
                f"stream {mark.stream}: the graph's watermark (sequence {mark.sequence}) is not a verified event "
                "of this log; the stream is imported in full"
            )
    scope = []
    for run in lineage.runs.values():
        if any(
            event.stream is None or event.sequence is None or event.sequence > trusted.get(event.stream, -1)
            for event in run.events
        ):
            scope.append(run.run_id)
    return scope, notes
