"""provlineage's custom OpenLineage facets.

Each class follows the OpenLineage custom-facet rules: event key ``provlineage_<name>`` (camelCase),
class name ``{Prefix}{Name}{Entity}Facet``, and an immutable, versioned ``_schemaURL`` equal to the
``$id`` of the JSON Schema shipped under ``facets/<version>/``.  Field names are the JSON names.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attr
from openlineage.client.facet_v2 import DatasetFacet, RunFacet

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

# Values such as digests and key ids look like secrets to Airflow's masker; they are not.
_NEVER_REDACT = ["digest", "keyId", "signature", "algorithm", "previousDigest"]


class _ProvlineageFacet:
    """Stamps provlineage as the producer of its own facets (the base class would name the OL client)."""

    def __attrs_post_init__(self) -> None:
        if not self._producer:  # type: ignore[has-type]
            self._producer = PRODUCER
        self._schemaURL = self._get_schema()  # type: ignore[attr-defined]


@attr.define
class ManifestEntry:
    """One file of a hashed directory; ``path`` is relative, with ``/`` separators."""

    path: str
    digest: str
    size: int


@attr.define
class DatasetHashDatasetFacet(_ProvlineageFacet, DatasetFacet):
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
    _additional_skip_redact: ClassVar[list[str]] = [*_NEVER_REDACT, "manifest"]

    @staticmethod
    def _get_schema() -> str:
        return schema_url("DatasetHashDatasetFacet")


@attr.define
class HyperparametersRunFacet(_ProvlineageFacet, RunFacet):
    """Training/inference parameters as JSON; secrets replaced by ``"***"`` and listed in ``redactedKeys``."""

    parameters: dict[str, Any]
    redactedKeys: list[str] = attr.field(factory=list)
    conversions: dict[str, str] | None = None
    """Dotted path -> original Python type, for values JSON could not carry as they were."""

    @staticmethod
    def _get_schema() -> str:
        return schema_url("HyperparametersRunFacet")


@attr.define
class EnvironmentRunFacet(_ProvlineageFacet, RunFacet):
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
        *_NEVER_REDACT,
        "distributions",
        "distributionsDigest",
        "entryFile",
    ]

    @staticmethod
    def _get_schema() -> str:
        return schema_url("EnvironmentRunFacet")


@attr.define
class ModelDatasetFacet(_ProvlineageFacet, DatasetFacet):
    """A model artifact: what it is and the digest that identifies its bytes."""

    name: str
    digest: str | None = None
    """``<algorithm>:<hex>`` of the artifact (the root digest for a directory); absent when the artifact could not
    be read when it was logged, which ``provlineage lineage`` flags."""
    version: str | None = None
    framework: str | None = None
    format: str | None = None
    _additional_skip_redact: ClassVar[list[str]] = _NEVER_REDACT

    @staticmethod
    def _get_schema() -> str:
        return schema_url("ModelDatasetFacet")


@attr.define
class MetricsRunFacet(_ProvlineageFacet, RunFacet):
    """Evaluation metrics; ``slices`` holds per-slice metrics, ``dataset`` the evaluated dataset."""

    metrics: dict[str, Any]
    dataset: dict[str, str] | None = None
    """``{"namespace": ..., "name": ...}`` of the dataset the metrics were computed on."""
    slices: list[dict[str, Any]] | None = None
    """``[{"name": ..., "dataset": {...}?, "metrics": {...}}]``."""

    @staticmethod
    def _get_schema() -> str:
        return schema_url("MetricsRunFacet")


@attr.define
class InferenceRunFacet(_ProvlineageFacet, RunFacet):
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
    _additional_skip_redact: ClassVar[list[str]] = [*_NEVER_REDACT, "merkleRoot", "modelDigest", "digestKeyId"]

    @staticmethod
    def _get_schema() -> str:
        return schema_url("InferenceRunFacet")


@attr.define
class SignatureRunFacet(_ProvlineageFacet, RunFacet):
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
    _additional_skip_redact: ClassVar[list[str]] = [*_NEVER_REDACT, "digest", "stream"]

    @staticmethod
    def _get_schema() -> str:
        return schema_url("SignatureRunFacet")


@attr.define
class RedactionsRunFacet(_ProvlineageFacet, RunFacet):
    """Where provlineage replaced secrets by ``***`` outside ``provlineage_hyperparameters`` (which lists its own)."""

    paths: list[str] = attr.field(factory=list)
    """Dotted paths under ``run.facets`` (``errorMessage.stackTrace``, ``provlineage_metrics.metrics.url``)."""
    _additional_skip_redact: ClassVar[list[str]] = [*_NEVER_REDACT, "paths"]

    @staticmethod
    def _get_schema() -> str:
        return schema_url("RedactionsRunFacet")


ALL_FACETS: dict[str, type] = {
    DATASET_HASH: DatasetHashDatasetFacet,
    HYPERPARAMETERS: HyperparametersRunFacet,
    ENVIRONMENT: EnvironmentRunFacet,
    MODEL: ModelDatasetFacet,
    METRICS: MetricsRunFacet,
    INFERENCE: InferenceRunFacet,
    SIGNATURE: SignatureRunFacet,
    REDACTIONS: RedactionsRunFacet,
}
