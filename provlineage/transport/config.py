"""The configuration of :class:`~provlineage.transport.SigningTransport`, read and checked in one place.

openlineage-python hands a transport's section (from ``openlineage.yml``, ``OPENLINEAGE__TRANSPORT__*`` variables,
where every value is a string, or Airflow's ``[openlineage] transport`` JSON) to :meth:`SigningConfig.from_dict`.
The accepted keys are the attrs fields below; every check runs in ``from_dict``:

* in strict mode every problem raises :class:`ConfigError`, so a bad config fails when the transport is built;
* otherwise a tuning value that cannot be parsed (``retry_interval: soon``) is logged and its default used, and a
  config that cannot record anything (no usable inner ``transport``, no ``private_key``/``signer``) is kept in
  :attr:`SigningConfig.problem`, which the transport reports loudly while the job goes on;
* ``strict`` itself must parse (``strict: maybe`` always raises: whether to stop the job cannot be guessed).
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import attr
from openlineage.client.transport.transport import Config

from provlineage._internal import strictness, values
from provlineage.errors import ConfigError, KeyLoadError, ProvlineageError
from provlineage.transport.config_source import resolve_paths

log = logging.getLogger("provlineage.transport.signing")

#: Keys every openlineage-python transport section may carry, and ``transports`` (written by openlineage-python
#: when ``OPENLINEAGE_URL`` is set beside a config).
_GENERIC_KEYS = frozenset({"type", "name", "priority", "transports"})
EXAMPLE = (
    'e.g. {"type": "provlineage.transport.SigningTransport", "private_key": "/etc/provlineage/private_key.pem", '
    '"transport": {"type": "provlineage.transport.FileLogTransport", "path": "/var/lib/lineage/events.jsonl"}}'
)
_NO_KEY_FIX = (
    "set private_key to the PEM written by `provlineage keygen` "
    "(OPENLINEAGE__TRANSPORT__PRIVATE_KEY=/path/private_key.pem in the environment)"
)


#: Marks a field that is not a config key (set by ``from_dict``, never read from the user's config).
_NOT_A_KEY = {"config_key": False}


@attr.define
class SigningConfig(Config):
    private_key: str | None = None
    passphrase_env: str | None = None
    transport: dict[str, Any] | None = None
    signer: str | None = None
    state_dir: str | None = None
    spool_dir: str | None = None
    strict: bool = False
    retry_interval: float = 5.0
    resend_batch: int = 100
    lock_timeout: float = 30.0
    delivery_timeout: float = 2.0
    exit_timeout: float = 5.0
    destination: str | None = None
    """What signing streams are bound to instead of the backends' own names (e.g. one log shared over NFS)."""
    problem: ConfigError | None = attr.field(default=None, metadata=_NOT_A_KEY, eq=False, repr=False)
    """Why this config cannot record events (``None`` when it can); only ever set when ``strict`` is false."""
    problem_key: str | None = attr.field(default=None, metadata=_NOT_A_KEY, eq=False, repr=False)
    """The key :attr:`problem` is about (``private_key`` is satisfied by a signer passed in code)."""

    @classmethod
    def keys(cls) -> frozenset[str]:
        """The config keys this transport reads: its attrs fields."""
        return frozenset(field.name for field in attr.fields(cls) if field.metadata.get("config_key", True))

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> SigningConfig:
        unknown = sorted(set(params) - cls.keys() - _GENERIC_KEYS)
        if unknown:
            log.warning("provlineage: SigningTransport ignores unknown config keys %s", ", ".join(unknown))
        params = resolve_paths(params)
        defaults = {field.name: field.default for field in attr.fields(cls)}
        configured = _boolean(params.get("strict"), "strict") if not values.is_unset(params.get("strict")) else False
        strict = strictness.effective(configured or strictness.from_environment())
        parsed: dict[str, Any] = {"strict": configured}
        problem: tuple[str, ConfigError] | None = None
        for key in sorted(cls.keys() - {"strict"}):
            raw = params.get(key)
            try:
                parsed[key] = None if values.is_unset(raw) else _PARSERS.get(key, _text)(raw, key)
            except ConfigError as error:
                if strict:
                    raise
                if key == "transport":  # nothing can be delivered
                    problem = problem or (key, error)
                else:  # a tuning value: the default does the job
                    log.error("provlineage: %s; using the default %r", error, defaults[key])
                parsed[key] = None
            if parsed[key] is None:
                parsed[key] = defaults[key]
        config = cls(**parsed)
        problem = problem or config._missing()
        if problem is not None:
            if strict:
                raise problem[1]
            config.problem_key, config.problem = problem
        return config

    def _missing(self) -> tuple[str, ConfigError] | None:
        """The first thing without which no event can be recorded."""
        if not self.transport or not self.transport.get("type"):
            return "transport", ConfigError(
                "SigningTransport config has no inner `transport` (with a `type`)", f"add one, {EXAMPLE}"
            )
        if not self.private_key and not self.signer:
            return "private_key", ConfigError("SigningTransport config has no `private_key`", _NO_KEY_FIX)
        return None


def _fail(key: str, value: Any, reason: str, fix: str) -> ConfigError:
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    return ConfigError(f"SigningTransport `{key}` is {shown} ({reason})", fix)


def _text(value: Any, key: str) -> str | None:
    return values.text(value)


def _boolean(value: Any, key: str) -> bool:
    try:
        return values.boolean(value)
    except ValueError as error:
        raise _fail(key, value, str(error), f"set {key} to true or false") from None


def _seconds(value: Any, key: str) -> float:
    try:
        return float(values.number(value, float))
    except ValueError as error:
        raise _fail(key, value, str(error), f"set {key} to a number of seconds, 0 or more") from None


def _count(value: Any, key: str) -> int:
    try:
        return int(values.number(value, int))
    except ValueError as error:
        raise _fail(key, value, str(error), f"set {key} to a whole number (0: no limit)") from None


def _inner(value: Any, key: str) -> dict[str, Any] | None:
    """The inner transport: a mapping, or a JSON object in a string (``OPENLINEAGE__TRANSPORT__TRANSPORT``)."""
    if values.is_unset(value):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ConfigError(
                f"SigningTransport `transport` is not a JSON object ({value[:60]!r})",
                f"give the inner transport config, {EXAMPLE}",
            ) from None
    if not isinstance(value, dict):
        raise ConfigError(f"SigningTransport `transport` is a {type(value).__name__}", f"give a mapping, {EXAMPLE}")
    return value


_PARSERS = {
    "transport": _inner,
    "strict": _boolean,
    "retry_interval": _seconds,
    "lock_timeout": _seconds,
    "delivery_timeout": _seconds,
    "exit_timeout": _seconds,
    "resend_batch": _count,
}


_announced: set[str] = set()


def announce_unrecordable(error: ProvlineageError) -> bool:
    """Say once per process, loudly, that no lineage event will be recorded, and how to fix it.

    Returns whether it was said now (``False``: said before in this process).
    """
    message = str(error)
    if message in _announced:
        return False
    _announced.add(message)
    hint = ""
    if isinstance(error, KeyLoadError) and "does not exist" in message:
        hint = (
            " Relative paths in openlineage.yml are resolved against that file's directory; relative paths from "
            f"OPENLINEAGE__* variables against the working directory ({os.getcwd()})."
        )
    log.error(
        "provlineage: NO LINEAGE EVENTS WILL BE RECORDED BY THIS PROCESS (strict mode is off, so the job goes on): "
        "%s%s",
        message,
        hint,
    )
    return True
