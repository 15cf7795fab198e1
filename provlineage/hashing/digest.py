"""What a hash run produces, and the one rule that turns a manifest into a root digest.

``sha256-manifest-v1`` (the directory root digest)
    SHA-256 over the manifest lines ``"<digest>  <relative path>\\n"`` (two spaces, as ``sha256sum``
    prints them), one per file, sorted by the UTF-8 bytes of the relative POSIX path. Paths are encoded
    as UTF-8 (undecodable names keep their original bytes). A path containing ``\\``, ``\\n`` or ``\\r``
    is escaped as GNU ``sha256sum`` does: the line starts with ``\\`` and those characters become
    ``\\\\``, ``\\n`` and ``\\r``, so no file name can forge extra lines. For ordinary names the root digest
    therefore equals::

        cd DIR && find . -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum

    Paths are part of what is hashed, so renaming a file changes the root digest. Empty directories
    are not recorded. Symlink entries (see :mod:`provlineage.hashing.manifest`) have a digest of the
    form ``symlink-sha256:<hex>``, which no file line can take.

A single file's digest is the SHA-256 of its bytes.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from provlineage.hashing.options import DEFAULT_MANIFEST_LIMIT

if TYPE_CHECKING:
    from provlineage.facets import DatasetHashDatasetFacet

ALGORITHM = "sha256"
ROOT_DIGEST_METHOD = "sha256-manifest-v1"


class FileDigest(NamedTuple):
    """One manifest entry: relative POSIX path, hex digest, size in bytes (shaped like ``ManifestEntry``)."""

    path: str
    digest: str
    size: int


def path_sort_key(path: str) -> bytes:
    """Bytewise order of the path as stored on disk (equal to code point order for valid UTF-8)."""
    return path.encode("utf-8", "surrogateescape")


def sort_manifest(entries: Iterable[FileDigest]) -> tuple[FileDigest, ...]:
    return tuple(sorted(entries, key=lambda entry: path_sort_key(entry.path)))


def manifest_line(entry: FileDigest) -> bytes:
    path = entry.path
    if "\\" in path or "\n" in path or "\r" in path:
        escaped = path.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
        line = f"\\{entry.digest}  {escaped}\n"
    else:
        line = f"{entry.digest}  {path}\n"
    return line.encode("utf-8", "surrogateescape")


def root_digest(sorted_entries: Iterable[FileDigest]) -> str:
    """``sha256-manifest-v1`` of entries already in :func:`sort_manifest` order."""
    digest = hashlib.sha256()
    for entry in sorted_entries:
        digest.update(manifest_line(entry))
    return digest.hexdigest()


def uri_basename(uri: str) -> str:
    from urllib.parse import unquote

    return unquote(posixpath.basename(uri.rstrip("/"))) or uri


@dataclass(frozen=True)
class DatasetDigest:
    """The content digest of a file, a directory or a remote object/prefix.

    ``manifest`` is complete (never capped) and sorted; it is empty for a single file or object.
    ``root_digest_method`` is set when ``digest`` was computed from the manifest.
    """

    algorithm: str
    digest: str
    size: int
    file_count: int
    kind: str
    manifest: tuple[FileDigest, ...] = ()
    uri: str = ""
    root_digest_method: str | None = None
    manifest_limit: int = field(default=DEFAULT_MANIFEST_LIMIT, compare=False, repr=False)
    """``HashOptions.manifest_limit`` of the run: the default cap of :meth:`to_facet`."""

    @classmethod
    def of_single(cls, entry: FileDigest, *, kind: str, uri: str, manifest_limit: int) -> DatasetDigest:
        """A single file or object: its own digest, no manifest."""
        return cls(
            algorithm=ALGORITHM,
            digest=entry.digest,
            size=entry.size,
            file_count=1,
            kind=kind,
            uri=uri,
            manifest_limit=manifest_limit,
        )

    @classmethod
    def of_manifest(cls, entries: Iterable[FileDigest], *, kind: str, uri: str, manifest_limit: int) -> DatasetDigest:
        """A directory or prefix: its sorted manifest and the ``sha256-manifest-v1`` root digest over it."""
        manifest = sort_manifest(entries)
        return cls(
            algorithm=ALGORITHM,
            digest=root_digest(manifest),
            size=sum(entry.size for entry in manifest),
            file_count=len(manifest),
            kind=kind,
            manifest=manifest,
            uri=uri,
            root_digest_method=ROOT_DIGEST_METHOD,
            manifest_limit=manifest_limit,
        )

    @property
    def prefixed(self) -> str:
        """``sha256:<hex>``, the form other facets (e.g. ``ModelDatasetFacet.digest``) use."""
        return f"{self.algorithm}:{self.digest}"

    @property
    def name(self) -> str:
        """Last path component of the URI, used to name a single file in diffs."""
        return uri_basename(self.uri)

    def to_facet(self, manifest_limit: int | None = None) -> DatasetHashDatasetFacet:
        """The facet, carrying the first ``manifest_limit`` manifest entries and how many were left out.

        ``manifest_limit`` defaults to the ``HashOptions.manifest_limit`` the digest was made with.
        """
        from provlineage.facets import DatasetHashDatasetFacet, ManifestEntry

        if manifest_limit is None:
            manifest_limit = self.manifest_limit
        if manifest_limit < 0:
            raise ValueError(f"manifest_limit must not be negative (got {manifest_limit})")
        manifest: list[ManifestEntry] | None = None
        omitted: int | None = None
        if self.root_digest_method is not None:
            kept = self.manifest[:manifest_limit]
            manifest = [ManifestEntry(path=printable_path(e.path), digest=e.digest, size=e.size) for e in kept]
            omitted = len(self.manifest) - len(kept)
        return DatasetHashDatasetFacet(
            algorithm=self.algorithm,
            digest=self.digest,
            size=self.size,
            fileCount=self.file_count,
            kind=self.kind,
            manifest=manifest,
            manifestOmitted=omitted,
            rootDigestMethod=self.root_digest_method,
            uri=printable_path(self.uri) or None,
        )


def printable_path(path: str) -> str:
    """A path as JSON can carry it: bytes that are not UTF-8 (kept by the OS as lone surrogates) become ``\\xNN``.

    Only the facet's text changes; the root digest is computed over the original bytes.  Without this, one
    undecodable file name would make the whole event impossible to canonicalize, and so to sign.
    """
    if path.isascii():
        return path
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
