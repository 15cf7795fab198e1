"""Dataset content hashing: files, directories (per-file manifest + root digest) and remote URIs.

* A file's digest is the SHA-256 of its bytes, streamed in constant memory.
* A directory's digest is ``sha256-manifest-v1`` (see :mod:`provlineage.hashing.digest`) over a per-file
  manifest; symlinks, special files and ignore patterns follow :mod:`provlineage.hashing.manifest` and
  :mod:`provlineage.hashing.ignore`.
* Files are hashed in parallel threads, with a per-file cache (:mod:`provlineage.hashing.cache`) so an
  unchanged file is not read twice.
* ``s3://``, ``gs://``, ... go through fsspec (:mod:`provlineage.hashing.remote`).
"""

from __future__ import annotations

from provlineage.hashing.diff import DatasetDiff, diff_against_facet
from provlineage.hashing.digest import ALGORITHM, ROOT_DIGEST_METHOD, DatasetDigest, FileDigest
from provlineage.hashing.local import hash_path
from provlineage.hashing.manifest import SYMLINK_DIGEST_PREFIX
from provlineage.hashing.options import HashOptions
from provlineage.hashing.uri import hash_uri

__all__ = [
    "ALGORITHM",
    "ROOT_DIGEST_METHOD",
    "SYMLINK_DIGEST_PREFIX",
    "DatasetDiff",
    "DatasetDigest",
    "FileDigest",
    "HashOptions",
    "diff_against_facet",
    "hash_path",
    "hash_uri",
]
