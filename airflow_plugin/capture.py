"""The slow work, done in the task process before the provider forks: hashing, arguments, metrics.

Each step is attempted on its own: a step that fails logs one line (logger ``provlineage.airflow``) naming
the task, the thing and the fix, and the others still run.  Nothing here raises into Airflow.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from airflow_plugin import store
from airflow_plugin.datasets import DeclaredDataset, Identity, dataset_facets, declared_datasets
from airflow_plugin.markers import ProvenanceMarker
from airflow_plugin.recognition import recognise
from airflow_plugin.settings import Settings, settings
from provlineage.errors import ProvlineageError
from provlineage.facets import HyperparametersRunFacet, MetricsRunFacet
from provlineage.hyperparameters import hyperparameters_facet

log = logging.getLogger("provlineage.airflow")
T = TypeVar("T")


def task_label(task_instance: Any) -> str:
    return f"{getattr(task_instance, 'dag_id', '?')}.{getattr(task_instance, 'task_id', '?')}"


def attempt(what: str, task_instance: Any, step: Callable[[], T], default: T) -> T:
    """Run ``step``; on any failure log one line and return ``default`` (lineage never breaks a task)."""
    try:
        return step()
    except ProvlineageError as error:
        log.error("provlineage: %s failed for task %s: %s", what, task_label(task_instance), error)
    except Exception as error:
        log.error(
            "provlineage: %s failed for task %s: %s: %s; the task goes on without it",
            what,
            task_label(task_instance),
            type(error).__name__,
            error,
        )
        log.debug("provlineage: details", exc_info=True)
    return default


def environment_facet() -> Any:
    from provlineage.environment import collect_environment

    return collect_environment()


def _hash_all(
    datasets: list[DeclaredDataset], role: str, task_instance: Any, marker: ProvenanceMarker, config: Settings
) -> dict[Identity, dict[str, Any]]:
    hashed: dict[Identity, dict[str, Any]] = {}
    for dataset in datasets:
        facets = attempt(
            f"hashing {role} {dataset.label}",
            task_instance,
            lambda dataset=dataset: dataset_facets(dataset, marker, config),  # type: ignore[misc]
            None,
        )
        if facets:
            hashed[dataset.identity] = facets
    return hashed


# --- hyperparameters -----------------------------------------------------------------------------------------
def _bound_arguments(
    function: Callable[..., Any], args: list[Any], kwargs: dict[str, Any], context_keys: set[str]
) -> dict[str, Any]:
    """The callable's arguments by name, defaults included, without what Airflow injects from the context."""
    signature = inspect.signature(function)
    bound = signature.bind_partial(*args, **kwargs)
    bound.apply_defaults()
    values: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                values[name] = list(value)
        elif kind is inspect.Parameter.VAR_KEYWORD:
            values.update({key: item for key, item in value.items() if key not in context_keys})
        elif name not in context_keys or name in kwargs:
            values[name] = value
    return values


def task_arguments(task_instance: Any) -> dict[str, Any]:
    """Rendered ``params`` and the Python callable's arguments (``op_args``/``op_kwargs``, TaskFlow arguments)."""
    task = task_instance.task
    context = task_instance.get_template_context()
    params = context.get("params") or {}
    values: dict[str, Any] = {str(key): params[key] for key in params}
    op_args = list(getattr(task, "op_args", None) or ())
    op_kwargs = dict(getattr(task, "op_kwargs", None) or {})
    function = getattr(task, "python_callable", None)
    if callable(function):
        try:
            values.update(_bound_arguments(function, op_args, op_kwargs, set(context)))
            return values
        except (TypeError, ValueError):  # a signature that does not bind: record what was passed
            pass
    values.update(op_kwargs)
    if op_args:
        values["args"] = op_args
    return values


def _summarised(value: Any, limit: int) -> Any:
    from provlineage._internal.jsonsafe import to_json_safe

    size = len(json.dumps(to_json_safe(value)))
    return value if size <= limit else f"<omitted: {type(value).__name__} of {size} bytes of JSON>"


