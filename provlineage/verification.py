"""Verify logs of signed events: every record's signature, then every stream's hash chain.

Records come from JSON Lines files (:func:`verify_files`) or from any source of parsed events such as Marquez
(:func:`verify_records`).  Chains are checked per stream: sequence numbers must run 1, 2, 3, ... with each event
linking to the digest of the one before; a missing number is a *gap* (deletion), a repeated one a *duplicate*
(replay) or a *conflict* (two different events), a number that comes after a higher one in a file *out of order*,
and a wrong link a *broken link*.  Truncation at the end needs a checkpoint (see :mod:`provlineage.checkpoint`).

Large logs are checked on all cores: signature checks are independent, chain analysis is done once at the end.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from provlineage._internal.canonical import loads
from provlineage.errors import ProvlineageError
from provlineage.keys import Keyring
from provlineage.legacy import check_legacy, is_legacy_envelope
from provlineage.signing import EventCheck, PendingCheck, Status, inspect_event, inspect_signed_line

PARALLEL_THRESHOLD = 1500


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

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data.pop("event")
        return {key: value for key, value in data.items() if value not in (None, "")}


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

    def problems(self) -> list[RecordResult]:
        return [r for r in self.records if not r.status.verified]

    def verified_events(self) -> list[tuple[RecordResult, dict[str, Any]]]:
        """Events whose signature verified (requires ``keep_events=True``)."""
        return [(r, r.event) for r in self.records if r.status is Status.VALID and r.event is not None]

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "counts": self.counts(),
            "failures": [r.to_json() for r in self.problems()],
            "chain": [asdict(finding) for finding in self.chain],
            "streams": [asdict(summary) for summary in self.streams.values()],
        }


def _is_torn(line: str, error: json.JSONDecodeError) -> bool:
    """A line cut off mid-write: a JSON object that stops before it closes."""
    return line.lstrip().startswith("{") and error.pos >= len(line.rstrip()) - 1


@dataclass
class Inspected:
    """A record after parsing and before authentication; ``retry`` gives its full inspection after a quick one."""

    record: RecordResult
    pending: PendingCheck | None = None
    retry: Callable[[], Inspected] | None = None


def _result(source: str, number: int, check: EventCheck, value: Any, keep_event: bool) -> RecordResult:
    return RecordResult(
        source,
        number,
        check.status,
        check.reason,
        check.key_id,
        check.digest,
        check.stream,
        check.sequence,
        check.previous_digest,
        check.authenticated_by,
        value if keep_event and isinstance(value, dict) else None,
    )


def inspect_line(source: str, number: int, line: str, keyring: Keyring, keep_event: bool) -> Inspected:
    """Check everything but authenticity; a line provlineage wrote is not even parsed unless its event is kept."""
    if not keep_event:
        quick = inspect_signed_line(line, keyring)
        if quick is not None:
            record = _result(source, number, quick.check, None, False)
            return Inspected(record, quick, lambda: _inspect_line_fully(source, number, line, keyring, keep_event))
    return _inspect_line_fully(source, number, line, keyring, keep_event)


def _inspect_line_fully(source: str, number: int, line: str, keyring: Keyring, keep_event: bool) -> Inspected:
    try:
        value = loads(line)
    except json.JSONDecodeError as error:
        if _is_torn(line, error):
            reason = "record cut off mid-write (the writer crashed); it was never complete"
            return Inspected(RecordResult(source, number, Status.TORN, reason))
        reason = f"not JSON ({error.msg}); each line must be one OpenLineage event"
        return Inspected(RecordResult(source, number, Status.MALFORMED, reason))
    except (ValueError, ProvlineageError) as error:
        return Inspected(RecordResult(source, number, Status.MALFORMED, f"not acceptable JSON ({error})"))
    return _inspect(source, number, value, keyring, keep_event, line=line, may_hold_nulls="null" in line)


def _inspect(
    source: str, number: int, value: Any, keyring: Keyring, keep_event: bool, *, line: str | None, may_hold_nulls: bool
) -> Inspected:
    if is_legacy_envelope(value):
        return Inspected(_result(source, number, check_legacy(value, keyring), value, keep_event))
    inspected = inspect_event(value, keyring, line=line, may_hold_nulls=may_hold_nulls)
    if isinstance(inspected, EventCheck):
        return Inspected(_result(source, number, inspected, value, keep_event))
    return Inspected(_result(source, number, inspected.check, value, keep_event), inspected)


def _authenticate_one(pending: PendingCheck, voucher: tuple[int, str | None, str | None] | None) -> EventCheck:
    check = pending.check
    if voucher is not None and voucher[0] == check.sequence + 1 and voucher[2] == check.key_id and voucher[1]:  # type: ignore[operator]
        return pending.by_successor(voucher[1])
    return pending.by_signature()


def authenticate(items: list[Inspected], *, every_signature: bool = False) -> list[RecordResult]:
    """Authenticate inspected records, in stream order, last first.

    The last record of each stream (and any record whose successor does not vouch for it) has its signature
    checked; every other record is authenticated by its successor's signed link to its digest.  Same assurance,
    one signature check per stream instead of one per record.  ``every_signature`` checks each record's own.
    """
    vouchers: dict[str, tuple[int, str | None, str | None]] = {}
    results: list[RecordResult] = []
    for item in reversed(items):
        record, pending = item.record, item.pending
        if pending is not None:
            stream = pending.check.stream
            voucher = None if every_signature or stream is None else vouchers.get(stream)
            check = _authenticate_one(pending, voucher)
            if check.status is not Status.VALID and item.retry is not None:
                full = item.retry()
                record, pending = full.record, full.pending
                if pending is not None:
                    check = _authenticate_one(pending, voucher)
            if pending is not None:
                record.status, record.reason = check.status, check.reason
                record.digest, record.authenticated_by = check.digest, check.authenticated_by
                if check.stream is not None:
                    if check.status is Status.VALID:
                        vouchers[check.stream] = (check.sequence, check.previous_digest, check.key_id)  # type: ignore[assignment]
                    else:
                        vouchers.pop(check.stream, None)
        results.append(record)
    results.reverse()
    return results


# --- parallel checking ---------------------------------------------------------------------------------------
_worker_keyring: Keyring | None = None
_worker_lines: Sequence[tuple[str, int, str]] = ()


def _init_worker(pems: list[bytes], lines: Sequence[tuple[str, int, str]] | None) -> None:
    global _worker_keyring, _worker_lines  # noqa: PLW0603 - one keyring and log per worker process
    _worker_keyring = Keyring.from_pems(pems)
    if lines is not None:
        _worker_lines = lines


def _check_range(start: int, stop: int, keep_events: bool, every_signature: bool) -> list[RecordResult]:
    assert _worker_keyring is not None
    return _check_chunk(_worker_lines[start:stop], keep_events, every_signature, _worker_keyring)


def _check_chunk(
    chunk: Sequence[tuple[str, int, str]], keep_events: bool, every_signature: bool, keyring: Keyring
) -> list[RecordResult]:
    items = [inspect_line(source, number, line, keyring, keep_events) for source, number, line in chunk]
    return authenticate(items, every_signature=every_signature)


def _worker_count(requested: int | None, records: int) -> int:
    if requested is not None:
        return max(1, requested)
    if records < PARALLEL_THRESHOLD:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, 8))


def check_lines(
    lines: Sequence[tuple[str, int, str]],
    keyring: Keyring,
    *,
    keep_events: bool = False,
    workers: int | None = None,
    every_signature: bool = False,
) -> list[RecordResult]:
    """Check many records, on several processes when there are many (each range authenticates on its own).

    Forked workers inherit the lines, so only index ranges and results cross process boundaries.
    """
    count = _worker_count(workers, len(lines))
    if count == 1:
        return _check_chunk(lines, keep_events, every_signature, keyring)
    size = -(-len(lines) // count)
    starts = list(range(0, len(lines), size))
    stops = [min(start + size, len(lines)) for start in starts]
    forking = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if forking else "spawn")
    global _worker_lines  # noqa: PLW0603 - inherited by forked workers
    _worker_lines = lines if forking else ()
    initargs = (keyring.pems, None if forking else list(lines))
    try:
        with ProcessPoolExecutor(count, mp_context=context, initializer=_init_worker, initargs=initargs) as pool:
            parts = pool.map(_check_range, starts, stops, [keep_events] * len(starts), [every_signature] * len(starts))
            return [result for part in parts for result in part]
    finally:
        _worker_lines = ()


# --- reading logs --------------------------------------------------------------------------------------------
def read_log(path: str | os.PathLike[str]) -> list[tuple[str, int, str]]:
    """Non-empty lines of a JSON Lines log as (source, line number, text)."""
    source = str(path)
    try:
        with open(path, encoding="utf-8", errors="surrogateescape", newline="\n") as handle:
            return [(source, number, line) for number, line in enumerate(handle, 1) if line.strip()]
    except FileNotFoundError:
        raise ProvlineageError(
            f"log file {source} does not exist", "check the path (the file backend writes the `path` you configured)"
        ) from None
    except IsADirectoryError:
        raise ProvlineageError(f"{source} is a directory, not a log file", "pass the JSON Lines file itself") from None
    except OSError as error:
        raise ProvlineageError(
            f"log file {source} cannot be read ({error.strerror})", "check its permissions"
        ) from None


# --- chains --------------------------------------------------------------------------------------------------
def _ranges(numbers: list[int]) -> str:
    spans, start = [], numbers[0]
    for previous, current in zip(numbers, [*numbers[1:], None], strict=True):
        if current != previous + 1:
            spans.append(f"{start}" if start == previous else f"{start}-{previous}")
            if current is not None:
                start = current
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
        if record.status is Status.VALID and record.stream is not None and record.sequence is not None:
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
        missing = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
        if missing:
            findings.append(
                ChainFinding(
                    stream, "gap", f"missing sequence {_ranges(missing)} of {numbers[-1]} (deleted or never delivered)"
                )
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


def build_report(results: list[RecordResult], *, in_log_order: bool = True) -> Report:
    findings, summaries = analyze_chains(results, in_log_order=in_log_order)
    return Report(results, findings, summaries)


def verify_files(
    paths: Sequence[str | os.PathLike[str]],
    keyring: Keyring,
    *,
    keep_events: bool = False,
    workers: int | None = None,
    every_signature: bool = False,
) -> Report:
    """Verify JSON Lines logs, in the order given (one log split over several files is read as one)."""
    lines: list[tuple[str, int, str]] = []
    for path in paths:
        lines.extend(read_log(path))
    return build_report(
        check_lines(lines, keyring, keep_events=keep_events, workers=workers, every_signature=every_signature)
    )


def verify_records(
    records: Iterable[tuple[str, int, Any]],
    keyring: Keyring,
    *,
    keep_events: bool = False,
    in_log_order: bool = False,
    every_signature: bool = False,
) -> Report:
    """Verify already-parsed records (e.g. events read back from Marquez), as (source, position, value).

    Values must be parsed with :func:`provlineage._internal.canonical.loads` (not ``json.loads``), so that numbers
    keep the spelling rules of the canonical form.
    """
    items = [
        _inspect(source, number, value, keyring, keep_events, line=None, may_hold_nulls=True)
        for source, number, value in records
    ]
    if not in_log_order:  # authenticate along each stream's sequence, whatever order the source returned
        order = sorted(
            range(len(items)), key=lambda i: (items[i].record.stream or "", items[i].record.sequence or 0, i)
        )
        ranked = authenticate([items[i] for i in order])
        results: list[RecordResult] = [None] * len(items)  # type: ignore[list-item]
        for position, result in zip(order, ranked, strict=True):
            results[position] = result
    else:
        results = authenticate(items)
    return build_report(results, in_log_order=in_log_order)
