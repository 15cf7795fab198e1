"""Verify logs of signed events: every record's signature, then every stream's hash chain.

Records come from JSON Lines files (:func:`verify_files`) or from any source of parsed events such as Marquez
(:func:`verify_records`).  Chains are checked per stream: sequence numbers must run 1, 2, 3, ... with each event
linking to the digest of the one before; a missing number is a *gap* (deletion), a repeated one a *duplicate*
(replay) or a *conflict* (two different events), a number that comes after a higher one in a file *out of order*,
and a wrong link a *broken link*.  Truncation at the end needs a checkpoint (see :mod:`provlineage.checkpoint`).

Large logs are checked on all cores: signature checks are independent, chain analysis is done once at the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from provlineage._internal.collection import collection_paused
from provlineage._internal.forked import fork_allowed, usable_cores
from provlineage.keys import Keyring
from provlineage.verification.chains import analyze_chains
from provlineage.verification.parallel import PARALLEL_THRESHOLD, check_lines
from provlineage.verification.ranges import PARALLEL_BYTES, check_files_forked
from provlineage.verification.reading import log_sizes, read_log
from provlineage.verification.records import Inspected, _inspect, authenticate, inspect_line
from provlineage.verification.results import ChainFinding, RecordResult, Report, StreamSummary
from provlineage.verification.streams import foreign_streams

__all__ = [
    "PARALLEL_BYTES",
    "PARALLEL_THRESHOLD",
    "ChainFinding",
    "Inspected",
    "RecordResult",
    "Report",
    "StreamSummary",
    "analyze_chains",
    "authenticate",
    "build_report",
    "check_lines",
    "inspect_line",
    "read_log",
    "verify_files",
    "verify_records",
]


def build_report(results: list[RecordResult], *, in_log_order: bool = True) -> Report:
    findings, summaries = analyze_chains(results, in_log_order=in_log_order)
    findings += foreign_streams(results)  # a stream written for another destination (streams.py)
    return Report(results, findings, summaries)


def verify_files(
    paths: Sequence[str | os.PathLike[str]],
    keyring: Keyring,
    *,
    keep_events: bool = False,
    workers: int | None = None,
    every_signature: bool = False,
) -> Report:
    """Verify JSON Lines logs, in the order given (one log split over several files is read as one).

    From :data:`PARALLEL_BYTES` on (or when ``workers`` says so), the logs are split into byte ranges that forked
    processes read and check on all cores (:mod:`provlineage.verification.ranges`).
    """
    with collection_paused():  # lines, results and findings: many objects, no cycles
        sizes = log_sizes(list(paths))
        count = _file_workers(workers, sum(size for _, size in sizes)) if sizes else 1
        if sizes and count > 1 and fork_allowed():
            results = check_files_forked(
                sizes, count, keyring, keep_events=keep_events, every_signature=every_signature
            )
            return build_report(results)
        lines: list[tuple[str, int, str]] = []
        for path in paths:
            lines.extend(read_log(path))
        return build_report(
            check_lines(lines, keyring, keep_events=keep_events, workers=workers, every_signature=every_signature)
        )


def _file_workers(requested: int | None, total_bytes: int) -> int:
    if requested is not None:
        return max(1, requested)
    return 1 if total_bytes < PARALLEL_BYTES else usable_cores()


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
