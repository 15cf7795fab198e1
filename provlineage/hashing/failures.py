"""Turns OS errors met while hashing into one-line :class:`HashingError` s that name the path and the fix."""

from __future__ import annotations

import errno

from provlineage.errors import HashingError

_WHY_AND_FIX: dict[int, tuple[str, str]] = {
    errno.ENOENT: ("no such file or directory", "check the path, or create the dataset before hashing it"),
    errno.EACCES: (
        "permission denied",
        "grant read access (e.g. chmod u+r, and u+x on directories) or exclude it with --ignore",
    ),
    errno.EPERM: ("operation not permitted", "run as a user allowed to read it, or exclude it with --ignore"),
    errno.ENOTDIR: ("a parent of it is not a directory", "check the path"),
    errno.ELOOP: (
        "too many levels of symbolic links",
        "fix the symlink loop, or hash without --follow-symlinks",
    ),
    errno.EIO: ("input/output error", "check the disk or network file system, then retry"),
}


def os_failure(path: str, error: OSError) -> HashingError:
    why, fix = _WHY_AND_FIX.get(
        error.errno or -1, (error.strerror or str(error), "check that the path exists and is readable")
    )
    return HashingError(f"cannot hash {path}: {why}", fix)


def not_hashable(path: str, kind: str) -> HashingError:
    return HashingError(f"cannot hash {path}: it is a {kind}", "pass a regular file or a directory")
