"""Training/inference parameters. Public through :mod:`provlineage.facets`."""

from __future__ import annotations

from typing import Any

import attr
from openlineage.client.facet_v2 import RunFacet

from provlineage._facets.base import ProvlineageFacet
from provlineage._internal.constants import schema_url


@attr.define
class HyperparametersRunFacet(ProvlineageFacet, RunFacet):
    """Training/inference parameters as JSON; secrets replaced by ``"***"`` and listed in ``redactedKeys``."""

    parameters: dict[str, Any]
    redactedKeys: list[str] = attr.field(factory=list)
    conversions: dict[str, str] | None = None
    """Dotted path -> original Python type, for values JSON could not carry as they were."""

    @staticmethod
    def _get_schema() -> str:
        return schema_url("HyperparametersRunFacet")
