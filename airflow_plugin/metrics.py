"""An evaluation task's returned dict as ``provlineage_metrics`` (see the README for the accepted shapes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_plugin.datasets import Identity
from provlineage.facets import MetricsRunFacet


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
    """A flat dict's numbers, or ``{"metrics", "dataset", "slices"}``; ``evaluated`` is the default dataset."""
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
