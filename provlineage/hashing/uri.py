"""Routes a dataset URI to the local or the fsspec hasher."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from provlineage.errors import HashingError
from provlineage.hashing.digest import DatasetDigest
from provlineage.hashing.local import hash_path
from provlineage.hashing.options import HashOptions

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*(::[A-Za-z][A-Za-z0-9+.-]*)*://")


def local_path(uri: str) -> str | None:
    """The filesystem path a plain path or ``file://`` URI names; None for remote URIs."""
    if not _SCHEME.match(uri):
        return uri
    parts = urlsplit(uri)
    if parts.scheme != "file":
        return None
    if parts.netloc not in ("", "localhost"):
        raise HashingError(
            f"cannot hash {uri}: file:// URIs on another host ({parts.netloc}) are not supported",
            "mount it and pass the local path",
        )
    from urllib.request import url2pathname  # 30 ms of imports, paid only for file:// URIs

    return url2pathname(parts.path)


def hash_uri(uri: str, options: HashOptions | None = None) -> DatasetDigest:
    """Digest of a plain path, a ``file://`` URI, or a remote URI.

    Remote URIs go through fsspec (``pip install provlineage[remote]``) and its backend for the scheme.
    """
    options = options or HashOptions()
    path = local_path(uri)
    if path is not None:
        return hash_path(path, options)
    from provlineage.hashing.remote import hash_remote

    return hash_remote(uri, options)
