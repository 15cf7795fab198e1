"""The settings of one ``track()`` call, checked once when it is made (not inside the job's body)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from openlineage.client.client import OpenLineageClient

from provlineage._internal import values
from provlineage.errors import ConfigError
from provlineage.hyperparameters import secret_matcher
from provlineage.inference.digest_key import DIGEST_KEY_ENV, DigestKey, load_digest_key

STRICT_ENV = "PROVLINEAGE_STRICT"
INFERENCE_LOG_ENV = "PROVLINEAGE_INFERENCE_LOG"
NAMESPACE_ENV = "OPENLINEAGE_NAMESPACE"


def truthy(value: str | None, name: str = STRICT_ENV) -> bool:
    """How provlineage reads a boolean environment variable (the spellings of :mod:`provlineage._internal.values`)."""
    if values.is_unset(value):
        return False
    try:
        return values.boolean(value)
    except ValueError:
        raise ConfigError(f"{name} is {value!r} (not true or false)", f"set {name}=1 or {name}=0") from None


@dataclass(frozen=True)
class TrackOptions:
    """What :func:`provlineage.track` was given; every check runs in ``__post_init__``.

    ``strict=None`` means "decide at run start" (``PROVLINEAGE_STRICT``, then the transport's ``strict``).
    ``inference_digest_key`` (else ``$PROVLINEAGE_INFERENCE_DIGEST_KEY``) turns on keyed inference digests.
    """

    digest_key: DigestKey | None = field(init=False, default=None, repr=False)

    job_name: str
    kind: str
    namespace: str = "default"
    client: OpenLineageClient | None = None
    parent: Any = None
    strict: bool | None = None
    inference_log: str | os.PathLike[str] | None = None
    retain_payloads: bool = False
    secret_pattern: str | None = None
    hash_options: Any = None
    manifest_limit: int = 1000
    environment: bool = True
    inference_digest_key: str | os.PathLike[str] | None = None

    def __post_init__(self) -> None:
        if not self.job_name or not isinstance(self.job_name, str):
            raise ConfigError(
                f"job name {self.job_name!r} is empty or not a string", "pass a name such as 'churn.train'"
            )
        if not self.kind or not isinstance(self.kind, str):
            raise ConfigError(
                f"kind {self.kind!r} of job {self.job_name} is empty",
                "pass kind='training', 'inference', 'evaluation' or your own",
            )
        if self.secret_pattern is not None:
            secret_matcher(self.secret_pattern)  # a bad pattern is a ConfigError here, not in the job's body
        key_path = self.inference_digest_key or os.environ.get(DIGEST_KEY_ENV) or None
        object.__setattr__(self, "digest_key", load_digest_key(key_path) if key_path else None)

    @staticmethod
    def default_namespace(namespace: str | None) -> str:
        return namespace or os.environ.get(NAMESPACE_ENV) or "default"
