"""Our Airflow listener: runs in the task process, first (``tryfirst``), before the provider forks.

Airflow calls every listener of a hook in turn and one that raises cancels the rest (the provider's START
would be lost), so every hook here catches everything and logs one line.  Hooks that Airflow fires on the
API server or scheduler (manual state changes, with a database ``TaskInstance``) are ignored: there is no
task process there, and the provider builds those events without extraction.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from airflow.listeners import hookimpl

log = logging.getLogger("provlineage.airflow")


def _in_task_process(task_instance: Any) -> bool:
    runner = sys.modules.get("airflow.sdk.execution_time.task_runner")
    runtime_class = getattr(runner, "RuntimeTaskInstance", None)
    return (
        runtime_class is not None
        and isinstance(task_instance, runtime_class)
        and getattr(task_instance, "task", None) is not None
    )


def _guarded(moment: str, task_instance: Any) -> None:
    try:
        if not _in_task_process(task_instance):
            return
        from airflow_plugin import capture, provider

        provider.install()
        getattr(capture, f"on_{moment}")(task_instance)
    except Exception as error:  # never let lineage change a task's outcome
        log.error(
            "provlineage: the %s hook failed for task %s.%s: %s: %s; the task is not affected",
            moment,
            getattr(task_instance, "dag_id", "?"),
            getattr(task_instance, "task_id", "?"),
            type(error).__name__,
            error,
        )
        log.debug("provlineage: details", exc_info=True)


class ProvlineageListener:
    """Computes provenance in the task process; :mod:`airflow_plugin.provider` puts it into the events."""

    @hookimpl(tryfirst=True)
    def on_task_instance_running(self, previous_state: Any, task_instance: Any) -> None:
        _guarded("running", task_instance)

    @hookimpl(tryfirst=True)
    def on_task_instance_success(self, previous_state: Any, task_instance: Any) -> None:
        _guarded("success", task_instance)

    @hookimpl(tryfirst=True)
    def on_task_instance_failed(self, previous_state: Any, task_instance: Any, error: Any) -> None:
        _guarded("failed", task_instance)
