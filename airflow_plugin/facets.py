"""Put what the task process found into the provider's task events; runs in the provider's fork or thread.

Nothing here hashes or calls Airflow: it only reads the record :mod:`airflow_plugin.capture` stored, so it
takes microseconds inside the provider's ``execution_timeout`` window.

* Run facets on every task event: ``provlineage_environment`` (with the distribution list on START only; the
  other events carry its digest and count, see :func:`provlineage.environment.without_distributions`); for
  recognised tasks also ``provlineage_hyperparameters``, and ``provlineage_metrics`` on COMPLETE.
* Dataset facets: ``provlineage_datasetHash`` (+ ``provlineage_model``) on inputs in START/COMPLETE/FAIL and
  on outputs in COMPLETE only (a failed task's outputs may be partial).  A hashed dataset the provider did
  not list (an extractor chose other datasets) is appended, so the model's lineage always connects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attr

from airflow_plugin import store
from airflow_plugin.capture import attempt, environment_facet
from provlineage.facets import ENVIRONMENT, HYPERPARAMETERS, METRICS

if TYPE_CHECKING:
    from airflow_plugin.datasets import Identity

SUCCESS = "success"
RUNNING = "running"


def state_name(state: Any) -> str:
    return str(getattr(state, "value", state)).lower()


def run_facets(record: store.TaskRecord | None, state: str, task_instance: Any) -> dict[str, Any]:
    environment = record.environment if record is not None else None
    if environment is None:  # the task-process hook did not run; the facet is cached per process anyway
        environment = attempt(
            "collecting the environment", task_instance, lambda: environment_facet(task_instance), None
        )
    if environment is not None and state != RUNNING:
        from provlineage.environment import without_distributions

        environment = without_distributions(environment)
    facets: dict[str, Any] = {ENVIRONMENT: environment} if environment is not None else {}
    if record is not None and record.hyperparameters is not None:
        facets[HYPERPARAMETERS] = record.hyperparameters
    if record is not None and record.metrics is not None and state == SUCCESS:
        facets[METRICS] = record.metrics
    return facets


def annotate(datasets: list[Any], hashed: dict[Identity, dict[str, Any]]) -> list[Any]:
    """Copies of ``datasets`` with our facets added (the provider may hand us the DAG's own objects)."""
    if not hashed:
        return datasets
    from openlineage.client.event_v2 import Dataset

    annotated: list[Any] = []
    seen: set[Identity] = set()
    for dataset in datasets:
        identity = (str(dataset.namespace), str(dataset.name))
        seen.add(identity)
        extra = hashed.get(identity)
        annotated.append(attr.evolve(dataset, facets={**(dataset.facets or {}), **extra}) if extra else dataset)
    for identity, extra in hashed.items():
        if identity not in seen:
            annotated.append(Dataset(namespace=identity[0], name=identity[1], facets=dict(extra)))
    return annotated


def attach(lineage: Any, task_instance: Any, state: Any) -> Any:
    """``lineage`` (an ``OperatorLineage``) with provlineage's run and dataset facets added."""
    record = store.get(store.task_key(task_instance))
    name = state_name(state)
    inputs = annotate(list(lineage.inputs or []), record.inputs if record else {})
    outputs = annotate(list(lineage.outputs or []), record.outputs if record and name == SUCCESS else {})
    facets = {**(lineage.run_facets or {}), **run_facets(record, name, task_instance)}
    return attr.evolve(lineage, inputs=inputs, outputs=outputs, run_facets=facets)


def provlineage_run_facets(task_instance: Any, ti_state: Any) -> dict[str, Any]:
    """An ``[openlineage] custom_run_facets`` function: the run facets alone, for setups that want only the
    provider's public hook (dataset facets need the automatic route, see the README)."""
    return attempt(
        "adding run facets",
        task_instance,
        lambda: run_facets(store.get(store.task_key(task_instance)), state_name(ti_state), task_instance),
        {},
    )
