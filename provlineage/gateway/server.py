"""Run the gateway under uvicorn: graceful shutdown on SIGTERM/SIGINT finishes in-flight requests first."""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Iterator

import uvicorn

from provlineage.gateway import logs
from provlineage.gateway.app import create_app
from provlineage.gateway.config import GatewayConfig
from provlineage.gateway.slow_heads import guarded_protocol

__all__ = ["serve"]


class _Server(uvicorn.Server):
    """uvicorn re-raises the stopping signal after its graceful shutdown; a clean stop should exit 0 instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        for stop in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop, self.handle_exit)
        yield


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
    server = _Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_config=None,
            access_log=False,
            timeout_keep_alive=5,
            timeout_graceful_shutdown=int(config.shutdown_timeout),
            limit_concurrency=config.limits.max_connections + 1,  # uvicorn refuses at the limit, not past it
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            server_header=False,
            http=guarded_protocol(config.limits.read_timeout),
        )
    )
    server.run()
