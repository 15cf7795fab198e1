"""``ProvlineagePlugin``, found through the ``airflow.plugins`` entry point ``provlineage``.

It registers :class:`~airflow_plugin.listener.ProvlineageListener` when ``[provlineage] enabled`` is true
(the default) and the OpenLineage provider is configured (it disables itself without a transport, and then
there is nothing to sign).  ``AIRFLOW__PROVLINEAGE__ENABLED=False`` turns the plugin off without
uninstalling it; the provider's events are then emitted (and signed by the transport) unchanged.
"""

from __future__ import annotations

import logging

try:
    from airflow.sdk.plugins_manager import AirflowPlugin
except ImportError:  # Airflow < 3.2
    from airflow.plugins_manager import AirflowPlugin  # type: ignore[no-redef]

log = logging.getLogger("provlineage.airflow")
PLUGIN_NAME = "provlineage"


def _listeners() -> list[object]:
    try:
        from airflow_plugin.provider import provider_enabled
        from airflow_plugin.settings import settings

        if not settings().enabled:
            log.debug("provlineage: [provlineage] enabled is False; no listener registered")
            return []
        if not provider_enabled():
            log.debug("provlineage: the OpenLineage provider is disabled (no transport); no listener registered")
            return []
        from airflow_plugin.listener import ProvlineageListener

        return [ProvlineageListener()]
    except Exception as error:  # a plugin that fails to load must not take Airflow down with it
        log.error(
            "provlineage: the Airflow plugin could not start (%s: %s); tasks run without provenance",
            type(error).__name__,
            error,
        )
        return []


class ProvlineagePlugin(AirflowPlugin):
    """Signed provenance (dataset hashes, hyperparameters, environment, model, metrics) on task events."""

    name = PLUGIN_NAME
    listeners = _listeners()
