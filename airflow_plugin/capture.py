"""The slow work, done in the task process before the provider forks: environment, hashing, arguments, metrics.

Each step is attempted on its own: a step that fails logs one line (logger ``provlineage.airflow``) naming
the task, the thing and the fix, and the others still run.  Nothing here raises into Airflow.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_plugin import store
from airflow_plugin.recognition import recognise
from airflow_plugin.settings import Settings, settings
from provlineage.errors import ProvlineageError

if TYPE_CHECKING:  # loaded only for recognised tasks: a plain task needs none of it
    from airflow_plugin.datasets import DeclaredDataset, Identity
    from airflow_plugin.markers import ProvenanceMarker

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


def dag_file(task_instance: Any) -> str | None:
    """The DAG file: the code that ran, whose digest and git repository the environment facet records."""
    dag = getattr(getattr(task_instance, "task", None), "dag", None)
    path = getattr(dag, "fileloc", None)
    return path if isinstance(path, str) and path else None


def environment_facet(task_instance: Any = None) -> Any:
    from provlineage.environment import collect_environment

    return collect_environment(entry_file=dag_file(task_instance) if task_instance is not None else None)


def _hash_all(
    datasets: list[DeclaredDataset], role: str, task_instance: Any, marker: ProvenanceMarker, config: Settings
) -> dict[Identity, dict[str, Any]]:
    from airflow_plugin.datasets import dataset_facets, model_facet
    from provlineage._internal.constants import MODEL

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
        elif dataset.is_model:  # still named, without a digest, so that lineage flags it instead of losing it
            hashed[dataset.identity] = {MODEL: model_facet(dataset, None, marker)}
    return hashed


def on_running(task_instance: Any) -> None:
    """Before the task body: environment, arguments after templating, input hashes."""
    config = settings()
    record = store.TaskRecord()
    record.environment = attempt(
        "collecting the environment", task_instance, lambda: environment_facet(task_instance), None
    )
    record.marker = attempt("recognising the task", task_instance, lambda: recognise(task_instance.task, config), None)
    marker = record.marker
    if marker is not None:
        from airflow_plugin.datasets import dag_models, declared_datasets

        task = task_instance.task
        if config.hyperparameters:
            from airflow_plugin.arguments import hyperparameters

            record.hyperparameters = attempt(
                "recording hyperparameters", task_instance, lambda: hyperparameters(task_instance, marker, config), None
            )
        upstream_models = attempt("reading the DAG's model outlets", task_instance, lambda: dag_models(task), None)
        inputs = attempt(
            "reading inlets",
            task_instance,
            lambda: declared_datasets(task.inlets, marker, config, upstream_models),
            [],
        )
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
        from airflow_plugin.metrics import metrics_facet, returned_value

        returned = attempt("reading the returned metrics", task_instance, lambda: returned_value(task_instance), None)
        record.metrics = attempt(
            "recording metrics", task_instance, lambda: metrics_facet(returned, record.evaluated), None
        )


def on_failed(task_instance: Any) -> None:
    """After the task body failed: outputs may be partial, so they are not hashed."""
    _record_of(task_instance)
