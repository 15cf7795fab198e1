"""Decide whether a task is training, inference, evaluation or data work: explicit marker first, task id second.

A configured word matches a task id when one of the id's words *starts with* it.  Words are split at
``_ - .`` (task groups), spaces, digits and camelCase, so ``train`` matches ``train_model``,
``model_training`` and ``group.trainModel`` but ``fit`` does not match ``profit_report``.  The first word
of the id that matches any kind decides: ``evaluate_trained_model`` is an evaluation, ``train_and_evaluate``
a training task.
"""

from __future__ import annotations

import re
from typing import Any

from airflow_plugin.markers import EVALUATION, INFERENCE, TRAINING, ProvenanceMarker, marker_of
from airflow_plugin.settings import Settings

_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def task_words(task_id: str) -> list[str]:
    """``group.trainModel_v2`` -> ``["group", "train", "model", "v"]``."""
    return [word.lower() for word in _WORD.findall(task_id)]


def kind_from_task_id(task_id: str, settings: Settings) -> str | None:
    table = (
        (TRAINING, settings.training_tasks),
        (EVALUATION, settings.evaluation_tasks),
        (INFERENCE, settings.inference_tasks),
    )
    for word in task_words(task_id):
        for kind, prefixes in table:
            if any(word.startswith(prefix) for prefix in prefixes):
                return kind
    return None


def recognise(task: Any, settings: Settings) -> ProvenanceMarker | None:
    """The marker that applies to ``task``, or ``None`` when provlineage only adds the environment."""
    marker = marker_of(task)
    if marker is not None:
        return marker if marker.captures else None
    kind = kind_from_task_id(str(getattr(task, "task_id", "")), settings)
    return ProvenanceMarker(kind) if kind else None
