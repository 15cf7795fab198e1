"""Evaluation metrics. Public through :mod:`provlineage.facets`."""

from __future__ import annotations

from typing import Any

import attr
from openlineage.client.facet_v2 import RunFacet

from provlineage._facets.base import ProvlineageFacet
from provlineage._internal.constants import schema_url


@attr.define
class MetricsRunFacet(ProvlineageFacet, RunFacet):
    """Evaluation metrics; ``slices`` holds per-slice metrics, ``dataset`` the evaluated dataset."""

    metrics: dict[str, Any]
    dataset: dict[str, str] | None = None
    """``{"namespace": ..., "name": ...}`` of the dataset the metrics were computed on."""
    slices: list[dict[str, Any]] | None = None
    """``[{"name": ..., "dataset": {...}?, "metrics": {...}}]``."""

    @staticmethod
    def _get_schema() -> str:
        return schema_url("MetricsRunFacet")
