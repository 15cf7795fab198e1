"""``provlineage.track()``: OpenLineage run events for custom ML jobs (training, inference, evaluation, ...).

::

    with provlineage.track("churn.train", kind="training") as run:
        run.log_dataset("data/train.csv")
        run.log_hyperparameters({"lr": 0.1, "api_key": "..."})   # api_key is stored as "***"
        ...
        run.log_model("models/churn.json", name="churn", version="3")

or as a decorator (``@provlineage.track("churn.train", kind="training")``; the handle is :func:`current_run`).

What is emitted, through openlineage-python's ``OpenLineageClient`` (so ``openlineage.yml`` / ``OPENLINEAGE__*``
decide the transport, e.g. provlineage's ``SigningTransport``):

* **START** on entry: the ``jobType`` job facet (``processingType="BATCH"``, ``integration="PROVLINEAGE"``,
  ``jobType`` = ``kind`` upper-cased with non-alphanumerics as ``_``: ``TRAINING``, ``INFERENCE``, ``EVALUATION``),
  ``provlineage_environment`` (collected once per process) and ``parent`` when there is one.
* **COMPLETE** on a clean exit, or **FAIL** with the standard ``errorMessage`` facet (exception type and message,
  ``programmingLanguage="python"``, the stack trace) when the body raises; the exception is re-raised.
  ``KeyboardInterrupt`` gives **ABORT**; ``SystemExit`` with status 0 counts as a clean exit.  The terminal event
  carries *everything* the run logged: all inputs and outputs with their facets, ``provlineage_hyperparameters``,
  ``provlineage_metrics``, ``provlineage_inference`` and the environment.  No RUNNING events are sent: consumers
  such as Marquez merge a run's events, and one complete terminal event is what auditors read.

Failures never break the job: a dataset that cannot be hashed is logged as one error naming it and is still
recorded (without ``provlineage_datasetHash``, so lineage stays connected and the gap is visible); an event that
cannot be sent is logged.  In strict mode (``strict=True``, ``PROVLINEAGE_STRICT=1``, or a transport whose
``strict`` is true) both raise instead.

The parent run is, in order: ``parent=`` (a :class:`Run`, a ``ParentRunFacet`` or ``{"runId", "namespace",
"name"}``), the enclosing ``track()`` run, then ``OPENLINEAGE_PARENT_ID`` (``namespace/job/runId``, the variable
OpenLineage integrations pass to child processes).
"""

from __future__ import annotations

import contextvars
import datetime as _dt
import functools
import inspect
import logging
import os
import re
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from openlineage.client.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, RunEvent, RunState
from openlineage.client.event_v2 import Run as OLRun
from openlineage.client.facet_v2 import (
    DatasetFacet,
    dataset_type_dataset,
    dataset_version_dataset,
    documentation_dataset,
    error_message_run,
    job_type_job,
    parent_run,
)
from openlineage.client.uuid import generate_new_uuid

from provlineage import facets as pf
from provlineage._internal.jsonsafe import to_json_safe
from provlineage.errors import ConfigError, DeliveryError, HashingError, ProvlineageError
from provlineage.hyperparameters import hyperparameters_facet, secret_matcher
from provlineage.inference import InferenceRecorder, Sealed, default_log_path
from provlineage.naming import dataset_identity

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
INTEGRATION = "PROVLINEAGE"
STRICT_ENV = "PROVLINEAGE_STRICT"
INFERENCE_LOG_ENV = "PROVLINEAGE_INFERENCE_LOG"
FALLBACK_INFERENCE_LOG = "provlineage.inferences.jsonl"
_ROLES = ("input", "output")

_current: contextvars.ContextVar[Run | None] = contextvars.ContextVar("provlineage_current_run", default=None)


def current_run() -> Run | None:
    """The run of the innermost active ``track()`` in this thread/task, or ``None``."""
    return _current.get()


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat()


def job_type(kind: str) -> str:
    """``"training"`` -> ``"TRAINING"``; ``"feature-engineering"`` -> ``"FEATURE_ENGINEERING"``."""
    return re.sub(r"[^A-Za-z0-9]+", "_", kind).strip("_").upper() or "JOB"


@dataclass(frozen=True)
class DatasetRef:
    """A dataset a run logged: its OpenLineage identity and content digest (``None`` when hashing failed)."""

    namespace: str
    name: str
    role: str
    digest: str | None


