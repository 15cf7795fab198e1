"""``gateway.yml``: who may write what, where state lives, where accepted events go, and the traffic limits.

Every check runs in :meth:`GatewayConfig.from_dict`, so a bad file fails at start with one line naming the key
and the fix; accepted keys are taken from the dataclass fields (unknown keys are an error, not a silent typo).
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from provlineage.errors import ConfigError
from provlineage.keys import Keyring, load_public_key

__all__ = ["EXAMPLE", "Forward", "GatewayConfig", "Limits", "Producer", "RateLimit", "load_config"]

EXAMPLE = "see examples/gateway.yml"
_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")


def _known(cls: type, data: Any, where: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"gateway config `{where}` is not a mapping", EXAMPLE)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"gateway config `{where}` has unknown keys {unknown}", f"use only {sorted(names)}")
    return dict(data)


def _number(value: Any, where: str, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ConfigError(f"gateway config `{where}` is {value!r}", f"set it to a number >= {minimum:g}")
    return float(value)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError(f"gateway config `{where}` is not a list of strings", EXAMPLE)
    return tuple(value)


@dataclass(frozen=True)
class RateLimit:
    """A token bucket per producer: ``per_second`` sustained, ``burst`` at once; 0 turns it off."""

    per_second: float = 200.0
    burst: float = 400.0

    @classmethod
    def from_dict(cls, data: Any, where: str) -> RateLimit:
        values = _known(cls, data, where)
        return cls(**{k: _number(v, f"{where}.{k}") for k, v in values.items()})


@dataclass(frozen=True)
class Producer:
    """One producer: the SHA-256 of its API key, its job namespaces (fnmatch patterns) and its signing keys."""

    name: str
    api_key_sha256: str
    namespaces: tuple[str, ...]
    public_keys: tuple[str, ...] = ()
    rate_limit: RateLimit | None = None
    key_ids: frozenset[str] = frozenset()

    @classmethod
    def from_dict(cls, data: Any, index: int, base: Path) -> Producer:
        where = f"producers[{index}]"
        values = _known(cls, data, where)
        values.pop("key_ids", None)
        for required in ("name", "api_key_sha256", "namespaces"):
            if required not in values:
                raise ConfigError(f"gateway config `{where}` has no `{required}`", EXAMPLE)
        digest = values["api_key_sha256"]
        if not isinstance(digest, str) or not _HASH.match(digest):
            raise ConfigError(
                f"gateway config `{where}.api_key_sha256` is not sha256:<64 hex>",
                "write it with `provlineage gateway hash-key` (never put the key itself in the file)",
            )
        paths = _strings(values.get("public_keys", []), f"{where}.public_keys")
        ring = Keyring([load_public_key(_resolve(base, path)) for path in paths])
        rate = values.get("rate_limit")
        return cls(
            name=str(values["name"]),
            api_key_sha256=digest,
            namespaces=_strings(values["namespaces"], f"{where}.namespaces"),
            public_keys=tuple(str(_resolve(base, path)) for path in paths),
            rate_limit=None if rate is None else RateLimit.from_dict(rate, f"{where}.rate_limit"),
            key_ids=frozenset(ring.key_ids),
        )


@dataclass(frozen=True)
class Limits:
    """Bad-traffic guards: body size (413), time to receive a body (408), open connections (503 beyond), the
    default per-producer rate (429), and how many unauthenticated requests per second are quarantined (the rest
    are answered 401 and only counted, so strangers cannot fill the store)."""

    max_body_bytes: int = 1_048_576
    read_timeout: float = 10.0
    max_connections: int = 1000
    rate_limit: RateLimit = field(default_factory=RateLimit)
    unauthenticated_rate_limit: RateLimit = field(default_factory=lambda: RateLimit(10.0, 100.0))

    @classmethod
    def from_dict(cls, data: Any) -> Limits:
        values = _known(cls, data, "limits")
        return cls(
            max_body_bytes=int(_number(values.get("max_body_bytes", 1_048_576), "limits.max_body_bytes", minimum=1)),
            read_timeout=_number(values.get("read_timeout", 10.0), "limits.read_timeout", minimum=0.001),
            max_connections=int(_number(values.get("max_connections", 1000), "limits.max_connections", minimum=1)),
            rate_limit=RateLimit.from_dict(values.get("rate_limit"), "limits.rate_limit"),
            unauthenticated_rate_limit=RateLimit.from_dict(
                values.get("unauthenticated_rate_limit", {"per_second": 10, "burst": 100}),
                "limits.unauthenticated_rate_limit",
            ),
        )


@dataclass(frozen=True)
class Forward:
    """Where accepted events go: any OpenLineage transport config, behind provlineage's spool in ``spool_dir``."""

    transport: dict[str, Any]
    spool_dir: str
    retry_interval: float = 5.0
    batch: int = 100

    @classmethod
    def from_dict(cls, data: Any, base: Path) -> Forward:
        values = _known(cls, data, "forward")
        transport = values.get("transport")
        if not isinstance(transport, dict) or not transport.get("type"):
            raise ConfigError(
                "gateway config `forward.transport` is missing or has no `type`",
                "e.g. forward: {transport: {type: http, url: http://marquez:5000}, spool_dir: /var/lib/gw/spool}",
            )
        if not isinstance(values.get("spool_dir"), str):
            raise ConfigError("gateway config `forward.spool_dir` is missing", "set a directory for the spool")
        return cls(
            transport=transport,
            spool_dir=str(_resolve(base, values["spool_dir"])),
            retry_interval=_number(values.get("retry_interval", 5.0), "forward.retry_interval"),
            batch=int(_number(values.get("batch", 100), "forward.batch", minimum=1)),
        )


