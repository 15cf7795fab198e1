"""Run the gateway under uvicorn: graceful shutdown on SIGTERM/SIGINT finishes in-flight requests first."""

from __future__ import annotations

import logging

import uvicorn

from provlineage.gateway import logs
from provlineage.gateway.app import create_app
from provlineage.gateway.config import GatewayConfig


def serve(
    config: GatewayConfig,
    *,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
    log_level: int = logging.INFO,
) -> None:
    """Serve until stopped.  TLS straight from uvicorn when a certificate and key are given."""
    logs.configure(log_level)
    app = create_app(config)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_config=None,
            access_log=False,
            timeout_keep_alive=5,
            timeout_graceful_shutdown=int(config.shutdown_timeout),
            limit_concurrency=config.limits.max_connections,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            server_header=False,
        )
    )
    server.run()
