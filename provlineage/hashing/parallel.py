"""Runs one function over many items in threads; hashlib and file reads release the GIL, so this scales."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def map_in_threads(function: Callable[[Item], Result], items: Sequence[Item], workers: int) -> list[Result]:
    """Results in the order of ``items``; the first failure cancels what has not started and is raised."""
    if workers <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor  # 10 ms of imports a single file does not need

    pool = ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="provlineage-hash")
    try:
        futures = [pool.submit(function, item) for item in items]
        results = [future.result() for future in futures]
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return results
