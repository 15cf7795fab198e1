"""Ignore patterns: shell-style (:mod:`fnmatch`) globs with two gitignore habits, and nothing more.

* ``*`` ``?`` ``[seq]`` ``[!seq]`` as in :func:`fnmatch.fnmatchcase` (case-sensitive on every OS).
* A pattern without ``/`` is matched against each path component's name, at any depth:
  ``*.tmp`` drops every ``.tmp`` file, ``__pycache__`` drops every such directory and all under it.
* A pattern with a ``/`` is matched against the whole relative POSIX path (a leading ``/`` is
  dropped): ``logs/*.txt``. Unlike gitignore, ``*`` here also crosses ``/`` (fnmatch semantics),
  so ``logs/*.txt`` also matches ``logs/old/a.txt``.
* A trailing ``/`` matches directories only: ``build/``.
* An ignored directory drops everything under it. Negation (``!pattern``) is not supported and is
  rejected rather than silently matching a file named ``!pattern``.

Patterns apply to the entries below the path being hashed; the path itself is always hashed.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass

from provlineage.errors import HashingError


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    whole_path: bool
    directories_only: bool


def _compile(pattern: str) -> _Pattern:
    if not pattern or pattern.strip("/") == "":
        raise HashingError(f"empty ignore pattern {pattern!r}", "remove it")
    if pattern.startswith("!"):
        raise HashingError(
            f"unsupported ignore pattern {pattern!r}: negation is not supported",
            "list only what to leave out (write '?' in place of a leading '!' to match one literally)",
        )
    directories_only = pattern.endswith("/")
    body = pattern.rstrip("/")
    whole_path = "/" in body
    body = body.lstrip("/")
    return _Pattern(re.compile(fnmatch.translate(body)), whole_path, directories_only)


class IgnoreRules:
    """Decides whether a relative path is left out of a hash."""

    def __init__(self, patterns: Sequence[str] = ()) -> None:
        self._patterns = tuple(_compile(pattern) for pattern in patterns)

    def __bool__(self) -> bool:
        return bool(self._patterns)

    def matches(self, rel_path: str, is_dir: bool) -> bool:
        """Whether this entry itself matches (its parents are assumed already checked)."""
        name = rel_path.rpartition("/")[2]
        for pattern in self._patterns:
            if pattern.directories_only and not is_dir:
                continue
            if pattern.regex.match(rel_path if pattern.whole_path else name):
                return True
        return False

    def excludes(self, rel_path: str) -> bool:
        """Whether a file, given by its full relative path, is left out by it or any parent directory."""
        if not self._patterns:
            return False
        parts = rel_path.split("/")
        for depth in range(1, len(parts)):
            if self.matches("/".join(parts[:depth]), is_dir=True):
                return True
        return self.matches(rel_path, is_dir=False)
