"""A per-file digest cache, so an unchanged multi-GB file is not read again.

Storage: one small JSON file per key, ``<cache dir>/<k[:2]>/<k>.json``, where ``k`` is the SHA-256 of
(absolute path, device, inode, size, mtime_ns, ctime_ns). Entries are written to a temporary file in
the same directory and moved into place with :func:`os.replace`, which is atomic, so any number of
processes (Airflow workers) can read and write the cache at once without locks: a reader sees either
no entry or a whole one. A lookup is one ``stat`` plus one small read.

What the cache trusts: that a file whose path, device, inode, size, mtime and ctime are unchanged has
unchanged bytes. The kernel sets ctime on every write, so ``os.utime`` cannot hide a change; but a
rewrite that keeps the size and lands within the same timestamp tick as the cached stat would be
missed. To close that window, a file whose ctime is less than :data:`RACY_WINDOW_NS` old when it is
hashed is not cached (as git does with "racily clean" files), and a file that changed while it was
read is not cached either. Anyone who can write the cache directory can make provlineage report
wrong digests, so it is created private (mode 0700); ``HashOptions(use_cache=False)`` /
``--no-cache`` bypass it. Entries are never pruned; each is under 300 bytes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path

from provlineage.hashing.digest import ALGORITHM

logger = logging.getLogger(__name__)

CACHE_FORMAT = 1
#: Files whose ctime is younger than this are hashed but not cached (covers 2 s FAT timestamps).
RACY_WINDOW_NS = 2_000_000_000


def stat_fingerprint(stat: os.stat_result) -> tuple[int, int, int, int, int]:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


class DigestCache:
    """Maps (absolute path, stat fingerprint) to a hex digest; every failure is a miss, never an error."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._warned = False

    def entry_path(self, abs_path: str, stat: os.stat_result) -> Path:
        material = json.dumps([CACHE_FORMAT, ALGORITHM, abs_path, *stat_fingerprint(stat)])
        key = hashlib.sha256(material.encode("ascii")).hexdigest()
        return self.directory / key[:2] / f"{key}.json"

    def lookup(self, abs_path: str, stat: os.stat_result) -> str | None:
        entry_path = self.entry_path(abs_path, stat)
        try:
            entry = json.loads(entry_path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            logger.debug("ignoring unreadable hash cache entry %s: %s", entry_path, error)
            return None
        if not isinstance(entry, dict):
            return None
        digest = entry.get("digest")
        if (
            entry.get("path") != abs_path
            or entry.get("size") != stat.st_size
            or not isinstance(digest, str)
            or len(digest) != 64
        ):
            logger.debug("ignoring malformed hash cache entry %s", entry_path)
            return None
        return digest

    def store(self, abs_path: str, stat: os.stat_result, digest: str) -> bool:
        """Record ``digest`` unless the file is too recently changed to trust its timestamps."""
        if time.time_ns() - stat.st_ctime_ns < RACY_WINDOW_NS:
            logger.debug("not caching %s: changed less than %d ms ago", abs_path, RACY_WINDOW_NS // 1_000_000)
            return False
        entry_path = self.entry_path(abs_path, stat)
        body = json.dumps({"path": abs_path, "size": stat.st_size, "digest": digest, "algorithm": ALGORITHM})
        import tempfile  # only writes need it

        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            entry_path.parent.mkdir(mode=0o700, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=entry_path.parent, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="ascii") as handle:
                    handle.write(body)
                os.replace(temporary, entry_path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as error:
            if not self._warned:
                self._warned = True
                logger.warning(
                    "hash cache disabled for this run: cannot write %s (%s); set PROVLINEAGE_CACHE_DIR "
                    "to a writable directory",
                    self.directory,
                    error,
                )
            return False
        return True
