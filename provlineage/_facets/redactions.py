"""Where secrets were replaced outside hyperparameters. Public through :mod:`provlineage.facets`."""

from __future__ import annotations

from typing import ClassVar

import attr
from openlineage.client.facet_v2 import RunFacet

from provlineage._facets.base import NEVER_REDACT, ProvlineageFacet
from provlineage._internal.constants import schema_url


@attr.define
class RedactionsRunFacet(ProvlineageFacet, RunFacet):
    """Where provlineage replaced secrets by ``***`` outside ``provlineage_hyperparameters`` (which lists its own)."""

    paths: list[str] = attr.field(factory=list)
    """Dotted paths under ``run.facets`` (``errorMessage.stackTrace``, ``provlineage_metrics.metrics.url``)."""
    _additional_skip_redact: ClassVar[list[str]] = [*NEVER_REDACT, "paths"]

    @staticmethod
    def _get_schema() -> str:
        return schema_url("RedactionsRunFacet")
