"""A byte-count progress bar on stderr, shown only when someone is watching a long hash."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: Below this many bytes to read, hashing takes well under a second: no bar.
PROGRESS_THRESHOLD_BYTES = 256 * 1024 * 1024

ByteCallback = Callable[[int], None]


def wants_progress(setting: bool | None, bytes_to_read: int) -> bool:
    if setting is not None:
        return setting
    return bytes_to_read > PROGRESS_THRESHOLD_BYTES and sys.stderr is not None and sys.stderr.isatty()


@contextmanager
def byte_progress(total_bytes: int, enabled: bool, label: str) -> Iterator[ByteCallback | None]:
    """Yields a thread-safe ``advance(n)`` callback, or None when no bar is shown."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm  # only paid for when a bar is shown

    lock = threading.Lock()
    with tqdm(
        total=total_bytes,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=label,
        file=sys.stderr,
        leave=False,
        dynamic_ncols=True,
    ) as bar:

        def advance(count: int) -> None:
            with lock:
                bar.update(count)

        yield advance
