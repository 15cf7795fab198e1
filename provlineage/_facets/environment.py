"""Where the run executed; the one facet every Airflow task event carries, so it is defined alone. Public through :mod:`provlineage.facets`."""

from __future__ import annotations

from typing import Any, ClassVar

import attr
from openlineage.client.facet_v2 import RunFacet

from provlineage._facets.base import NEVER_REDACT, ProvlineageFacet
from provlineage._internal.constants import schema_url


@attr.define
class EnvironmentRunFacet(ProvlineageFacet, RunFacet):
    """Where the run executed: interpreter, OS, hardware, packages, code version and container."""

    python: dict[str, str]
    os: dict[str, str]
    architecture: str
    hostname: str
    cpuCount: int | None = None
    memoryBytes: int | None = None
    gpus: list[dict[str, Any]] | None = None
    distributions: dict[str, str] | None = None
    distributionsDigest: str | None = None
    distributionCount: int | None = None
    """How many distributions ``distributionsDigest`` covers; set also when ``distributions`` is left out."""
    git: dict[str, Any] | None = None
    containerImage: str | None = None
    environmentVariables: dict[str, str] | None = None
    entryFile: dict[str, str] | None = None
    """``{"path", "digest"}`` of the file of the code that ran (script, DAG file, decorated function's module)."""
    _additional_skip_redact: ClassVar[list[str]] = [
        *NEVER_REDACT,
        "distributions",
        "distributionsDigest",
        "entryFile",
    ]

    @staticmethod
    def _get_schema() -> str:
        return schema_url("EnvironmentRunFacet")