@dataclass(frozen=True)
class _ParentLink:
    run_id: str
    namespace: str
    name: str
    root: _ParentLink | None = None

    def facet(self) -> parent_run.ParentRunFacet:
        root = None
        if self.root is not None:
            root = parent_run.Root(
                run=parent_run.RootRun(runId=self.root.run_id),
                job=parent_run.RootJob(namespace=self.root.namespace, name=self.root.name),
            )
        return parent_run.ParentRunFacet(
            run=parent_run.Run(runId=self.run_id),
            job=parent_run.Job(namespace=self.namespace, name=self.name),
            root=root,
        )


def _parent_link(parent: Any) -> _ParentLink | None:
    if parent is None:
        enclosing = current_run()
        if enclosing is not None:
            return enclosing.link()
        text = os.environ.get("OPENLINEAGE_PARENT_ID", "")
        parts = text.rsplit("/", 2)
        return _ParentLink(parts[2], parts[0], parts[1]) if len(parts) == 3 and all(parts) else None
    if isinstance(parent, Run):
        return parent.link()
    if isinstance(parent, parent_run.ParentRunFacet):
        root = parent.root and _ParentLink(parent.root.run.runId, parent.root.job.namespace, parent.root.job.name)
        return _ParentLink(parent.run.runId, parent.job.namespace, parent.job.name, root or None)
    if isinstance(parent, Mapping) and {"runId", "namespace", "name"} <= set(parent):
        return _ParentLink(str(parent["runId"]), str(parent["namespace"]), str(parent["name"]))
    raise ConfigError(
        f"parent {parent!r} is not a run",
        'pass a provlineage Run, a ParentRunFacet or {"runId": ..., "namespace": ..., "name": ...}',
    )