@dataclass(frozen=True)
class GatewayConfig:
    """The whole ``gateway.yml``."""

    store: str
    producers: tuple[Producer, ...]
    forward: Forward
    host: str = "127.0.0.1"
    port: int = 5000
    allow_unsigned: bool = False
    limits: Limits = field(default_factory=Limits)
    shutdown_timeout: float = 30.0

    @classmethod
    def from_dict(cls, data: Any, base: Path = Path()) -> GatewayConfig:
        values = _known(cls, data, "(top level)")
        if not isinstance(values.get("store"), str):
            raise ConfigError(
                "gateway config has no `store`", "set store: sqlite:///path/state.db or postgresql://user@host/db"
            )
        store = values["store"]
        if store.startswith("sqlite:///"):
            store = "sqlite:///" + str(_resolve(base, store[len("sqlite:///") :]))
        elif not store.startswith(("postgresql://", "postgres://")):
            raise ConfigError(f"gateway config `store` is {store!r}", "use sqlite:///path or postgresql://...")
        producers = values.get("producers")
        if not isinstance(producers, list) or not producers:
            raise ConfigError("gateway config has no `producers`", f"list at least one producer, {EXAMPLE}")
        parsed = tuple(Producer.from_dict(item, index, base) for index, item in enumerate(producers))
        seen: set[str] = set()
        for producer in parsed:
            if producer.api_key_sha256 in seen or producer.name in {p.name for p in parsed if p is not producer}:
                raise ConfigError(f"producer {producer.name!r} repeats a name or API key hash", "give each its own")
            seen.add(producer.api_key_sha256)
        allow = values.get("allow_unsigned", False)
        if not isinstance(allow, bool):
            raise ConfigError(f"gateway config `allow_unsigned` is {allow!r}", "set it to true or false")
        for producer in parsed:
            if not producer.key_ids and not allow:
                raise ConfigError(
                    f"producer {producer.name!r} has no `public_keys`, so none of its events could be accepted",
                    "list the public keys it signs with (provlineage keygen writes public_key.pem)",
                )
        return cls(
            store=store,
            producers=parsed,
            forward=Forward.from_dict(values.get("forward"), base),
            host=str(values.get("host", "127.0.0.1")),
            port=int(_number(values.get("port", 5000), "port")),
            allow_unsigned=allow,
            limits=Limits.from_dict(values.get("limits")),
            shutdown_timeout=_number(values.get("shutdown_timeout", 30.0), "shutdown_timeout"),
        )

    def keyring(self) -> Keyring:
        """Every producer's public keys: the keys the gateway trusts at all."""
        return Keyring([load_public_key(path) for producer in self.producers for path in producer.public_keys])


def _resolve(base: Path, path: str) -> Path:
    """Relative paths in the file are relative to the file, not to wherever the gateway was started."""
    expanded = Path(os.path.expandvars(path)).expanduser()
    return expanded if expanded.is_absolute() else base / expanded


def load_config(path: str | os.PathLike[str]) -> GatewayConfig:
    """Read and check ``gateway.yml``."""
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"gateway config {file} does not exist", "pass --config with the path of gateway.yml"
        ) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"gateway config {file} is not valid YAML ({error})", EXAMPLE) from None
    return GatewayConfig.from_dict(data, file.resolve().parent)
