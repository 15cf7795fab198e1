"""Analyse each stream's hash chain: gaps, duplicates, conflicts, order and broken links."""

from __future__ import annotations

from collections.abc import Iterable

from provlineage.verification.results import ChainFinding, RecordResult, StreamSummary


def _missing_spans(numbers: list[int]) -> str:
    """The numbers missing from 1..max of sorted ``numbers``, as spans (``"3, 7-9"``), without listing them: a
    signed sequence number can be huge, and the gap before it must not take memory in proportion."""
    spans, expected = [], 1
    for number in numbers:
        if number > expected:
            spans.append(f"{expected}" if number == expected + 1 else f"{expected}-{number - 1}")
        expected = number + 1
    return ", ".join(spans)


def analyze_chains(
    records: Iterable[RecordResult], *, in_log_order: bool = True
) -> tuple[list[ChainFinding], dict[str, StreamSummary]]:
    """Find gaps, duplicates, conflicts, reordering and broken links in every stream.

    ``in_log_order`` is false for sources with no meaningful order (Marquez returns events by time), where only
    the sequence numbers and links are checked.
    """
    by_stream: dict[str, list[RecordResult]] = {}
    for record in records:
        if record.status.chained and record.stream is not None and record.sequence is not None:
            by_stream.setdefault(record.stream, []).append(record)
    findings: list[ChainFinding] = []
    summaries: dict[str, StreamSummary] = {}
    for stream, members in by_stream.items():
        if in_log_order:
            highest = 0
            for record in members:
                if record.sequence < highest:  # type: ignore[operator]
                    findings.append(
                        ChainFinding(
                            stream,
                            "out-of-order",
                            f"sequence {record.sequence} comes after {highest}",
                            record.source,
                            record.line,
                        )
                    )
                highest = max(highest, record.sequence)  # type: ignore[type-var]
        by_sequence: dict[int, RecordResult] = {}
        for record in members:
            seen = by_sequence.get(record.sequence)  # type: ignore[arg-type]
            if seen is None:
                by_sequence[record.sequence] = record  # type: ignore[index]
            elif seen.digest == record.digest:
                findings.append(
                    ChainFinding(
                        stream,
                        "duplicate",
                        f"sequence {record.sequence} appears again (replayed event; first at line {seen.line})",
                        record.source,
                        record.line,
                    )
                )
            else:
                findings.append(
                    ChainFinding(
                        stream,
                        "conflict",
                        f"two different events claim sequence {record.sequence} (other at line {seen.line})",
                        record.source,
                        record.line,
                    )
                )
        numbers = sorted(by_sequence)
        missing = _missing_spans(numbers)
        if missing:
            findings.append(
                ChainFinding(stream, "gap", f"missing sequence {missing} of {numbers[-1]} (deleted or never delivered)")
            )
        for number in numbers[1:]:
            before, record = by_sequence.get(number - 1), by_sequence[number]
            if before is not None and record.previous_digest != before.digest:
                findings.append(
                    ChainFinding(
                        stream,
                        "broken-link",
                        f"sequence {number} does not link to the digest of sequence {number - 1}",
                        record.source,
                        record.line,
                    )
                )
        if by_sequence.get(1) is not None and by_sequence[1].previous_digest is not None:
            findings.append(
                ChainFinding(
                    stream,
                    "broken-link",
                    "sequence 1 links to an earlier event",
                    by_sequence[1].source,
                    by_sequence[1].line,
                )
            )
        head = by_sequence[numbers[-1]]
        summaries[stream] = StreamSummary(stream, head.key_id, len(members), numbers[0], numbers[-1], head.digest)
    return findings, summaries
