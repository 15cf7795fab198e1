"""The event's signature and chain position. Public through :mod:`provlineage.facets`."""

from __future__ import annotations

from typing import ClassVar

import attr
from openlineage.client.facet_v2 import RunFacet

from provlineage._facets.base import NEVER_REDACT, ProvlineageFacet
from provlineage._internal.constants import schema_url


@attr.define
class SignatureRunFacet(ProvlineageFacet, RunFacet):
    """The event's signature and hash-chain position; this facet itself is the only part not signed."""

    algorithm: str
    keyId: str
    signature: str
    """Base64 of the signature over PAE(payloadType, canonical payload)."""
    canonicalization: str
    """Name and version of the canonical form that was signed, e.g. ``provlineage-jcs/1``."""
    payloadType: str
    digest: str
    """``sha256:<hex>`` of the canonical payload; the next event of the stream links to it."""
    stream: str | None = None
    sequence: int | None = None
    previousDigest: str | None = None
    _additional_skip_redact: ClassVar[list[str]] = [*NEVER_REDACT, "digest", "stream"]

    @staticmethod
    def _get_schema() -> str:
        return schema_url("SignatureRunFacet")
