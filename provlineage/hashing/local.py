"""Hashes a local file or directory into a :class:`DatasetDigest`."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from provlineage.hashing.digest import (
    DatasetDigest,
)
from provlineage.hashing.failures import not_hashable, os_failure
from provlineage.hashing.files import FileJob, hash_files
from provlineage.hashing.ignore import IgnoreRules
from provlineage.hashing.manifest import scan_tree
from provlineage.hashing.options import HashOptions


def hash_path(path: str | os.PathLike[str], options: HashOptions | None = None) -> DatasetDigest:
    """Digest of a file (SHA-256 of its bytes) or a directory (``sha256-manifest-v1`` root digest).

    Raises :class:`~provlineage.errors.HashingError` naming the path when it is missing or unreadable.
    """
    options = options or HashOptions()
    given = os.fsdecode(os.fspath(path))
    abs_path = os.path.abspath(given)
    ignore = IgnoreRules(options.ignore)
    try:
        root_stat = os.stat(abs_path)
    except OSError as error:
        raise os_failure(given, error) from None
    uri = Path(abs_path).as_uri()

    if stat.S_ISREG(root_stat.st_mode):
        (entry,) = hash_files([FileJob(os.path.basename(abs_path), abs_path, root_stat)], options, label=given)
        return DatasetDigest.of_single(entry, kind="file", uri=uri, manifest_limit=options.manifest_limit)
    if not stat.S_ISDIR(root_stat.st_mode):
        raise not_hashable(given, "special file (FIFO, socket or device)")

    scan = scan_tree(abs_path, root_stat, ignore, options.follow_symlinks)
    return DatasetDigest.of_manifest(
        [*hash_files(scan.files, options, label=given), *scan.links],
        kind="directory",
        uri=uri,
        manifest_limit=options.manifest_limit,
    )
