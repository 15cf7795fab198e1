"""A task's declared inlets/outlets: their OpenLineage identity, what to hash, and which are models.

The identity comes from the OpenLineage provider's own converter (``ExtractorManager.convert_to_ol_dataset``),
so the (namespace, name) we attach facets to is exactly the one the provider puts in its event, and a
``file://`` Asset becomes ``("file", "/abs/path")`` -- the identity :func:`provlineage.naming.dataset_identity`
gives the same file in a ``track()`` job.
"""

from __future__ import annotations

import fnmatch
import logging
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from airflow_plugin.markers import NONE, ProvenanceMarker, marker_of
from airflow_plugin.settings import Settings
from provlineage.facets import DATASET_HASH, MODEL, ModelDatasetFacet

if TYPE_CHECKING:  # imported when a task has something to hash: most tasks never pay for it
    from provlineage.hashing import DatasetDigest, HashOptions

log = logging.getLogger("provlineage.airflow")

Identity = tuple[str, str]
_REMOTE_SCHEMES = (
    "s3://",
    "s3a://",
    "gs://",
    "gcs://",
    "abfs://",
    "abfss://",
    "az://",
    "hdfs://",
    "http://",
    "https://",
)


@dataclass(frozen=True)
class DeclaredDataset:
    """One inlet or outlet of a task that provlineage can hash."""

    identity: Identity
    location: str
    """Local path or remote URI to hash."""
    label: str
    """How the DAG names it (the Asset URI), for log messages."""
    is_model: bool = False
    model_name: str | None = None


def _to_openlineage(item: Any) -> Any:
    from airflow.providers.openlineage.extractors.manager import ExtractorManager

    return ExtractorManager.convert_to_ol_dataset(item)


def _location(item: Any, namespace: str, name: str, settings: Settings) -> str | None:
    if namespace in ("file", "file://localhost"):
        uri = getattr(item, "uri", None)
        if isinstance(uri, str) and uri.startswith("file:"):
            return unquote(urlsplit(uri).path) or name
        return name
    if settings.hash_remote and namespace.startswith(_REMOTE_SCHEMES):
        return f"{namespace.rstrip('/')}/{name.lstrip('/')}"
    return None


def _is_model(
    item: Any,
    ol_dataset: Any,
    identity: Identity,
    marker: ProvenanceMarker,
    settings: Settings,
    *,
    upstream_models: frozenset[Identity] = frozenset(),
) -> bool:
    if identity in _marked_models(marker.models) or identity in upstream_models:
        return True
    if getattr(item, "asset_type", None) == "model" or getattr(item, "group", None) == "model":
        return True
    dataset_type = (getattr(ol_dataset, "facets", None) or {}).get("datasetType")
    if str(getattr(dataset_type, "datasetType", "")).upper() == "MODEL":
        return True
    basename = posixpath.basename(identity[1].rstrip("/"))
    return any(fnmatch.fnmatch(basename, pattern) for pattern in settings.model_patterns)


@cache
def _marked_models(models: tuple[str, ...]) -> frozenset[Identity]:
    from provlineage.naming import dataset_identity

    return frozenset(dataset_identity(model) for model in models)


def _model_name(item: Any, identity: Identity, marker: ProvenanceMarker) -> str:
    if marker.model_name:
        return marker.model_name
    asset_name = getattr(item, "name", None)
    if isinstance(asset_name, str) and asset_name and asset_name != getattr(item, "uri", None):
        return asset_name
    basename = posixpath.basename(identity[1].rstrip("/")) or identity[1]
    stem, _, _ = basename.partition(".")
    return stem or basename


def dag_models(task: Any) -> frozenset[Identity]:
    """What the other tasks of ``task``'s DAG write as models, judged as each of them judges its own outlets.

    An evaluation task often reads the model without ``group="model"``; the training task that wrote it said
    so, and this is how the inlet is still recognised as the model rather than taken for the evaluated data.
    """
    if not getattr(task, "inlets", None):
        return frozenset()
    from airflow_plugin.settings import settings

    config = settings()
    found: set[Identity] = set()
    for other in getattr(getattr(task, "dag", None), "tasks", None) or ():
        if other is task or not getattr(other, "outlets", None):
            continue
        marker = marker_of(other) or ProvenanceMarker(NONE)
        found.update(
            dataset.identity for dataset in declared_datasets(other.outlets, marker, config) if dataset.is_model
        )
    return frozenset(found)


def declared_datasets(
    items: Iterable[Any],
    marker: ProvenanceMarker,
    settings: Settings,
    upstream_models: frozenset[Identity] | None = None,
) -> list[DeclaredDataset]:
    """The hashable datasets among ``items`` (a task's ``inlets`` or ``outlets``), in declaration order.

    ``upstream_models``: identities other tasks write as models (:func:`dag_models`), for inlets.
    """
    found: dict[Identity, DeclaredDataset] = {}
    for item in items or ():
        try:
            ol_dataset = _to_openlineage(item)
        except Exception as error:
            log.warning(
                "provlineage: cannot translate %r into an OpenLineage dataset (%s); it is not hashed", item, error
            )
            continue
        if ol_dataset is None:
            continue
        identity = (str(ol_dataset.namespace), str(ol_dataset.name))
        location = _location(item, *identity, settings)
        if location is None or identity in found:
            continue
        is_model = _is_model(
            item, ol_dataset, identity, marker, settings, upstream_models=upstream_models or frozenset()
        )
        found[identity] = DeclaredDataset(
            identity=identity,
            location=location,
            label=str(getattr(item, "uri", None) or f"{identity[0]}:{identity[1]}"),
            is_model=is_model,
            model_name=_model_name(item, identity, marker) if is_model else None,
        )
    return list(found.values())


@cache
def hash_options(settings: Settings) -> HashOptions:
    from provlineage.hashing import HashOptions

    return HashOptions(
        ignore=settings.hash_ignore,
        workers=settings.hash_workers,
        manifest_limit=settings.manifest_limit,
        progress=False,
    )


def model_facet(dataset: DeclaredDataset, digest: DatasetDigest | None, marker: ProvenanceMarker) -> ModelDatasetFacet:
    """The model's facet; ``digest`` is ``None`` when its artifact could not be hashed (``lineage`` flags that)."""
    basename = posixpath.basename(dataset.identity[1].rstrip("/"))
    suffix = basename.rpartition(".")[2] if "." in basename else None
    return ModelDatasetFacet(
        name=dataset.model_name or basename,
        digest=digest.prefixed if digest is not None else None,
        version=marker.model_version,
        framework=marker.framework,
        format="directory" if digest is not None and digest.kind == "directory" else suffix,
    )


def dataset_facets(dataset: DeclaredDataset, marker: ProvenanceMarker, settings: Settings) -> dict[str, Any]:
    """``provlineage_datasetHash`` (and ``provlineage_model`` for a model) of one dataset; raises HashingError."""
    from provlineage.hashing import hash_uri

    digest = hash_uri(dataset.location, hash_options(settings))
    facets: dict[str, Any] = {DATASET_HASH: digest.to_facet(settings.manifest_limit)}
    if dataset.is_model:
        facets[MODEL] = model_facet(dataset, digest, marker)
    return facets
