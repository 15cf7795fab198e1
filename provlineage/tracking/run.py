"""The handle a tracked job logs to: datasets, models, hyperparameters, metrics and inferences.

Event building is in :mod:`provlineage.tracking.events`, start and finish in :mod:`provlineage.tracking.lifecycle`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openlineage.client.client import OpenLineageClient
from openlineage.client.facet_v2 import (
    DatasetFacet,
    dataset_type_dataset,
    dataset_version_dataset,
    documentation_dataset,
)
from openlineage.client.uuid import generate_new_uuid

from provlineage import facets as pf
from provlineage._internal.jsonsafe import to_json_safe, utf8_safe
from provlineage.errors import ConfigError, DeliveryError, HashingError, ProvlineageError
from provlineage.hyperparameters import hyperparameters_facet
from provlineage.inference import InferenceRecorder, Sealed
from provlineage.naming import dataset_identity
from provlineage.redaction import redact
from provlineage.tracking.context import ParentLink, parent_link
from provlineage.tracking.inference_log import inference_log_path
from provlineage.tracking.options import TrackOptions

log = logging.getLogger("provlineage.tracking")

ROLES = ("input", "output")


@dataclass(frozen=True)
class DatasetRef:
    """A dataset a run logged: its OpenLineage identity and content digest (``None`` when hashing failed)."""

    namespace: str
    name: str
    role: str
    digest: str | None


def _unconvertible(what: str, error: Exception) -> ProvlineageError:
    return ProvlineageError(
        f"{what}: a value could not be converted to JSON ({type(error).__name__}: {error}); nothing was merged",
        "pass plain values (numbers, strings, lists, dicts)",
    )


class Run:
    """The handle of one tracked run: log datasets, parameters, models, metrics and inferences to it.

    Thread-safe.  Create it with :func:`track`, not directly.
    """

    def __init__(self, options: TrackOptions) -> None:
        self.options = options
        self.run_id = str(generate_new_uuid())
        self.job_name = options.job_name
        self.namespace = options.namespace
        self.kind = options.kind
        self._parent = parent_link(options.parent)
        self._lock = threading.Lock()
        self._datasets: dict[tuple[str, str, str], dict[str, DatasetFacet]] = {}
        self._hyperparameters: dict[str, Any] = {}
        self._hyperparameters_facet: pf.HyperparametersRunFacet | None = None
        self._metrics: dict[str, Any] = {}
        self._metric_slices: dict[tuple[str, str], dict[str, Any]] = {}
        self._model_digests: dict[str, str] = {}
        self._recorder: InferenceRecorder | None = None
        self._inference: Sealed | None = None
        self._client: OpenLineageClient | None = None
        self._owns_client = False
        self._environment: pf.EnvironmentRunFacet | None = None
        self.strict = False
        self.ended = False

    def link(self) -> ParentLink:
        """This run as a parent of another (its root is this run's root, or its parent)."""
        root = None
        if self._parent is not None:
            root = self._parent.root or ParentLink(self._parent.run_id, self._parent.namespace, self._parent.name)
        return ParentLink(self.run_id, self.namespace, self.job_name, root)

    def __repr__(self) -> str:
        return f"<provlineage Run {self.namespace}/{self.job_name} {self.run_id} kind={self.kind}>"

    def _failed(self, error: ProvlineageError) -> None:
        """Lineage failed: raise in strict mode, else log one clear line and let the job go on."""
        if self.strict:
            raise error
        log.error("provlineage (run %s of %s): %s", self.run_id, self.job_name, error)

    def _usable(self, what: str) -> bool:
        if self.ended:
            self._failed(ProvlineageError(f"{what} after run {self.run_id} ended", "call it inside the track() block"))
            return False
        return True

    def _is_mapping(self, what: str, value: Any) -> bool:
        if isinstance(value, Mapping):
            return True
        self._failed(ConfigError(f"{what} got a {type(value).__name__}, not a mapping", "pass a dict of name -> value"))
        return False

    def _hash(self, path_or_uri: str | os.PathLike[str]) -> Any:
        from provlineage.hashing import hash_uri

        try:
            return hash_uri(os.fsdecode(path_or_uri), self.options.hash_options)
        except HashingError as error:
            self._failed(HashingError(f"{error.what}; the dataset is recorded without a content hash", error.fix))
        except OSError as error:  # the engine reports OSErrors as HashingError; this is a last line of defence
            self._failed(
                HashingError(f"cannot hash {os.fspath(path_or_uri)} ({error})", "check the path and its permissions")
            )
        return None

    def _identity(self, path_or_uri: str | os.PathLike[str] | bytes) -> tuple[str, str]:
        """The dataset identity; a path that is not valid UTF-8 is named by the ``%XX`` rule (strict: refused)."""
        namespace, name = dataset_identity(os.fsdecode(path_or_uri))
        safe = utf8_safe(name)
        if safe != name:
            if self.strict:
                raise ConfigError(
                    f"dataset path {safe} is not valid UTF-8, which JSON cannot carry",
                    "rename the file, or pass name='...' to record it under a name of your choice",
                )
            log.warning(
                "provlineage: dataset path %s is not valid UTF-8; recorded with each undecodable byte as %%XX", safe
            )
        return namespace, safe

    def _add_dataset(
        self, role: str, namespace: str, name: str, facets: dict[str, DatasetFacet], digest: str | None
    ) -> DatasetRef:
        with self._lock:
            self._datasets[(role, namespace, name)] = facets
        return DatasetRef(namespace, name, role, digest)

    def log_dataset(
        self,
        path_or_uri: str | os.PathLike[str],
        *,
        role: str = "input",
        name: str | None = None,
        description: str | None = None,
    ) -> DatasetRef | None:
        """Record a dataset the run reads (``role="input"``) or writes (``"output"``), with its content digest.

        The identity follows OpenLineage's naming rules (``/data/x.csv`` -> namespace ``file``, name
        ``/data/x.csv``; ``s3://b/k`` -> ``s3://b``, ``k``).  ``name`` replaces the dataset name (the namespace
        stays), for datasets other jobs know by a logical name.  Logging the same dataset again replaces it.
        """
        if role not in ROLES:
            raise ConfigError(f"dataset role {role!r} is not known", "use role='input' or role='output'")
        if not self._usable("log_dataset"):
            return None
        namespace, dataset_name = (
            self._identity(path_or_uri) if name is None else dataset_identity(os.fsdecode(path_or_uri))
        )
        facets: dict[str, DatasetFacet] = {}
        digest = self._hash(path_or_uri)
        if digest is not None:
            facets[pf.DATASET_HASH] = digest.to_facet(self.options.manifest_limit)
            facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=digest.prefixed)
        if description:
            facets["documentation"] = documentation_dataset.DocumentationDatasetFacet(description=description)
        return self._add_dataset(role, namespace, name or dataset_name, facets, digest.prefixed if digest else None)

    def log_model(
        self,
        path: str | os.PathLike[str],
        *,
        name: str,
        version: str | None = None,
        framework: str | None = None,
        role: str = "output",
        format: str | None = None,
    ) -> DatasetRef | None:
        """Record a model artifact as a dataset with ``provlineage_model`` and ``provlineage_datasetHash``.

        A training run writes it (``role="output"``); an inference run reads it (``role="input"``) under the same
        OpenLineage identity, so Marquez draws dataset -> training -> model -> inference.  The digest of the model
        read (else written) by this run goes into its inference ids.
        """
        if role not in ROLES:
            raise ConfigError(
                f"model role {role!r} is not known", "use role='output' (training) or role='input' (inference)"
            )
        if not self._usable("log_model"):
            return None
        namespace, dataset_name = self._identity(path)
        facets: dict[str, DatasetFacet] = {
            "datasetType": dataset_type_dataset.DatasetTypeDatasetFacet(datasetType="MODEL")
        }
        digest = self._hash(path)
        # Name and version are kept when the artifact cannot be read: the model stays in the record, and its missing
        # digest is what `provlineage lineage` flags.
        facets[pf.MODEL] = pf.ModelDatasetFacet(
            name=name, digest=digest.prefixed if digest else None, version=version, framework=framework, format=format
        )
        if digest is not None:
            facets[pf.DATASET_HASH] = digest.to_facet(self.options.manifest_limit)
            facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=digest.prefixed)
            with self._lock:
                self._model_digests[role] = digest.prefixed
                if self._recorder is not None and self._recorder.model_digest != self.model_digest:
                    log.warning(
                        "provlineage: run %s logged model %s after its first inference; inference ids keep using %s",
                        self.run_id,
                        digest.prefixed,
                        self._recorder.model_digest,
                    )
        return self._add_dataset(role, namespace, dataset_name, facets, digest.prefixed if digest else None)

    def log_hyperparameters(self, mapping: Mapping[str, Any]) -> None:
        """Merge ``mapping`` into ``provlineage_hyperparameters`` (later keys win).

        Values JSON cannot carry are converted by :mod:`provlineage._internal.jsonsafe` (and listed in
        ``conversions``); then secrets are redacted by :func:`provlineage.redaction.redact` (values of keys matching
        the secret pattern, ``PROVLINEAGE_SECRET_PATTERN`` or ``track(..., secret_pattern=)``, and the secret parts
        of any string) and their paths listed in ``redactedKeys``.
        """
        if not self._usable("log_hyperparameters") or not self._is_mapping("log_hyperparameters", mapping):
            return
        try:  # a bad PROVLINEAGE_SECRET_PATTERN records nothing, never unredacted values
            with self._lock:
                self._hyperparameters.update(mapping)
                self._hyperparameters_facet = hyperparameters_facet(
                    self._hyperparameters, secret_pattern=self.options.secret_pattern
                )
        except ProvlineageError as error:
            self._failed(error)
        except Exception as error:  # a user object whose conversion raises: the job goes on
            self._failed(_unconvertible("log_hyperparameters", error))

    def log_metrics(
        self, mapping: Mapping[str, Any], *, dataset: str | os.PathLike[str] | DatasetRef | None = None
    ) -> None:
        """Merge metrics into ``provlineage_metrics``.

        Metrics without ``dataset`` go to ``metrics``; metrics of a dataset go to a slice named after it.  When all
        metrics are of one dataset, the facet holds them directly with ``dataset`` set and no slices.  Secrets in
        string values are redacted when the event is built (listed in ``provlineage_redactions``).
        """
        if not self._usable("log_metrics") or not self._is_mapping("log_metrics", mapping):
            return
        try:
            values = to_json_safe(dict(mapping))
        except Exception as error:  # a user object whose conversion raises: the job goes on
            self._failed(_unconvertible("log_metrics", error))
            return
        with self._lock:
            if dataset is None:
                self._metrics.update(values)
                return
            key = (dataset.namespace, dataset.name) if isinstance(dataset, DatasetRef) else dataset_identity(dataset)
            self._metric_slices.setdefault(key, {}).update(values)

    def _metrics_facet(self) -> tuple[pf.MetricsRunFacet | None, list[str]]:
        """The metrics facet, secrets in it redacted, and the paths (under ``run.facets``) that were."""
        if not self._metrics and not self._metric_slices:
            return None, []
        base = pf.METRICS
        if not self._metrics and len(self._metric_slices) == 1:
            ((namespace, name), values), *_ = self._metric_slices.items()
            clean, paths = redact(values, path=f"{base}.metrics", numbers_by_key=False)
            return pf.MetricsRunFacet(metrics=clean, dataset={"namespace": namespace, "name": name}), paths
        paths: list[str] = []
        slices = []
        for index, ((namespace, name), values) in enumerate(self._metric_slices.items()):
            clean, found = redact(values, path=f"{base}.slices[{index}].metrics", numbers_by_key=False)
            slices.append({"name": name, "dataset": {"namespace": namespace, "name": name}, "metrics": clean})
            paths += found
        clean, found = redact(self._metrics, path=f"{base}.metrics", numbers_by_key=False)
        return pf.MetricsRunFacet(metrics=clean, slices=slices or None), found + paths

    @property
    def model_digest(self) -> str | None:
        """The digest inference ids use: of the model this run read, else of the one it wrote."""
        return self._model_digests.get("input") or self._model_digests.get("output")

    def _inference_recorder(self) -> InferenceRecorder:
        with self._lock:
            if self._recorder is None:
                self._recorder = InferenceRecorder(
                    inference_log_path(self.options.inference_log, self._client).resolve(),
                    run_id=self.run_id,
                    job_namespace=self.namespace,
                    job_name=self.job_name,
                    model_digest=self.model_digest,
                    retain_payloads=self.options.retain_payloads,
                    digest_key=self.options.digest_key,
                )
            return self._recorder

    def log_inference(self, input: Any, output: Any, *, id: str | None = None) -> str | None:
        """Record one inference; returns its id (deterministic unless ``id`` is given; see :mod:`provlineage.inference`).

        Only digests of ``input``/``output`` are kept unless the run was started with ``retain_payloads=True``.
        Returns ``None`` (after logging why) if the record could not be made and strict mode is off.
        """
        if self.ended:
            self._usable("log_inference")
            return None
        recorder = self._recorder or self._inference_recorder()
        try:
            return recorder.record(input, output, id=id)
        except ProvlineageError as error:
            self._failed(error)
        except OSError as error:
            self._failed(
                DeliveryError(
                    f"cannot append to inference log {recorder.path} ({error.strerror or error})",
                    "check the directory and free space",
                )
            )
        return None

    @property
    def inference_count(self) -> int:
        return self._recorder.count if self._recorder is not None else 0

    @property
    def inference_log(self) -> Path | None:
        return self._recorder.path if self._recorder is not None else None
