"""Check many records on several processes: signature checks are independent, chains are analysed once at the end.

The log is split into ranges; this process checks the first itself while one forked child per other range checks
that one and sends its results back through a pipe as plain tuples (no process pool: its imports, threads and
queues would add to the cost of a second process).  Where ``fork`` is unavailable or unsafe (no ``os.fork``, other threads running),
a spawn-based process pool does the same.  A child that fails only means its range is checked here.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from provlineage._internal import forked
from provlineage._internal.collection import collection_paused
from provlineage.keys import Keyring
from provlineage.verification.records import authenticate, inspect_line
from provlineage.verification.results import RecordResult

PARALLEL_THRESHOLD = 20_000
"""Records from which all cores are used.  Measured on a 2-vCPU machine: a second process costs ~85 ms of CPU at
3,000 records (copy-on-write faults as both processes touch shared pages), so smaller logs are faster on one."""

_FIELDS = tuple(field.name for field in fields(RecordResult))
_worker_keyring: Keyring | None = None
_worker_lines: Sequence[tuple[str, int, str]] = ()


def _check_chunk(
    chunk: Sequence[tuple[str, int, str]], keep_events: bool, every_signature: bool, keyring: Keyring
) -> list[RecordResult]:
    items = [inspect_line(source, number, line, keyring, keep_events) for source, number, line in chunk]
    return authenticate(items, every_signature=every_signature)


def _rows(results: list[RecordResult]) -> list[tuple[Any, ...]]:
    """Results as plain tuples: they cross a process boundary ~10 times cheaper than dataclasses."""
    return [tuple(getattr(result, name) for name in _FIELDS) for result in results]


def _from_rows(rows: list[tuple[Any, ...]]) -> list[RecordResult]:
    return [RecordResult(*row) for row in rows]


def _worker_count(requested: int | None, records: int) -> int:
    if requested is not None:
        return max(1, requested)
    return 1 if records < PARALLEL_THRESHOLD else forked.usable_cores()


def _ranges(total: int, count: int) -> list[tuple[int, int]]:
    size = -(-total // count)
    return [(start, min(start + size, total)) for start in range(0, total, size)]


def _check_forked(
    lines: Sequence[tuple[str, int, str]], ranges: list[tuple[int, int]], options: tuple[Any, ...]
) -> list[RecordResult]:
    gc.freeze()  # keep the inherited objects out of the collector: it would touch, and so copy, every page
    try:
        children = [
            (start, stop, forked.start(lambda start=start, stop=stop: _rows(_check_chunk(lines[start:stop], *options))))
            for start, stop in ranges[1:]
        ]
    finally:
        gc.unfreeze()
    results = _check_chunk(lines[ranges[0][0] : ranges[0][1]], *options)
    for start, stop, child in children:
        rows = forked.answer(child)
        results.extend(_from_rows(rows) if rows is not None else _check_chunk(lines[start:stop], *options))
    return results


def _init_worker(pems: list[bytes], lines: Sequence[tuple[str, int, str]]) -> None:
    global _worker_keyring, _worker_lines
    _worker_keyring, _worker_lines = Keyring.from_pems(pems), lines


def _check_range(start: int, stop: int, keep_events: bool, every_signature: bool) -> list[tuple[Any, ...]]:
    assert _worker_keyring is not None
    return _rows(_check_chunk(_worker_lines[start:stop], keep_events, every_signature, _worker_keyring))


def _check_pooled(
    lines: Sequence[tuple[str, int, str]], ranges: list[tuple[int, int]], keyring: Keyring, options: tuple[Any, ...]
) -> list[RecordResult]:
    import multiprocessing  # imported here: it costs start-up, and most platforms take the fork path
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    keep_events, every_signature, _ = options
    with ProcessPoolExecutor(
        len(ranges) - 1, mp_context=context, initializer=_init_worker, initargs=(keyring.pems, list(lines))
    ) as pool:
        others = [pool.submit(_check_range, start, stop, keep_events, every_signature) for start, stop in ranges[1:]]
        results = _check_chunk(lines[ranges[0][0] : ranges[0][1]], *options)
        for other in others:
            results.extend(_from_rows(other.result()))
    return results


def check_lines(
    lines: Sequence[tuple[str, int, str]],
    keyring: Keyring,
    *,
    keep_events: bool = False,
    workers: int | None = None,
    every_signature: bool = False,
) -> list[RecordResult]:
    """Check many records, on several processes when there are many (each range authenticates on its own)."""
    with collection_paused():  # the per-record objects hold no cycles (see provlineage._internal.collection)
        count = _worker_count(workers, len(lines))
        options = (keep_events, every_signature, keyring)
        if count == 1 or len(lines) < 2:
            return _check_chunk(lines, *options)
        ranges = _ranges(len(lines), count)
        if forked.fork_allowed():
            return _check_forked(lines, ranges, options)
        return _check_pooled(lines, ranges, keyring, options)