class Run:
    """The handle of one tracked run: log datasets, parameters, models, metrics and inferences to it.

    Thread-safe.  Create it with :func:`track`, not directly.
    """

    def __init__(self, tracker: _Tracker) -> None:
        self._tracker = tracker
        self.run_id = str(generate_new_uuid())
        self.job_name = tracker.job_name
        self.namespace = tracker.namespace
        self.kind = tracker.kind
        self._parent = _parent_link(tracker.parent)
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

    # --- identity -------------------------------------------------------------------------------------------
    def link(self) -> _ParentLink:
        """This run as a parent of another (its root is this run's root, or its parent)."""
        root = None
        if self._parent is not None:
            root = self._parent.root or _ParentLink(self._parent.run_id, self._parent.namespace, self._parent.name)
        return _ParentLink(self.run_id, self.namespace, self.job_name, root)

    def __repr__(self) -> str:
        return f"<provlineage Run {self.namespace}/{self.job_name} {self.run_id} kind={self.kind}>"

    # --- failure policy -------------------------------------------------------------------------------------
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

    # --- datasets and models --------------------------------------------------------------------------------
    def _hash(self, path_or_uri: str | os.PathLike[str]) -> Any:
        from provlineage.hashing import hash_uri

        try:
            return hash_uri(os.fspath(path_or_uri), self._tracker.hash_options)
        except HashingError as error:
            self._failed(HashingError(f"{error.what}; the dataset is recorded without a content hash", error.fix))
        except OSError as error:  # the engine reports OSErrors as HashingError; this is a last line of defence
            self._failed(
                HashingError(f"cannot hash {os.fspath(path_or_uri)} ({error})", "check the path and its permissions")
            )
        return None

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
        if role not in _ROLES:
            raise ConfigError(f"dataset role {role!r} is not known", "use role='input' or role='output'")
        if not self._usable("log_dataset"):
            return None
        namespace, dataset_name = dataset_identity(path_or_uri)
        facets: dict[str, DatasetFacet] = {}
        digest = self._hash(path_or_uri)
        if digest is not None:
            facets[pf.DATASET_HASH] = digest.to_facet(self._tracker.manifest_limit)
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
        if role not in _ROLES:
            raise ConfigError(
                f"model role {role!r} is not known", "use role='output' (training) or role='input' (inference)"
            )
        if not self._usable("log_model"):
            return None
        namespace, dataset_name = dataset_identity(path)
        facets: dict[str, DatasetFacet] = {
            "datasetType": dataset_type_dataset.DatasetTypeDatasetFacet(datasetType="MODEL")
        }
        digest = self._hash(path)
        if digest is not None:
            facets[pf.DATASET_HASH] = digest.to_facet(self._tracker.manifest_limit)
            facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=digest.prefixed)
            facets[pf.MODEL] = pf.ModelDatasetFacet(
                name=name, digest=digest.prefixed, version=version, framework=framework, format=format
            )
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

    # --- parameters and metrics -----------------------------------------------------------------------------
    def log_hyperparameters(self, mapping: Mapping[str, Any]) -> None:
        """Merge ``mapping`` into ``provlineage_hyperparameters`` (later keys win).

        Values JSON cannot carry are converted by :mod:`provlineage._internal.jsonsafe` (and listed in
        ``conversions``); keys matching the secret pattern (``PROVLINEAGE_SECRET_PATTERN`` or ``track(...,
        secret_pattern=)``) are stored as ``"***"`` and listed in ``redactedKeys``.
        """
        if not self._usable("log_hyperparameters") or not self._is_mapping("log_hyperparameters", mapping):
            return
        try:  # a bad PROVLINEAGE_SECRET_PATTERN records nothing, never unredacted values
            with self._lock:
                self._hyperparameters.update(mapping)
                self._hyperparameters_facet = hyperparameters_facet(
                    self._hyperparameters, secret_pattern=self._tracker.secret_pattern
                )
        except ProvlineageError as error:
            self._failed(error)

    def log_metrics(
        self, mapping: Mapping[str, Any], *, dataset: str | os.PathLike[str] | DatasetRef | None = None
    ) -> None:
        """Merge metrics into ``provlineage_metrics``.

        Metrics without ``dataset`` go to ``metrics``; metrics of a dataset go to a slice named after it.  When all
        metrics are of one dataset, the facet holds them directly with ``dataset`` set and no slices.
        """
        if not self._usable("log_metrics") or not self._is_mapping("log_metrics", mapping):
            return
        values = to_json_safe(dict(mapping))
        with self._lock:
            if dataset is None:
                self._metrics.update(values)
                return
            key = (dataset.namespace, dataset.name) if isinstance(dataset, DatasetRef) else dataset_identity(dataset)
            self._metric_slices.setdefault(key, {}).update(values)

    def _metrics_facet(self) -> pf.MetricsRunFacet | None:
        if not self._metrics and not self._metric_slices:
            return None
        if not self._metrics and len(self._metric_slices) == 1:
            ((namespace, name), values), *_ = self._metric_slices.items()
            return pf.MetricsRunFacet(metrics=dict(values), dataset={"namespace": namespace, "name": name})
        slices = [
            {"name": name, "dataset": {"namespace": namespace, "name": name}, "metrics": dict(values)}
            for (namespace, name), values in self._metric_slices.items()
        ]
        return pf.MetricsRunFacet(metrics=dict(self._metrics), slices=slices or None)

    # --- inferences -----------------------------------------------------------------------------------------
    @property
    def model_digest(self) -> str | None:
        """The digest inference ids use: of the model this run read, else of the one it wrote."""
        return self._model_digests.get("input") or self._model_digests.get("output")

    def _inference_log_path(self) -> Path:
        configured = self._tracker.inference_log or os.environ.get(INFERENCE_LOG_ENV)
        if configured:
            return Path(configured)
        transport = getattr(self._client, "transport", None)
        event_log = getattr(transport, "file_log_path", None)
        config = getattr(transport, "config", None)
        if event_log is None and getattr(config, "append", False):
            event_log = getattr(config, "log_file_path", None)  # openlineage's own FileTransport
        if event_log and "://" not in str(event_log):
            return default_log_path(event_log)
        log.warning(
            "provlineage: no inference log configured and the transport writes no local file; using ./%s "
            "(set track(..., inference_log=PATH) or %s)",
            FALLBACK_INFERENCE_LOG,
            INFERENCE_LOG_ENV,
        )
        return Path.cwd() / FALLBACK_INFERENCE_LOG

    def _inference_recorder(self) -> InferenceRecorder:
        with self._lock:
            if self._recorder is None:
                self._recorder = InferenceRecorder(
                    self._inference_log_path().resolve(),
                    run_id=self.run_id,
                    job_namespace=self.namespace,
                    job_name=self.job_name,
                    model_digest=self.model_digest,
                    retain_payloads=self._tracker.retain_payloads,
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

    # --- events ---------------------------------------------------------------------------------------------
    def _run_facets(self, state: RunState, error: BaseException | None) -> dict[str, Any]:
        facets: dict[str, Any] = {}
        if self._environment is not None:
            facets[pf.ENVIRONMENT] = self._environment
        if self._parent is not None:
            facets["parent"] = self._parent.facet()
        if state is RunState.START:
            return facets
        if self._hyperparameters_facet is not None:
            facets[pf.HYPERPARAMETERS] = self._hyperparameters_facet
        metrics = self._metrics_facet()
        if metrics is not None:
            facets[pf.METRICS] = metrics
        if self._inference is not None and self._recorder is not None:
            facets[pf.INFERENCE] = self._inference.facet(
                model_digest=self._recorder.model_digest,
                log_path=self._recorder.path,
                payloads_retained=self._recorder.retain_payloads,
            )
        if error is not None:
            facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=f"{type(error).__name__}: {error}",
                programmingLanguage="python",
                stackTrace="".join(traceback.format_exception(type(error), error, error.__traceback__)),
            )
        return facets

    def _event(self, state: RunState, error: BaseException | None = None) -> RunEvent:
        with self._lock:
            datasets = dict(self._datasets) if state is not RunState.START else {}
            run_facets = self._run_facets(state, error)
        inputs = [
            InputDataset(namespace=ns, name=name, facets=dict(f))
            for (role, ns, name), f in datasets.items()
            if role == "input"
        ]
        outputs = [
            OutputDataset(namespace=ns, name=name, facets=dict(f))
            for (role, ns, name), f in datasets.items()
            if role == "output"
        ]
        job_facets = {
            "jobType": job_type_job.JobTypeJobFacet(
                processingType="BATCH", integration=INTEGRATION, jobType=job_type(self.kind)
            )
        }
        return RunEvent(
            eventType=state,
            eventTime=_now(),
            run=OLRun(runId=self.run_id, facets=run_facets),
            job=Job(namespace=self.namespace, name=self.job_name, facets=job_facets),
            inputs=inputs,
            outputs=outputs,
            producer=pf.PRODUCER,
        )

    def _emit(self, state: RunState, error: BaseException | None = None) -> None:
        if self._client is None:
            return
        try:
            event = self._event(state, error)
            self._client.emit(event)
        except ProvlineageError as failure:
            self._failed(
                DeliveryError(
                    f"{state.value} event of run {self.run_id} was not sent ({failure})", "see the error above"
                )
            )
        except Exception as failure:  # transports raise what their backend raises
            self._failed(
                DeliveryError(
                    f"{state.value} event of run {self.run_id} was not sent ({type(failure).__name__}: {failure})",
                    "check the OpenLineage transport configuration and the backend",
                )
            )

    # --- lifecycle ------------------------------------------------------------------------------------------
    def _start(self) -> None:
        tracker = self._tracker
        self.strict = tracker.strict if tracker.strict is not None else _truthy(os.environ.get(STRICT_ENV))
        if tracker.client is not None:
            self._client = tracker.client
        else:
            try:
                self._client, self._owns_client = OpenLineageClient(), True
            except Exception as error:
                self._failed(
                    DeliveryError(
                        f"cannot build the OpenLineage client ({type(error).__name__}: {error})",
                        "check openlineage.yml or OPENLINEAGE__* variables",
                    )
                )
        if tracker.strict is None and getattr(getattr(self._client, "transport", None), "strict", False) is True:
            self.strict = True
        if tracker.environment:
            from provlineage.environment import collect_environment

            try:
                self._environment = collect_environment()
            except Exception as error:  # collection is meant never to raise; a run must not depend on it
                log.warning("provlineage: environment not recorded (%s: %s)", type(error).__name__, error)
        self._emit(RunState.START)

    def _seal_inferences(self, status: str) -> None:
        if self._recorder is None:
            return
        signer = None
        try:  # SigningTransport loads its key lazily: a bad key must not cost the inference log its seal
            signer = getattr(getattr(self._client, "transport", None), "signer", None)
        except Exception as error:
            log.error("provlineage: the inference seal of run %s is not signed (%s)", self.run_id, error)
        try:
            self._inference = self._recorder.seal(signer, status=status)
        except OSError as error:
            self._inference = self._recorder.summary()
            self._failed(
                DeliveryError(
                    f"cannot write inference log {self._recorder.path} ({error.strerror or error})",
                    "check the directory and free space",
                )
            )
        except ProvlineageError as error:
            self._inference = self._recorder.summary()
            self._failed(error)

    def _finish(self, error: BaseException | None) -> None:
        if isinstance(error, SystemExit) and error.code in (None, 0):
            error = None
        state = (
            RunState.COMPLETE
            if error is None
            else RunState.ABORT
            if isinstance(error, KeyboardInterrupt)
            else RunState.FAIL
        )
        try:
            try:  # strict mode raises a seal failure, but only after the terminal event (with the root) is sent
                self._seal_inferences(state.value)
            finally:
                self.ended = True
                self._emit(state, error if state is RunState.FAIL else None)
        finally:
            if self._owns_client and self._client is not None:
                try:
                    self._client.close(timeout=30.0)
                except Exception as failure:
                    log.warning("provlineage: closing the OpenLineage client failed (%s)", failure)


