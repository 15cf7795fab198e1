"""A recognised task's arguments as ``provlineage_hyperparameters``: rendered, typed, and without secrets.

Recorded: the rendered ``params`` and the Python callable's arguments (``op_args``/``op_kwargs``, TaskFlow
arguments, defaults included), without what Airflow injects from the context.  Then, in order:

1. templated strings that spell a number, boolean or ``None`` become that value (:mod:`airflow_plugin.literals`);
2. Airflow's secrets masker takes out what Airflow knows is secret (:mod:`airflow_plugin.masking`);
3. values larger than ``max_parameter_bytes`` are summarised;
4. provlineage's own redaction (:func:`provlineage.hyperparameters.hyperparameters_facet`: key names, URL and DSN
   passwords, tokens, detect-secrets) builds the facet; the paths both steps changed are in ``redactedKeys``.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow_plugin.literals import natives
from airflow_plugin.markers import ProvenanceMarker
from airflow_plugin.masking import mask_with_airflow
from airflow_plugin.settings import Settings

if TYPE_CHECKING:  # provlineage's redaction loads detect-secrets: only tasks with arguments to record pay for it
    from provlineage.facets import HyperparametersRunFacet


def bound_arguments(
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


def _unrendered(task: Any) -> Any:
    """The DAG's own copy of ``task``: the task runner renders templates into a copy, so this one keeps them."""
    dag = getattr(task, "dag", None)
    original = (getattr(dag, "task_dict", None) or {}).get(getattr(task, "task_id", None))
    return original if original is not None and original is not task else None


def call_arguments(task: Any) -> tuple[list[Any], dict[str, Any]]:
    """``op_args`` and ``op_kwargs`` as rendered, templated literals made native."""
    op_args = list(getattr(task, "op_args", None) or ())
    op_kwargs = dict(getattr(task, "op_kwargs", None) or {})
    original = _unrendered(task)
    if original is not None:
        op_args = natives(op_args, list(getattr(original, "op_args", None) or ()))
        op_kwargs = natives(op_kwargs, dict(getattr(original, "op_kwargs", None) or {}))
    return op_args, op_kwargs


def task_arguments(task_instance: Any) -> dict[str, Any]:
    """Rendered ``params`` and the Python callable's arguments (``op_args``/``op_kwargs``, TaskFlow arguments)."""
    task = task_instance.task
    context = task_instance.get_template_context()
    params = context.get("params") or {}
    values: dict[str, Any] = {str(key): params[key] for key in params}
    op_args, op_kwargs = call_arguments(task)
    function = getattr(task, "python_callable", None)
    if callable(function):
        try:
            values.update(bound_arguments(function, op_args, op_kwargs, set(context)))
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
    """The facet, or ``None`` when the task has no arguments to record; raises when the masker fails."""
    values = task_arguments(task_instance)
    if marker.hyperparameters is not None:
        values = {key: value for key, value in values.items() if key in marker.hyperparameters}
    if not values:
        return None
    masked, masked_paths = mask_with_airflow(values)
    summarised = {key: _summarised(value, config.max_parameter_bytes) for key, value in masked.items()}
    from provlineage.hyperparameters import hyperparameters_facet

    facet = hyperparameters_facet(summarised, secret_pattern=config.secret_pattern)
    if masked_paths:
        facet.redactedKeys = sorted({*facet.redactedKeys, *masked_paths})
    return facet
