"""A model artifact. Public through :mod:`provlineage.facets`."""

from __future__ import annotations

from typing import ClassVar

import attr
from openlineage.client.facet_v2 import DatasetFacet

from provlineage._facets.base import NEVER_REDACT, ProvlineageFacet
from provlineage._internal.constants import schema_url


@attr.define
class ModelDatasetFacet(ProvlineageFacet, DatasetFacet):
    """A model artifact: what it is and the digest that identifies its bytes."""

    name: str
    digest: str | None = None
    """``<algorithm>:<hex>`` of the artifact (the root digest for a directory); absent when the artifact could not
    be read when it was logged, which ``provlineage lineage`` flags."""
    version: str | None = None
    framework: str | None = None
    format: str | None = None
    _additional_skip_redact: ClassVar[list[str]] = NEVER_REDACT

    @staticmethod
    def _get_schema() -> str:
        return schema_url("ModelDatasetFacet")
