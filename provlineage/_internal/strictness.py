"""One rule for strict mode, whichever of its three switches turns it on.

Strict mode is on when ``strict: true`` is in the transport config, or ``PROVLINEAGE_STRICT`` is true in the
environment, or the code asks for it (``track(strict=True)``); ``track(strict=False)`` turns it off for that run
whatever the other two say.  When it is on, a config that cannot record events fails when the transport is built
(so ``track()`` raises before the job's body runs), and an event that cannot be signed or stored raises instead
of being logged.

``track()`` passes its decision to :class:`~provlineage.transport.SigningTransport` through :func:`scope` (a
context variable, so threads and asyncio tasks each keep their own); the environment variable is read by both.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator

from provlineage._internal import values
from provlineage.errors import ConfigError

STRICT_ENV = "PROVLINEAGE_STRICT"
_requested: contextvars.ContextVar[bool | None] = contextvars.ContextVar("provlineage_strict", default=None)


def from_environment() -> bool:
    """``PROVLINEAGE_STRICT`` (unset or empty: false); a value that is not a boolean raises :class:`ConfigError`."""
    raw = os.environ.get(STRICT_ENV)
    if values.is_unset(raw):
        return False
    try:
        return values.boolean(raw)
    except ValueError:
        raise ConfigError(
            f"{STRICT_ENV} is {raw!r} (not true or false)", f"set {STRICT_ENV}=1 or {STRICT_ENV}=0"
        ) from None


def requested() -> bool | None:
    """What the running code asked for (``None``: it did not say)."""
    return _requested.get()


@contextlib.contextmanager
def scope(strict: bool | None) -> Iterator[None]:
    """Within the block, transports follow ``strict`` (``None`` leaves them to their config and the environment)."""
    token = _requested.set(strict)
    try:
        yield
    finally:
        _requested.reset(token)


def effective(configured: bool) -> bool:
    """Strict mode for a transport whose config (or environment, read when it was built) says ``configured``."""
    asked = _requested.get()
    return configured if asked is None else asked
