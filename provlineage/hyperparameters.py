"""Build the ``provlineage_hyperparameters`` facet: JSON-safe values, secrets redacted.

A key is treated as a secret when any part of its dotted path matches ``DEFAULT_SECRET_PATTERN`` (case-insensitive)
or the pattern the user configures (``PROVLINEAGE_SECRET_PATTERN`` or the ``secret_pattern`` argument).  Its value
is replaced by ``"***"`` and its path listed in ``redactedKeys``, so an auditor sees that a value existed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from provlineage._internal.jsonsafe import Conversions, to_json_safe
from provlineage.errors import ConfigError
from provlineage.facets import HyperparametersRunFacet

DEFAULT_SECRET_PATTERN = (
    r"pass(word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|auth|dsn|conn(ection)?[_-]?str"
)
REDACTED = "***"


def secret_matcher(pattern: str | None = None) -> re.Pattern[str]:
    pattern = pattern or os.environ.get("PROVLINEAGE_SECRET_PATTERN") or DEFAULT_SECRET_PATTERN
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as error:
        raise ConfigError(
            f"secret pattern {pattern!r} is not a regular expression ({error})",
            "fix secret_pattern= or PROVLINEAGE_SECRET_PATTERN (Python re syntax), or unset it for the default",
        ) from None


def redact(parameters: Any, matcher: re.Pattern[str], path: str = "", redacted: list[str] | None = None) -> Any:
    """Replace the values of secret-looking keys (at any depth) with ``***``; collect their dotted paths."""
    found = redacted if redacted is not None else []
    if isinstance(parameters, Mapping):
        result = {}
        for key, value in parameters.items():
            dotted = f"{path}.{key}" if path else str(key)
            if matcher.search(str(key)):
                result[key] = REDACTED
                found.append(dotted)
            else:
                result[key] = redact(value, matcher, dotted, found)
        return result
    if isinstance(parameters, (list, tuple)):
        return [redact(item, matcher, f"{path}[{i}]", found) for i, item in enumerate(parameters)]
    return parameters


def hyperparameters_facet(
    parameters: Mapping[str, Any], *, secret_pattern: str | None = None
) -> HyperparametersRunFacet:
    """The facet for ``parameters``: redacted first, then made JSON-safe (see :mod:`provlineage._internal.jsonsafe`)."""
    redacted: list[str] = []
    cleaned = redact(dict(parameters), secret_matcher(secret_pattern), redacted=redacted)
    conversions = Conversions()
    safe = to_json_safe(cleaned, conversions=conversions)
    return HyperparametersRunFacet(
        parameters=safe, redactedKeys=sorted(redacted), conversions=dict(conversions) or None
    )
