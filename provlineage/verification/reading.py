"""Read JSON Lines logs as (source, line number, text): whole, or a byte range at a time."""

from __future__ import annotations

import io
import os
import stat
from typing import NamedTuple

from provlineage.errors import ProvlineageError


class Segment(NamedTuple):
    """Bytes ``start``..``stop`` of one log file, starting and ending at line boundaries."""

    path: str
    start: int
    stop: int


def read_log(path: str | os.PathLike[str]) -> list[tuple[str, int, str]]:
    """Non-empty lines of a JSON Lines log as (source, line number, text)."""
    source = str(path)
    try:
        with open(path, encoding="utf-8", errors="surrogateescape", newline="\n") as handle:
            # not isspace(): the same test as strip(), without copying every line
            return [(source, number, line) for number, line in enumerate(handle, 1) if not line.isspace()]
    except OSError as error:
        raise _unreadable(source, error) from None


def log_sizes(paths: list[str | os.PathLike[str]]) -> list[tuple[str, int]] | None:
    """(source, size in bytes) of each log, with the errors :func:`read_log` would give; ``None`` when a log is
    not a regular file (a pipe such as ``<(zcat log.gz)`` has no size and cannot be read by byte ranges)."""
    sizes = []
    for path in paths:
        try:
            status = os.stat(path)
        except OSError as error:
            raise _unreadable(str(path), error) from None
        if stat.S_ISDIR(status.st_mode):
            raise _unreadable(str(path), IsADirectoryError())
        if not stat.S_ISREG(status.st_mode):
            return None
        sizes.append((str(path), status.st_size))
    return sizes


def read_segment(segment: Segment) -> tuple[list[tuple[str, int, str]], int]:
    """:func:`read_log` of a segment, numbering its lines from 1; and how many lines (blank ones too) it holds.

    A segment ends just after a newline (or at the end of the file), and a newline byte is never part of a UTF-8
    sequence, while ``surrogateescape`` escapes bad bytes one at a time: the segment's text is the file's.
    """
    path, start, stop = segment
    try:
        with open(path, "rb") as handle:
            handle.seek(start)
            data = handle.read(stop - start)
    except OSError as error:
        raise _unreadable(path, error) from None
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="surrogateescape", newline="\n")
    lines, number = [], 0
    for number, line in enumerate(text, 1):
        if not line.isspace():
            lines.append((path, number, line))
    return lines, number


def line_start_at_or_after(path: str, position: int) -> int:
    """Offset of the first line that starts at byte ``position`` of ``path`` or after it (its size if none)."""
    if position <= 0:
        return 0
    with open(path, "rb") as handle:
        handle.seek(position - 1)
        handle.readline()  # to just past the newline ending the line that holds byte position - 1
        return handle.tell()


def _unreadable(source: str, error: OSError) -> ProvlineageError:
    if isinstance(error, FileNotFoundError):
        return ProvlineageError(
            f"log file {source} does not exist", "check the path (the file backend writes the `path` you configured)"
        )
    if isinstance(error, IsADirectoryError):
        return ProvlineageError(f"{source} is a directory, not a log file", "pass the JSON Lines file itself")
    return ProvlineageError(f"log file {source} cannot be read ({error.strerror})", "check its permissions")
