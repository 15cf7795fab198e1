"""``provlineage gateway``: a verifying, authenticating OpenLineage ingest service in front of Marquez.

Needs the ``gateway`` extra (``pip install 'provlineage[gateway]'``); no core module imports this package.
``create_app`` is imported on first use, so the operator commands (quarantine, hash-key) do not load the web stack.
"""

from __future__ import annotations

from typing import Any

from provlineage.gateway.config import GatewayConfig, load_config

__all__ = ["GatewayConfig", "create_app", "load_config"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from provlineage.gateway.app import create_app

        return create_app
    raise AttributeError(name)
