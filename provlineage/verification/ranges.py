"""Check log files on several processes, each reading its own byte range of them.

The processes fork before anything is read, so no process copies or touches another's lines (forking after the
whole log is read, as :mod:`provlineage.verification.parallel` does for lines already in memory, makes the child
copy every page of them it touches).  What forking still costs is CPython's reference counts: each process writes
to the pages of every module object it uses, and each such page is copied once (measured: ~25 ms of CPU per child
on the verify path, and more from a process with a big heap).  Hence :data:`PARALLEL_BYTES`.

Ranges end just after a newline, so each line is read whole by exactly one process.  A child knows its lines'
numbers only from the start of its range; it says how many lines each of its segments held, and the parent
numbers them once the ranges before are known.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any, NamedTuple

from provlineage._internal import forked
from provlineage.keys import Keyring
from provlineage.verification.parallel import _check_chunk, _from_rows, _rows
from provlineage.verification.reading import Segment, line_start_at_or_after, read_segment
from provlineage.verification.results import RecordResult

PARALLEL_BYTES = 4 << 20
"""Log size from which all cores are used unless the caller chooses.  ``benchmarks/bench_verify.py --break-even``
on 2 cores: whole ``verify`` processes gain 1.05-1.25x from 4 MiB on (both event shapes), at ~30% more CPU;
below ~2 MiB a second process costs more than it saves."""


class _Checked(NamedTuple):
    """A range's results in line order, and for each of its segments: (non-blank lines, all lines)."""

    results: list[RecordResult]
    counts: list[tuple[int, int]]


def plan_ranges(sizes: Sequence[tuple[str, int]], count: int) -> list[list[Segment]]:
    """Split the logs, read one after the other, into ``count`` ranges of about equal size at line boundaries."""
    total = sum(size for _, size in sizes)
    ends = [_boundary(sizes, total * k // count) for k in range(1, count)] + [(len(sizes) - 1, sizes[-1][1])]
    ranges: list[list[Segment]] = []
    begin = (0, 0)  # (file index, offset)
    for cut in ends:
        end = max(cut, begin)
        segments = []
        for index in range(begin[0], end[0] + 1):
            path, size = sizes[index]
            start = begin[1] if index == begin[0] else 0
            stop = end[1] if index == end[0] else size
            if stop > start:
                segments.append(Segment(path, start, stop))
        ranges.append(segments)
        begin = end
    return ranges


def _boundary(sizes: Sequence[tuple[str, int]], position: int) -> tuple[int, int]:
    """(file index, offset) of the first line start at or after byte ``position`` of the logs read as one."""
    for index, (path, size) in enumerate(sizes):
        if position < size:
            return index, min(line_start_at_or_after(path, position), size)
        position -= size
    return len(sizes) - 1, sizes[-1][1]


def _check_range(segments: list[Segment], options: tuple[Any, ...]) -> _Checked:
    lines: list[tuple[str, int, str]] = []
    counts = []
    for segment in segments:
        read, physical = read_segment(segment)
        lines += read
        counts.append((len(read), physical))
    return _Checked(_check_chunk(lines, *options), counts)


def check_files_forked(
    sizes: Sequence[tuple[str, int]], count: int, keyring: Keyring, *, keep_events: bool, every_signature: bool
) -> list[RecordResult]:
    """Check the logs on ``count`` processes; the caller makes sure forking is safe (``parallel.fork_allowed``)."""
    options = (keep_events, every_signature, keyring)
    ranges = [segments for segments in plan_ranges(sizes, count) if segments]
    if not ranges:
        return []
    children = [(segments, forked.start(partial(_answer, segments, options))) for segments in ranges[1:]]
    try:
        checked = [(ranges[0], _check_range(ranges[0], options))]
    except BaseException:
        for _, child in children:  # reaped even when this process's own range fails
            forked.answer(child)
        raise
    for segments, child in children:
        rows = forked.answer(child)
        from_child = _Checked(_from_rows(rows[0]), rows[1]) if rows is not None else None
        checked.append((segments, from_child or _check_range(segments, options)))
    return _numbered(checked)


def _answer(segments: list[Segment], options: tuple[Any, ...]) -> tuple[list[tuple[Any, ...]], list[tuple[int, int]]]:
    """A child's answer: its results as plain rows (cheap to pickle), and its segments' line counts."""
    checked = _check_range(segments, options)
    return _rows(checked.results), checked.counts


def _numbered(checked: list[tuple[list[Segment], _Checked]]) -> list[RecordResult]:
    """All results in log order, numbered by line of their file."""
    results: list[RecordResult] = []
    lines_before: dict[str, int] = {}
    for segments, (range_results, counts) in checked:
        position = 0
        for segment, (read, physical) in zip(segments, counts, strict=True):
            base = lines_before.get(segment.path, 0) if segment.start else 0
            for result in range_results[position : position + read]:
                result.line += base
            lines_before[segment.path] = base + physical
            position += read
        results += range_results
    return results
