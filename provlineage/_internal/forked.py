"""Work in forked child processes whose answer comes back through a pipe (no process pool: its imports, threads
and queues would cost more than the work for the sizes verification splits)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any, NamedTuple


class Child(NamedTuple):
    pid: int
    read_end: int


def fork_allowed() -> bool:
    """Whether a forked child is safe: ``fork`` exists and no other thread could hold a lock the child needs."""
    return hasattr(os, "fork") and threading.active_count() == 1


def usable_cores(limit: int = 8) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, limit))


def start(work: Callable[[], Any]) -> Child:
    """Fork a child that runs ``work`` (which must not return ``None``) and pickles its answer into a pipe."""
    import pickle  # here: most runs never fork

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        status = 1
        try:
            os.close(read_end)
            data = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
            status = 0
        finally:
            os._exit(status)  # no atexit handlers, no flushing of the parent's buffers
    os.close(write_end)
    return Child(pid, read_end)


def answer(child: Child) -> Any | None:
    """The child's answer, or ``None`` when it failed (the caller then does its work itself)."""
    import pickle

    with os.fdopen(child.read_end, "rb") as source:
        data = source.read()
    _, status = os.waitpid(child.pid, 0)
    if status != 0:
        return None
    try:
        return pickle.loads(data)
    except (pickle.UnpicklingError, EOFError, ValueError):
        return None
