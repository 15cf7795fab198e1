"""Load the signing transport's modules in the task process, so the provider's forked emitters inherit them.

In its default fork mode the OpenLineage provider emits each event from a forked child, which builds the client
(and with it the transport) anew and dies; the task waits for it.  A child that has to import
``provlineage.transport`` first spends ~30 ms on that, for every event.  Imported once here, before the provider
forks, every child finds the modules loaded (measured: client construction 42 -> 12 ms per event).  Only done when
the configuration the client will read names the signing transport: other transports do not pay for it.
"""

from __future__ import annotations

import json
import logging
import os

log = logging.getLogger("provlineage.airflow")
SIGNING_TRANSPORT = "provlineage.transport.SigningTransport"
_done = False


def preload_signing_transport() -> None:
    """Import ``provlineage.transport`` once per process when it is the configured transport (never raises)."""
    global _done  # noqa: PLW0603 - once per process
    if _done:
        return
    _done = True
    try:
        if _signing_transport_configured():
            import provlineage.transport.signing  # noqa: F401 - loaded for the forked emitters
    except Exception as error:  # an optimisation only: the child imports it itself if this fails
        log.debug("provlineage: the signing transport was not preloaded (%s: %s)", type(error).__name__, error)


def _signing_transport_configured() -> bool:
    """Whether a configuration source the provider or the client reads names the signing transport.

    The sources, in the provider's and the client's order: ``[openlineage] config_path``, ``[openlineage]
    transport``, ``OPENLINEAGE__...`` variables, then the client's own ``openlineage.yml`` search.  An Airflow
    connection (``config_conn_id``) is not read here (that would fetch it): such setups import in each child.
    """
    from airflow.providers.openlineage import conf

    path = conf.config_path(check_legacy_env_var=False)
    if path:
        return _mentions(path)
    transport = conf.transport()
    if transport:
        return SIGNING_TRANSPORT in json.dumps(transport, default=str)
    if any(SIGNING_TRANSPORT in value for name, value in os.environ.items() if name.startswith("OPENLINEAGE")):
        return True
    from openlineage.client import OpenLineageClient

    found = OpenLineageClient._find_yaml_config_path()  # the client's own search order (a private helper)
    return bool(found) and _mentions(found)


def _mentions(path: str) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            return SIGNING_TRANSPORT in handle.read()
    except OSError:
        return False
