"""What a caller can tune about hashing, and where the defaults come from."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from provlineage.errors import ConfigError

#: Facets carry at most this many manifest entries by default, to keep events small for Marquez.
DEFAULT_MANIFEST_LIMIT = 1000
#: Remote reads wait on the network, not the CPU, so more of them overlap usefully.
DEFAULT_REMOTE_WORKERS = 8
_MAX_LOCAL_WORKERS = 32


@dataclass(frozen=True)
class HashOptions:
    """How :func:`~provlineage.hashing.hash_path` and :func:`~provlineage.hashing.hash_uri` work.

    ``ignore`` holds fnmatch patterns (see :mod:`provlineage.hashing.ignore` for the exact rules).
    ``progress=None`` shows a bar only when stderr is a terminal and more than 256 MiB must be read.
    """

    use_cache: bool = True
    cache_dir: Path | None = None
    """Default: ``$PROVLINEAGE_CACHE_DIR``, else ``$XDG_CACHE_HOME/provlineage/hashes``, else
    ``~/.cache/provlineage/hashes``; resolved when hashing starts, not when the options are built."""
    ignore: tuple[str, ...] = ()
    workers: int | None = None
    """Threads hashing files at once; default: the CPUs this process may use (8 for remote URIs)."""
    progress: bool | None = None
    manifest_limit: int = DEFAULT_MANIFEST_LIMIT
    """Manifest entries :meth:`DatasetDigest.to_facet` keeps by default (the digest keeps them all)."""
    follow_symlinks: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.ignore, str):
            raise ConfigError(
                f"HashOptions.ignore must be a sequence of patterns, not the string {self.ignore!r}",
                f"Write ignore=({self.ignore!r},)",
            )
        object.__setattr__(self, "ignore", tuple(self.ignore))
        if self.workers is not None and self.workers < 1:
            raise ConfigError(f"HashOptions.workers must be at least 1 (got {self.workers})", "Pass None or >= 1")
        if self.manifest_limit < 0:
            raise ConfigError(
                f"HashOptions.manifest_limit must not be negative (got {self.manifest_limit})",
                "Pass 0 or more",
            )

    def resolved_cache_dir(self) -> Path:
        if self.cache_dir is not None:
            return Path(self.cache_dir)
        configured = os.environ.get("PROVLINEAGE_CACHE_DIR")
        if configured:
            return Path(configured)
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg) if xdg else Path.home() / ".cache"
        return base / "provlineage" / "hashes"

    def local_workers(self) -> int:
        if self.workers is not None:
            return self.workers
        try:
            available = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            available = os.cpu_count() or 1
        return max(1, min(_MAX_LOCAL_WORKERS, available))

    def remote_workers(self) -> int:
        return self.workers if self.workers is not None else DEFAULT_REMOTE_WORKERS
