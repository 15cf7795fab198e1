"""provlineage's custom OpenLineage facets.

Each class follows the OpenLineage custom-facet rules: event key ``provlineage_<name>`` (camelCase),
class name ``{Prefix}{Name}{Entity}Facet``, and an immutable, versioned ``_schemaURL`` equal to the
``$id`` of the JSON Schema shipped under ``facets/<version>/``.  Field names are the JSON names.

The classes are defined on first use (one module each under :mod:`provlineage._facets`): an Airflow task
that provlineage does not recognise needs only ``EnvironmentRunFacet``, and each attrs class costs ~1 ms.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Re-exported here, defined in a module light enough for the verifier to import without the OpenLineage client.
from provlineage._internal.constants import (
    DATASET_HASH,
    ENVIRONMENT,
    HYPERPARAMETERS,
    INFERENCE,
    METRICS,
    MODEL,
    PRODUCER,
    REDACTIONS,
    SCHEMA_BASE,
    SCHEMA_VERSION,
    SIGNATURE,
    schema_url,
)

if TYPE_CHECKING:
    from provlineage._facets.dataset_hash import DatasetHashDatasetFacet, ManifestEntry
    from provlineage._facets.environment import EnvironmentRunFacet
    from provlineage._facets.hyperparameters import HyperparametersRunFacet
    from provlineage._facets.inference import InferenceRunFacet
    from provlineage._facets.metrics import MetricsRunFacet
    from provlineage._facets.model import ModelDatasetFacet
    from provlineage._facets.redactions import RedactionsRunFacet
    from provlineage._facets.signature import SignatureRunFacet

    ALL_FACETS: dict[str, type]

__all__ = [
    "ALL_FACETS",
    "DATASET_HASH",
    "ENVIRONMENT",
    "HYPERPARAMETERS",
    "INFERENCE",
    "METRICS",
    "MODEL",
    "PRODUCER",
    "REDACTIONS",
    "SCHEMA_BASE",
    "SCHEMA_VERSION",
    "SIGNATURE",
    "DatasetHashDatasetFacet",
    "EnvironmentRunFacet",
    "HyperparametersRunFacet",
    "InferenceRunFacet",
    "ManifestEntry",
    "MetricsRunFacet",
    "ModelDatasetFacet",
    "RedactionsRunFacet",
    "SignatureRunFacet",
    "schema_url",
]

# Where each class is defined; a class is imported on first use (see provlineage._facets).
_MODULES = {
    "DatasetHashDatasetFacet": "dataset_hash",
    "ManifestEntry": "dataset_hash",
    "HyperparametersRunFacet": "hyperparameters",
    "EnvironmentRunFacet": "environment",
    "ModelDatasetFacet": "model",
    "MetricsRunFacet": "metrics",
    "InferenceRunFacet": "inference",
    "SignatureRunFacet": "signature",
    "RedactionsRunFacet": "redactions",
}
_ALL_FACET_NAMES = {
    DATASET_HASH: "DatasetHashDatasetFacet",
    HYPERPARAMETERS: "HyperparametersRunFacet",
    ENVIRONMENT: "EnvironmentRunFacet",
    MODEL: "ModelDatasetFacet",
    METRICS: "MetricsRunFacet",
    INFERENCE: "InferenceRunFacet",
    SIGNATURE: "SignatureRunFacet",
    REDACTIONS: "RedactionsRunFacet",
}


def __getattr__(name: str) -> Any:
    if name == "ALL_FACETS":
        value: Any = {key: __getattr__(class_name) for key, class_name in _ALL_FACET_NAMES.items()}
    elif name in _MODULES:
        value = getattr(importlib.import_module(f"provlineage._facets.{_MODULES[name]}"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
