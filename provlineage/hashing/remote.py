"""Hashes remote objects and prefixes (``s3://``, ``gs://``, ``memory://``, ...) through fsspec.

A single object gets the SHA-256 of its bytes; a prefix gets a ``sha256-manifest-v1`` root digest over
the objects below it, exactly as a local directory would (same paths give the same digest). Ignore
patterns apply; there are no symlinks; nothing is cached (object stores give no inode to key on).
"""

from __future__ import annotations

from typing import Any

from provlineage.errors import HashingError
from provlineage.hashing.digest import (
    DatasetDigest,
    FileDigest,
)
from provlineage.hashing.files import hash_stream
from provlineage.hashing.ignore import IgnoreRules
from provlineage.hashing.options import HashOptions
from provlineage.hashing.parallel import map_in_threads
from provlineage.hashing.progress import ByteCallback, byte_progress, wants_progress


def _open_filesystem(uri: str) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError:
        raise HashingError(
            f"cannot hash {uri}: remote URIs need fsspec", "install it with `pip install provlineage[remote]`"
        ) from None
    try:
        return fsspec.core.url_to_fs(uri)
    except ImportError as error:  # fsspec knows the scheme but its backend package is missing
        raise HashingError(f"cannot hash {uri}: {error}", "install that fsspec backend package") from None
    except ValueError as error:
        raise HashingError(
            f"cannot hash {uri}: {error}", "use a scheme fsspec knows (file, s3, gs, az, http, memory, ...)"
        ) from None


def _remote_failure(uri: str, error: Exception) -> HashingError:
    if isinstance(error, FileNotFoundError):
        return HashingError(f"cannot hash {uri}: no such object or prefix", "check the URI")
    if isinstance(error, PermissionError):
        return HashingError(f"cannot hash {uri}: access denied", "check the credentials fsspec uses for it")
    return HashingError(f"cannot hash {uri}: {type(error).__name__}: {error}", "check the URI and credentials")


def _hash_object(fs: Any, path: str, rel: str, advance: ByteCallback | None) -> FileDigest:
    with fs.open(path, "rb") as handle:
        hex_digest, size = hash_stream(handle, advance)
    return FileDigest(rel, hex_digest, size)


def hash_remote(uri: str, options: HashOptions) -> DatasetDigest:
    fs, path = _open_filesystem(uri)
    canonical_uri = fs.unstrip_protocol(path)
    try:
        info = fs.info(path)
        if info.get("type") != "directory":
            size = info.get("size") or 0
            with byte_progress(size, wants_progress(options.progress, size), canonical_uri) as advance:
                entry = _hash_object(fs, path, "", advance)
            return DatasetDigest.of_single(
                entry, kind="remote", uri=canonical_uri, manifest_limit=options.manifest_limit
            )

        ignore = IgnoreRules(options.ignore)
        base = path.rstrip("/") + "/"
        objects: list[tuple[str, str, int]] = []
        for object_path, object_info in fs.find(path, detail=True).items():
            if object_info.get("type") == "directory" or not object_path.startswith(base):
                continue
            rel = object_path[len(base) :]
            if not ignore.excludes(rel):
                objects.append((object_path, rel, object_info.get("size") or 0))
        total = sum(size for _, _, size in objects)
        with byte_progress(total, wants_progress(options.progress, total), canonical_uri) as advance:
            digests = map_in_threads(
                lambda item: _hash_object(fs, item[0], item[1], advance), objects, options.remote_workers()
            )
    except HashingError:
        raise
    except Exception as error:  # fsspec backends raise their own types
        raise _remote_failure(uri, error) from None

    return DatasetDigest.of_manifest(digests, kind="remote", uri=canonical_uri, manifest_limit=options.manifest_limit)
