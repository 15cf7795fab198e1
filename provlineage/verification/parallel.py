"""Check many records on several processes: signature checks are independent, chains are analysed once at the end."""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from provlineage.keys import Keyring
from provlineage.verification.records import authenticate, inspect_line
from provlineage.verification.results import RecordResult

PARALLEL_THRESHOLD = 10_000

_worker_keyring: Keyring | None = None
_worker_lines: Sequence[tuple[str, int, str]] = ()


def _init_worker(pems: list[bytes], lines: Sequence[tuple[str, int, str]] | None) -> None:
    global _worker_keyring, _worker_lines  # noqa: PLW0603 - one keyring and log per worker process
    _worker_keyring = Keyring.from_pems(pems)
    if lines is not None:
        _worker_lines = lines


_FIELDS = tuple(field.name for field in fields(RecordResult))


def _check_range(start: int, stop: int, keep_events: bool, every_signature: bool) -> list[tuple[Any, ...]]:
    """A worker's range, as plain tuples: they cross the process boundary ~10 times cheaper than dataclasses."""
    assert _worker_keyring is not None
    results = _check_chunk(_worker_lines[start:stop], keep_events, every_signature, _worker_keyring)
    return [tuple(getattr(result, name) for name in _FIELDS) for result in results]


def _from_rows(rows: list[tuple[Any, ...]]) -> list[RecordResult]:
    return [RecordResult(*row) for row in rows]


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
    import multiprocessing  # imported here: most logs are checked on one core, and start-up counts
    from concurrent.futures import ProcessPoolExecutor

    size = -(-len(lines) // count)
    starts = list(range(0, len(lines), size))
    stops = [min(start + size, len(lines)) for start in starts]
    forking = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if forking else "spawn")
    global _worker_lines  # noqa: PLW0603 - inherited by forked workers
    _worker_lines = lines if forking else ()
    initargs = (keyring.pems, None if forking else list(lines))
    if forking:
        gc.freeze()  # keep the inherited objects out of the collector: it would touch, and so copy, every page
    try:  # this process checks the first range itself while count - 1 workers check the others
        with ProcessPoolExecutor(count - 1, mp_context=context, initializer=_init_worker, initargs=initargs) as pool:
            others = [
                pool.submit(_check_range, start, stop, keep_events, every_signature)
                for start, stop in zip(starts[1:], stops[1:], strict=True)
            ]
            results = _check_chunk(lines[starts[0] : stops[0]], keep_events, every_signature, keyring)
            for other in others:
                results.extend(_from_rows(other.result()))
            return results
    finally:
        _worker_lines = ()
        gc.unfreeze()
