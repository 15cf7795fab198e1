"""Who is writing: API keys (stored only as SHA-256), allowed namespaces and signing keys, per-producer rates.

API keys are random 256-bit tokens (``provlineage gateway hash-key --new``), so a plain SHA-256 is enough: a
slow KDF protects guessable passwords, and a random key cannot be guessed from its hash.  Lookup is by the hash
of the presented key, so the comparison never touches key material.
"""

from __future__ import annotations

import fnmatch
import hashlib
import secrets
import threading
import time

from provlineage.gateway.config import GatewayConfig, Producer, RateLimit

__all__ = ["Authenticator", "RateLimiter", "hash_api_key", "namespace_allowed", "new_api_key"]


def hash_api_key(key: str) -> str:
    """The value for ``api_key_sha256`` in gateway.yml."""
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_api_key() -> str:
    return "plgw_" + secrets.token_urlsafe(32)


class Authenticator:
    """Maps ``Authorization: Bearer <key>`` to a producer."""

    def __init__(self, config: GatewayConfig) -> None:
        self._by_hash = {producer.api_key_sha256: producer for producer in config.producers}

    def producer(self, authorization: str | None) -> Producer | None:
        if not authorization:
            return None
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return None
        return self._by_hash.get(hash_api_key(key.strip()))


def namespace_allowed(producer: Producer, namespace: str) -> bool:
    return any(fnmatch.fnmatchcase(namespace, pattern) for pattern in producer.namespaces)


class RateLimiter:
    """A token bucket per producer, so one producer's flood gets 429 and the others go on."""

    def __init__(self, default: RateLimit) -> None:
        self._default = default
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, producer: Producer) -> bool:
        return self.allow_named(producer.name, producer.rate_limit or self._default)

    def allow_named(self, name: str, limit: RateLimit) -> bool:
        if limit.per_second <= 0:
            return True
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(name, (limit.burst, now))
            tokens = min(limit.burst, tokens + (now - last) * limit.per_second)
            if tokens < 1:
                self._buckets[name] = (tokens, now)
                return False
            self._buckets[name] = (tokens - 1, now)
            return True
