"""What the task process found out about a task, kept until the provider builds the task's events.

Our listener fills a record in the task process; the provider reads it while building START/COMPLETE/FAIL,
either in a forked child (which inherits this memory) or in a thread of the same process.  The store is
bounded, because ``dag.test()`` and long-lived workers run many tasks in one process.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # a task provlineage does not recognise never loads the dataset machinery
    from airflow_plugin.datasets import DeclaredDataset, Identity
    from airflow_plugin.markers import ProvenanceMarker

TaskKey = tuple[str, str, str, int, int]
"""(dag_id, task_id, run_id, try_number, map_index): one attempt of one task instance."""
MAX_RECORDS = 256


class TaskRecord:
    """One task attempt's findings; a plain class, since a dataclass costs each task process ~1 ms to define."""

    __slots__ = (
        "declared_outputs",
        "environment",
        "evaluated",
        "hyperparameters",
        "inputs",
        "marker",
        "metrics",
        "outputs",
    )

    def __init__(
        self,
        *,
        marker: ProvenanceMarker | None = None,
        environment: Any = None,
        hyperparameters: Any = None,
        metrics: Any = None,
        declared_outputs: list[DeclaredDataset] | None = None,
        evaluated: Identity | None = None,
        inputs: dict[Identity, dict[str, Any]] | None = None,
        outputs: dict[Identity, dict[str, Any]] | None = None,
    ) -> None:
        self.marker = marker
        self.environment = environment
        self.hyperparameters = hyperparameters
        self.metrics = metrics
        self.declared_outputs: list[DeclaredDataset] = declared_outputs if declared_outputs is not None else []
        self.evaluated = evaluated
        """The first input that is not a model: the dataset metrics describe unless the task says otherwise."""
        self.inputs: dict[Identity, dict[str, Any]] = inputs if inputs is not None else {}
        """Dataset facets of each input, hashed before the task body ran."""
        self.outputs: dict[Identity, dict[str, Any]] = outputs if outputs is not None else {}
        """Dataset facets of each output, hashed after the task body succeeded."""


def task_key(task_instance: Any) -> TaskKey:
    return (
        str(task_instance.dag_id),
        str(task_instance.task_id),
        str(task_instance.run_id),
        int(task_instance.try_number or 0),
        int(-1 if task_instance.map_index is None else task_instance.map_index),
    )


_records: OrderedDict[TaskKey, TaskRecord] = OrderedDict()
_lock = threading.Lock()


def _renew_lock() -> None:
    global _lock  # noqa: PLW0603 - a forked child must not inherit a lock held by another thread
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_renew_lock)


def put(key: TaskKey, record: TaskRecord) -> None:
    with _lock:
        _records[key] = record
        _records.move_to_end(key)
        while len(_records) > MAX_RECORDS:
            _records.popitem(last=False)


def get(key: TaskKey) -> TaskRecord | None:
    with _lock:
        return _records.get(key)
