"""Content digest of a dataset and its per-file manifest. Public through :mod:`provlineage.facets`."""

from __future__ import annotations

from typing import ClassVar

import attr
from openlineage.client.facet_v2 import DatasetFacet

from provlineage._facets.base import NEVER_REDACT, ProvlineageFacet
from provlineage._internal.constants import schema_url


@attr.define
class ManifestEntry:
    """One file of a hashed directory; ``path`` is relative, with ``/`` separators."""

    path: str
    digest: str
    size: int


@attr.define
class DatasetHashDatasetFacet(ProvlineageFacet, DatasetFacet):
    """Content digest of a dataset (file, directory or remote object)."""

    algorithm: str
    digest: str
    size: int
    fileCount: int
    kind: str = "file"
    """``file``, ``directory`` or ``remote``."""
    manifest: list[ManifestEntry] | None = None
    """Per-file digests of a directory, sorted by path, capped at ``manifestLimit`` entries."""
    manifestOmitted: int | None = None
    """How many manifest entries were left out to keep the event small for Marquez."""
    rootDigestMethod: str | None = None
    uri: str | None = None
    _additional_skip_redact: ClassVar[list[str]] = [*NEVER_REDACT, "manifest"]

    @staticmethod
    def _get_schema() -> str:
        return schema_url("DatasetHashDatasetFacet")
