"""The explicit marker that tells provlineage what an Airflow task is.

``provenance(kind, ...)`` marks a task as ``training``, ``inference``, ``evaluation`` or ``data`` (or ``none``
to opt a task out of task-id pattern matching).  It is one decorator that works on whatever the DAG author
holds, in either decorator order::

    @task(outlets=[Model("file:///models/churn.json")])
    @provenance("training", framework="stdlib")
    def train(...): ...

    train_op = provenance("inference")(PythonOperator(task_id="batch", python_callable=run))

The marker is stored as a plain attribute (on the callable, or on the operator), so it costs nothing at
DAG parse time, never reaches the serialized DAG, and is read back in the task process, where the worker
parses the DAG file again.  This module imports nothing from Airflow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from provlineage.errors import ConfigError

MARKER_ATTRIBUTE = "__provlineage__"
TRAINING = "training"
INFERENCE = "inference"
EVALUATION = "evaluation"
DATA = "data"
NONE = "none"
KINDS = (TRAINING, INFERENCE, EVALUATION, DATA, NONE)

Target = TypeVar("Target")


@dataclass(frozen=True)
class ProvenanceMarker:
    """What a task is, and the details pattern matching cannot guess."""

    kind: str
    models: tuple[str, ...] = ()
    """Paths or URIs of the inlets/outlets that are model artifacts (besides ``Model`` assets and
    files matching ``[provlineage] model_patterns``)."""
    model_name: str | None = None
    model_version: str | None = None
    framework: str | None = None
    hyperparameters: tuple[str, ...] | None = None
    """Argument names to record; ``None`` records them all (secrets are redacted either way)."""
    metrics: bool | None = None
    """Record a returned dict as metrics; ``None`` means: only for evaluation tasks."""

    @property
    def captures(self) -> bool:
        return self.kind != NONE

    @property
    def wants_metrics(self) -> bool:
        return self.kind == EVALUATION if self.metrics is None else self.metrics


def provenance(
    kind: str,
    *,
    model: str | Iterable[str] | None = None,
    model_name: str | None = None,
    model_version: str | None = None,
    framework: str | None = None,
    hyperparameters: Iterable[str] | None = None,
    metrics: bool | None = None,
) -> Callable[[Target], Target]:
    """Mark a task function, a ``@task`` decorator, an operator or a task's XComArg with ``kind``."""
    if kind not in KINDS:
        raise ConfigError(f"unknown provenance kind {kind!r}", f"use one of: {', '.join(KINDS)}")
    models = (model,) if isinstance(model, str) else tuple(model or ())
    marker = ProvenanceMarker(
        kind=kind,
        models=models,
        model_name=model_name,
        model_version=model_version,
        framework=framework,
        hyperparameters=tuple(hyperparameters) if hyperparameters is not None else None,
        metrics=metrics,
    )

    def mark(target: Target) -> Target:
        setattr(_holder(target), MARKER_ATTRIBUTE, marker)
        return target

    return mark


def _holder(target: Any) -> Any:
    """Where the marker goes: the user's function when there is one, so every copy of the task sees it."""
    operator = getattr(target, "operator", None)  # the XComArg a TaskFlow call returns
    if operator is not None and hasattr(operator, "task_id"):
        target = operator
    function = getattr(target, "python_callable", None) or getattr(target, "function", None)
    if callable(function):
        return function
    if hasattr(target, "task_id") or callable(target):
        return target
    raise ConfigError(
        f"provenance() cannot mark {type(target).__name__} objects",
        "apply it to a task function, a @task function, an operator or the result of calling a @task",
    )


def marker_of(task: Any) -> ProvenanceMarker | None:
    """The marker set on ``task`` (an operator) or on its Python callable, if any."""
    marker = getattr(task, MARKER_ATTRIBUTE, None)
    if marker is None:
        marker = getattr(getattr(task, "python_callable", None), MARKER_ATTRIBUTE, None)
    return marker if isinstance(marker, ProvenanceMarker) else None
