"""Inference records committed to by a Merkle root. Public through :mod:`provlineage.facets`."""

from __future__ import annotations

from typing import ClassVar

import attr
from openlineage.client.facet_v2 import RunFacet

from provlineage._facets.base import NEVER_REDACT, ProvlineageFacet
from provlineage._internal.constants import schema_url


@attr.define
class InferenceRunFacet(ProvlineageFacet, RunFacet):
    """Inference records of a run, committed to by an RFC 6962 Merkle root over their leaf hashes."""

    count: int
    merkleRoot: str | None = None
    treeAlgorithm: str = "rfc6962-sha256"
    modelDigest: str | None = None
    log: str | None = None
    """Where the signed inference records are (a path or URI)."""
    firstId: str | None = None
    lastId: str | None = None
    payloadsRetained: bool = False
    digestKeyId: str | None = None
    _additional_skip_redact: ClassVar[list[str]] = [*NEVER_REDACT, "merkleRoot", "modelDigest", "digestKeyId"]

    @staticmethod
    def _get_schema() -> str:
        return schema_url("InferenceRunFacet")
