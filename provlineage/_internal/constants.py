"""Names and URLs that identify provlineage's facets; importing this costs nothing (no OpenLineage client)."""

from __future__ import annotations

from provlineage._version import __version__

SCHEMA_VERSION = "1-0-0"
SCHEMA_BASE = f"https://provlineage.github.io/facets/{SCHEMA_VERSION}"
PRODUCER = f"https://github.com/provlineage/provlineage/tree/{__version__}"

#: Event keys, the one place they are spelled.
DATASET_HASH = "provlineage_datasetHash"
HYPERPARAMETERS = "provlineage_hyperparameters"
ENVIRONMENT = "provlineage_environment"
MODEL = "provlineage_model"
METRICS = "provlineage_metrics"
INFERENCE = "provlineage_inference"
SIGNATURE = "provlineage_signature"
REDACTIONS = "provlineage_redactions"


def schema_url(class_name: str) -> str:
    return f"{SCHEMA_BASE}/{class_name}.json"
