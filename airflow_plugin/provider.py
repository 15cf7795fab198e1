"""Hook into the OpenLineage provider's own task events, so there is one event stream, not two.

The provider has public hooks for *run* facets (``[openlineage] custom_run_facets``), but none that can
add facets to the datasets of an arbitrary operator's event.  Every task event it builds, though, goes
through one call: ``ExtractorManager.extract_metadata(dagrun, task, task_instance_state, task_instance)``
on the provider listener's singleton, which returns the ``OperatorLineage`` (inputs, outputs, run facets)
the event is made of -- after the operator's extractor, hook lineage or the declared inlets/outlets
decided the datasets.  We wrap that one bound method on that one instance: the wrapper calls the original,
then adds our facets (:func:`airflow_plugin.facets.attach`, which only reads precomputed results).

Why this route: it needs no config beyond the transport, covers START/COMPLETE/FAIL/skip, sees the exact
dataset identities the provider emits, and leaves the transport generic.  The cost is depending on one
internal attribute; if a provider release moves it, :func:`install` logs one warning and the plugin falls
back to run facets through ``custom_run_facets`` (README).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

log = logging.getLogger("provlineage.airflow")
WRAPPED = "__provlineage_wrapped__"
_warned = False


def _argument(args: tuple[Any, ...], kwargs: dict[str, Any], position: int, name: str) -> Any:
    return kwargs[name] if name in kwargs else (args[position] if len(args) > position else None)


def wrap_extract_metadata(original: Any) -> Any:
    # Imported here, in the task process, so that the provider's forked emitters inherit them loaded.
    from airflow_plugin.capture import attempt
    from airflow_plugin.facets import attach

    @functools.wraps(original)
    def extract_metadata(*args: Any, **kwargs: Any) -> Any:
        lineage = original(*args, **kwargs)
        task_instance = _argument(args, kwargs, 3, "task_instance")
        state = _argument(args, kwargs, 2, "task_instance_state")
        if task_instance is None or lineage is None:
            return lineage
        return attempt(
            "adding provenance facets to the event",
            task_instance,
            lambda: attach(lineage, task_instance, state),
            lineage,
        )

    setattr(extract_metadata, WRAPPED, True)
    return extract_metadata


def provider_enabled() -> bool:
    try:
        from airflow.providers.openlineage import conf
    except ImportError:
        return False
    return not conf.is_disabled()


def install() -> bool:
    """Wrap the provider listener's ``extract_metadata`` (idempotent); False when it cannot be done."""
    global _warned  # noqa: PLW0603 - warn once per process
    if not provider_enabled():
        return False
    from airflow.providers.openlineage.plugins.listener import get_openlineage_listener

    from airflow_plugin.preload import preload_signing_transport

    preload_signing_transport()

    manager = getattr(get_openlineage_listener(), "extractor_manager", None)
    original = getattr(manager, "extract_metadata", None)
    if original is None:
        if not _warned:
            _warned = True
            log.warning(
                "provlineage: this OpenLineage provider has no extractor_manager.extract_metadata; dataset hashes "
                "are not added. Set AIRFLOW__OPENLINEAGE__CUSTOM_RUN_FACETS=airflow_plugin.facets.provlineage_run_facets "
                "for run facets, and report the provider version to provlineage"
            )
        return False
    if not getattr(original, WRAPPED, False):
        manager.extract_metadata = wrap_extract_metadata(original)
    report_failures_through_provider(getattr(get_openlineage_listener(), "adapter", None))
    return True


SIGNING_TRANSPORT = "provlineage.transport.SigningTransport"


def report_failures_through_provider(adapter: Any) -> None:
    """Let the signing transport raise under the provider, so the task log tells one story.

    Left to itself, a non-strict :class:`~provlineage.transport.SigningTransport` logs ``lineage event not
    recorded: <what>; <fix>`` and returns, and the provider then logs ``Successfully emitted``.  The provider's
    ``OpenLineageAdapter.emit`` catches whatever the client raises and logs it as ``Failed to emit OpenLineage
    <TYPE> event of id <run id> with the following exception: <what>; <fix>``, and the task is unaffected either
    way.  So the client the adapter builds (in this process, or in the forked child that inherits this wrapper)
    gets its signing transport switched to raising: one line, from the provider, with provlineage's reason and fix.
    """
    create = getattr(adapter, "get_or_create_openlineage_client", None)
    if create is None or getattr(create, WRAPPED, False):
        return

    @functools.wraps(create)
    def get_or_create_openlineage_client(*args: Any, **kwargs: Any) -> Any:
        client = create(*args, **kwargs)
        transport = getattr(client, "transport", None)
        if getattr(transport, "kind", None) == SIGNING_TRANSPORT:
            transport.strict = True
        return client

    setattr(get_or_create_openlineage_client, WRAPPED, True)
    adapter.get_or_create_openlineage_client = get_or_create_openlineage_client
