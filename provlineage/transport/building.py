"""The inner transport of a :class:`~provlineage.transport.SigningTransport`: built from its config, each backend
wrapped in a :class:`~provlineage.transport.delivery.Delivery` with a spool of its own.

A spool belongs to one backend *and one destination*: its directory is ``<name>@<digest of the destination>``
(the destination as bound into stream ids: a file URI, a URL, a topic); the spool records it in ``.destination``.
Named by backend alone, two configurations sharing a state directory (the default one is per user) shared a spool
whenever their backends had the same name, and each process's sender delivered the other's events to its own
backend (observed: two projects emitting at once, each Marquez received a third of the other's events).
A spool left behind when a backend is renamed or its destination changes is reported by ``provlineage flush``.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openlineage.client.transport.composite import CompositeTransport
from openlineage.client.transport.transform import TransformTransport
from openlineage.client.transport.transport import Transport

from provlineage._internal.spool import Spool
from provlineage.errors import ConfigError, ProvlineageError
from provlineage.transport.config import SigningConfig
from provlineage.transport.delivery import Delivery, is_direct
from provlineage.transport.recording import leaf_destination

log = logging.getLogger("provlineage.transport.signing")

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class InnerTransport:
    """The built inner transport (composites keep their shape) and its backends, in order."""

    root: Transport
    deliveries: list[Delivery]


def build_inner(inner_config: dict[str, Any], config: SigningConfig, spool_dir: Path, outcomes: Any) -> InnerTransport:
    """Build the inner transport from its config and wrap every backend (raises :class:`ConfigError`)."""
    from openlineage.client.transport import get_default_factory

    kind = inner_config.get("type")
    try:
        inner = get_default_factory().create(copy.deepcopy(inner_config))
    except ProvlineageError:
        raise
    except Exception as error:
        raise ConfigError(
            f"inner transport {kind!r} cannot be built ({type(error).__name__}: {error})",
            "fix the `transport` section of the SigningTransport config",
        ) from error
    wrapper = _Wrapper(config, spool_dir, outcomes)
    return InnerTransport(wrapper.wrap(inner), wrapper.deliveries)


class _Wrapper:
    """Wraps each backend of a transport tree in a Delivery, naming spools uniquely within the tree."""

    def __init__(self, config: SigningConfig, spool_dir: Path, outcomes: Any) -> None:
        self.config, self.spool_dir, self.outcomes = config, spool_dir, outcomes
        self.taken: dict[str, int] = {}
        self.deliveries: list[Delivery] = []

    def wrap(self, transport: Transport) -> Transport:
        from provlineage.transport.signing import SigningTransport

        if isinstance(transport, SigningTransport):
            raise ConfigError(
                "a SigningTransport is nested inside a SigningTransport", "sign once: remove the inner one"
            )
        if isinstance(transport, CompositeTransport):
            children = transport.transports  # built once and cached by CompositeTransport
            for index, child in enumerate(children):
                children[index] = self.wrap(child)
            return transport
        if isinstance(transport, TransformTransport):
            log.warning(
                "provlineage: a transform transport inside SigningTransport changes events after they are signed; "
                "their signatures will not verify. Put the transform around the SigningTransport instead"
            )
        base = (
            _UNSAFE_NAME.sub("-", transport.name or transport.kind or type(transport).__name__).strip("-")
            or "transport"
        )
        self.taken[base] = self.taken.get(base, 0) + 1
        target = base if self.taken[base] == 1 else f"{base}-{self.taken[base]}"
        config = self.config
        destination = leaf_destination(transport)
        delivery = Delivery(
            transport,
            Spool(
                spool_directory(self.spool_dir, target, destination),
                lock_timeout=config.lock_timeout,
                destination=destination,
            ),
            target,
            retry_interval=config.retry_interval,
            resend_batch=config.resend_batch,
            outcomes=self.outcomes,
            deferred=not is_direct(transport),  # network backends are sent after the chain lock is released
            exit_timeout=config.exit_timeout,
        )
        self.deliveries.append(delivery)
        return delivery


def spool_directory(spool_dir: Path, target: str, destination: str) -> Path:
    """``<spool_dir>/<target>@<digest>``: the spool of backend ``target`` delivering to ``destination``."""
    digest = hashlib.sha256(destination.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return spool_dir / f"{target}@{digest}"