def hyperparameters(task_instance: Any, marker: ProvenanceMarker, config: Settings) -> HyperparametersRunFacet | None:
    values = task_arguments(task_instance)
    if marker.hyperparameters is not None:
        values = {key: value for key, value in values.items() if key in marker.hyperparameters}
    if not values:
        return None
    values = {key: _summarised(value, config.max_parameter_bytes) for key, value in values.items()}
    return hyperparameters_facet(values, secret_pattern=config.secret_pattern)


# --- metrics -------------------------------------------------------------------------------------------------
def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _dataset_ref(value: Any) -> dict[str, str] | None:
    if isinstance(value, Mapping) and "namespace" in value and "name" in value:
        return {"namespace": str(value["namespace"]), "name": str(value["name"])}
    if isinstance(value, str) and value:
        from provlineage.naming import dataset_identity

        namespace, name = dataset_identity(value)
        return {"namespace": namespace, "name": name}
    return None


def metrics_facet(returned: Any, evaluated: Identity | None) -> MetricsRunFacet | None:
    """A task's returned dict as ``provlineage_metrics`` (see the README for the accepted shapes)."""
    from provlineage._internal.jsonsafe import to_json_safe

    if not isinstance(returned, Mapping):
        return None
    slices = None
    dataset = _dataset_ref(returned.get("dataset"))
    if isinstance(returned.get("metrics"), Mapping):
        metrics = dict(returned["metrics"])
        if isinstance(returned.get("slices"), list):
            slices = [
                {**dict(item), **({"dataset": ref} if (ref := _dataset_ref(item.get("dataset"))) else {})}
                for item in returned["slices"]
                if isinstance(item, Mapping) and "name" in item and isinstance(item.get("metrics"), Mapping)
            ] or None
    else:
        metrics = {str(key): value for key, value in returned.items() if _is_number(value)}
    if not metrics:
        return None
    if dataset is None and evaluated is not None:
        dataset = {"namespace": evaluated[0], "name": evaluated[1]}
    return MetricsRunFacet(
        metrics=to_json_safe(metrics), dataset=dataset, slices=to_json_safe(slices) if slices else None
    )


def returned_value(task_instance: Any) -> Any:
    """The task's return value, read back from XCom (the task runner keeps no other copy)."""
    return task_instance.xcom_pull(task_ids=task_instance.task_id, key="return_value")


# --- the three moments ---------------------------------------------------------------------------------------
def on_running(task_instance: Any) -> None:
    """Before the task body: environment, arguments after templating, input hashes."""
    config = settings()
    record = store.TaskRecord()
    record.environment = attempt("collecting the environment", task_instance, environment_facet, None)
    record.marker = attempt("recognising the task", task_instance, lambda: recognise(task_instance.task, config), None)
    marker = record.marker
    if marker is not None:
        task = task_instance.task
        if config.hyperparameters:
            record.hyperparameters = attempt(
                "recording hyperparameters", task_instance, lambda: hyperparameters(task_instance, marker, config), None
            )
        inputs = attempt("reading inlets", task_instance, lambda: declared_datasets(task.inlets, marker, config), [])
        record.declared_outputs = attempt(
            "reading outlets", task_instance, lambda: declared_datasets(task.outlets, marker, config), []
        )
        record.evaluated = next((dataset.identity for dataset in inputs if not dataset.is_model), None)
        record.inputs = _hash_all(inputs, "inlet", task_instance, marker, config)
    store.put(store.task_key(task_instance), record)


def _record_of(task_instance: Any) -> store.TaskRecord:
    record = store.get(store.task_key(task_instance))
    if record is None:  # the running hook did not run in this process (or failed before storing)
        on_running(task_instance)
        record = store.get(store.task_key(task_instance)) or store.TaskRecord()
    return record


def on_success(task_instance: Any) -> None:
    """After the task body succeeded: output hashes and, for evaluation tasks, metrics."""
    record = _record_of(task_instance)
    marker = record.marker
    if marker is None:
        return
    config = settings()
    record.outputs = _hash_all(record.declared_outputs, "outlet", task_instance, marker, config)
    if marker.wants_metrics:
        returned = attempt("reading the returned metrics", task_instance, lambda: returned_value(task_instance), None)
        record.metrics = attempt(
            "recording metrics", task_instance, lambda: metrics_facet(returned, record.evaluated), None
        )


def on_failed(task_instance: Any) -> None:
    """After the task body failed: outputs may be partial, so they are not hashed."""
    _record_of(task_instance)
