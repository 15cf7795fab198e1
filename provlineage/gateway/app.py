"""The ASGI application: ``POST /api/v1/lineage`` (OpenLineage's own endpoint), health, readiness and metrics.

Cheap refusals come first and never touch the event: 401 (no or bad API key), 429 (producer over its rate),
413 (too big), 408 (body too slow), 415 (not JSON, or an encoding other than gzip).  The rest is decided by :mod:`.ingest` in a worker thread,
since the store and the signature check block.  401, 415 and 413 are quarantined too (with what was read).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from collections.abc import AsyncIterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from provlineage.gateway.auth import Authenticator, RateLimiter
from provlineage.gateway.config import GatewayConfig
from provlineage.gateway.forward import Forwarder
from provlineage.gateway.ingest import Answer, Ingest
from provlineage.gateway.metrics import Metrics
from provlineage.gateway.store import Store, open_store

__all__ = ["LINEAGE_PATH", "Gateway", "create_app"]

log = logging.getLogger("provlineage.gateway")
LINEAGE_PATH = "/api/v1/lineage"


class _TooLarge(Exception):
    def __init__(self, read: bytes) -> None:
        self.read = read


def _decode(body: bytes, encoding: str, limit: int) -> bytes:
    """The body without its ``Content-Encoding`` (gzip, as openlineage-python's ``compression: gzip`` sends it);
    the limit applies to the decompressed size too, so a small bomb cannot expand past it."""
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise _BadEncoding(encoding)
    inflate = zlib.decompressobj(wbits=31)
    try:
        data = inflate.decompress(body, limit + 1)
    except zlib.error as error:
        raise _BadEncoding(f"gzip ({error})") from None
    if len(data) > limit or inflate.unconsumed_tail:
        raise _TooLarge(data[:limit])
    return data


class _BadEncoding(Exception):
    pass


async def _read_body(request: Request, limit: int, timeout: float) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _TooLarge(b"")
    chunks: list[bytes] = []
    size = 0

    async def read() -> None:
        nonlocal size
        async for chunk in request.stream():
            size += len(chunk)
            chunks.append(chunk)
            if size > limit:
                raise _TooLarge(b"".join(chunks)[:limit])

    await asyncio.wait_for(read(), timeout)
    return b"".join(chunks)


class Gateway:
    """What the routes share: config, store, checks, metrics and the forwarder."""

    def __init__(self, config: GatewayConfig, store: Store | None = None) -> None:
        self.config = config
        self.store = store or open_store(config.store, serving=True)
        self.metrics = Metrics()
        self.auth = Authenticator(config)
        self.limiter = RateLimiter(config.limits.rate_limit)
        self.ingest = Ingest(config, self.store, config.keyring(), self.metrics)
        self.forwarder = Forwarder(self.store, config.forward, self.metrics)
        self.metrics.watch(self.store.stats, self.forwarder.spool_state)
        self.stopping = False

    async def lineage(self, request: Request) -> Response:
        started = time.perf_counter()
        try:
            answer = await self._lineage(request)
        except Exception:  # the store is down or broken: nothing was accepted, so the producer's spool retries
            log.exception("request failed", extra={"event": "unavailable"})
            detail = "the gateway cannot reach its store; nothing was accepted, retry later"
            answer = Answer(503, {"error": "unavailable", "detail": detail})
        self.metrics.latency.labels(str(answer.status)).observe(time.perf_counter() - started)
        headers = {"WWW-Authenticate": "Bearer"} if answer.status == 401 else {}
        if answer.status in (429, 503):
            headers["Retry-After"] = "1" if answer.status == 429 else "5"
        return JSONResponse(answer.body, answer.status, headers=headers)

    async def _lineage(self, request: Request) -> Answer:
        limits = self.config.limits
        producer = self.auth.producer(request.headers.get("authorization"))
        if producer is None:
            return await self._unauthenticated(request)
        name = producer.name
        if not self.limiter.allow(producer):
            self.metrics.rate_limited.labels(producer.name).inc()
            return Answer(429, {"error": "rate-limited", "detail": f"producer {producer.name} is over its rate limit"})
        try:
            body = await _read_body(request, limits.max_body_bytes, limits.read_timeout)
        except _TooLarge as error:
            detail = f"body is larger than limits.max_body_bytes ({limits.max_body_bytes} bytes)"
            return await self._refuse(413, "too-large", detail, error.read, name)
        except asyncio.TimeoutError:
            detail = f"body not received within limits.read_timeout ({limits.read_timeout:g} s)"
            return Answer(408, {"error": "timeout", "detail": detail})
        except ClientDisconnect:
            return Answer(400, {"error": "disconnected", "detail": "client went away mid-body"})
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            detail = f"content type {content_type or '(none)'!r}; send application/json"
            return await self._refuse(415, "wrong-content-type", detail, body, name)
        try:
            body = _decode(body, request.headers.get("content-encoding", "").strip().lower(), limits.max_body_bytes)
        except _BadEncoding as error:
            detail = f"content encoding {error} cannot be read; send identity or gzip"
            return await self._refuse(415, "wrong-content-encoding", detail, body, name)
        except _TooLarge as error:
            detail = f"decompressed body is larger than limits.max_body_bytes ({limits.max_body_bytes} bytes)"
            return await self._refuse(413, "too-large", detail, error.read, name)
        answer = await run_in_threadpool(self.ingest.handle, producer, body)
        if answer.status == 201:
            self.forwarder.wake()
        return answer

    async def _unauthenticated(self, request: Request) -> Answer:
        """401; the request is quarantined (with what was read of its body) while under the strangers' rate."""
        detail = "missing or unknown API key: send `Authorization: Bearer <key>`"
        limits = self.config.limits
        if not self.limiter.allow_named("", limits.unauthenticated_rate_limit):
            self.metrics.unrecorded.inc()
            return Answer(401, {"error": "unauthenticated", "detail": detail})
        try:
            body = await _read_body(request, limits.max_body_bytes, limits.read_timeout)
        except _TooLarge as error:
            body = error.read
        except (asyncio.TimeoutError, ClientDisconnect):
            body = b""
        return await self._refuse(401, "unauthenticated", detail, body, None)

    async def _refuse(self, status: int, reason: str, detail: str, body: bytes, producer: str | None) -> Answer:
        return await run_in_threadpool(self.ingest.refuse, status, reason, detail, body, producer)

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        problems = []
        if self.stopping:
            problems.append("shutting down")
        if not self.forwarder.alive:
            problems.append("forwarder is not running")
        try:
            await run_in_threadpool(self.store.ping)
        except Exception as error:
            problems.append(f"store unreachable ({type(error).__name__})")
        if problems:
            return JSONResponse({"ready": False, "problems": problems}, 503)
        return JSONResponse({"ready": True})

    async def metrics_page(self, request: Request) -> Response:
        data = await run_in_threadpool(generate_latest, self.metrics.registry)
        return Response(data, media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        self.forwarder.start()
        log.info("gateway ready", extra={"event": "started", "store": self.store.__class__.__name__})
        try:
            yield
        finally:
            self.stopping = True
            await run_in_threadpool(self.forwarder.stop, self.config.shutdown_timeout)
            self.store.close()
            log.info("gateway stopped", extra={"event": "stopped"})


def create_app(config: GatewayConfig, *, store: Store | None = None) -> Starlette:
    """The gateway as an ASGI app (``app.state.gateway`` holds its parts)."""
    gateway = Gateway(config, store)
    routes = [
        Route(LINEAGE_PATH, gateway.lineage, methods=["POST"]),
        Route("/healthz", gateway.healthz, methods=["GET"]),
        Route("/readyz", gateway.readyz, methods=["GET"]),
        Route("/metrics", gateway.metrics_page, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=gateway.lifespan)
    app.state.gateway = gateway
    return app