class _Tracker:
    """What :func:`track` returns: a context manager (one run per ``with``) and a decorator (one run per call)."""

    def __init__(self, job_name: str, kind: str, **settings: Any) -> None:
        if not job_name or not isinstance(job_name, str):
            raise ConfigError(f"job name {job_name!r} is empty or not a string", "pass a name such as 'churn.train'")
        if not kind or not isinstance(kind, str):
            raise ConfigError(
                f"kind {kind!r} of job {job_name} is empty",
                "pass kind='training', 'inference', 'evaluation' or your own",
            )
        self.job_name = job_name
        self.kind = kind
        self.namespace: str = settings.pop("namespace") or os.environ.get("OPENLINEAGE_NAMESPACE") or "default"
        self.client: OpenLineageClient | None = settings.pop("client")
        self.parent: Any = settings.pop("parent")
        self.strict: bool | None = settings.pop("strict")
        self.inference_log: str | os.PathLike[str] | None = settings.pop("inference_log")
        self.retain_payloads: bool = settings.pop("retain_payloads")
        self.secret_pattern: str | None = settings.pop("secret_pattern")
        if self.secret_pattern is not None:
            secret_matcher(self.secret_pattern)  # a bad pattern is a ConfigError here, not in the job's body
        self.hash_options: Any = settings.pop("hash_options")
        self.manifest_limit: int = settings.pop("manifest_limit")
        self.environment: bool = settings.pop("environment")
        self._run: Run | None = None
        self._token: contextvars.Token[Run | None] | None = None

    def _copy(self) -> _Tracker:
        fresh = object.__new__(_Tracker)
        fresh.__dict__.update(self.__dict__)
        fresh._run, fresh._token = None, None
        return fresh

    def __enter__(self) -> Run:
        if self._run is not None:
            raise ConfigError(f"track({self.job_name!r}) is already active", "call track() again for a second run")
        run = Run(self)
        run._start()  # raises only in strict mode, before the body runs
        self._run, self._token = run, _current.set(run)
        return run

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        run, token = self._run, self._token
        assert run is not None
        if token is not None:
            _current.reset(token)
        self._run, self._token = None, None
        if exc is None:
            run._finish(None)
            return False
        try:
            run._finish(exc)
        except ProvlineageError as failure:  # strict mode: never hide the job's own exception behind ours
            log.error("provlineage (run %s): %s", run.run_id, failure)
        return False

    def __call__(self, function: F) -> F:
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self._copy():
                    return await function(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(function)
        def run_sync(*args: Any, **kwargs: Any) -> Any:
            with self._copy():
                return function(*args, **kwargs)

        return run_sync  # type: ignore[return-value]


def track(
    job_name: str,
    *,
    kind: str,
    namespace: str | None = None,
    client: OpenLineageClient | None = None,
    parent: Any = None,
    strict: bool | None = None,
    inference_log: str | os.PathLike[str] | None = None,
    retain_payloads: bool = False,
    secret_pattern: str | None = None,
    hash_options: Any = None,
    manifest_limit: int = 1000,
    environment: bool = True,
) -> _Tracker:
    """Track a custom job as an OpenLineage run; use as ``with track(...) as run:`` or ``@track(...)``.

    ``namespace`` defaults to ``$OPENLINEAGE_NAMESPACE``, else ``"default"``.  ``client`` defaults to a new
    ``OpenLineageClient()`` per run (normal config resolution; closed when the run ends).  ``inference_log``
    defaults to ``$PROVLINEAGE_INFERENCE_LOG``, else ``<event log>.inferences.jsonl`` beside the transport's file
    log, else ``./provlineage.inferences.jsonl``.  ``retain_payloads`` keeps raw inference inputs/outputs in that
    log (they may be personal data).  ``hash_options`` is a :class:`provlineage.hashing.HashOptions`;
    ``manifest_limit`` caps per-file manifests in events.
    """
    return _Tracker(
        job_name,
        kind,
        namespace=namespace,
        client=client,
        parent=parent,
        strict=strict,
        inference_log=inference_log,
        retain_payloads=retain_payloads,
        secret_pattern=secret_pattern,
        hash_options=hash_options,
        manifest_limit=manifest_limit,
        environment=environment,
    )
