"""Build the ``provlineage_hyperparameters`` facet: JSON-safe values, secrets redacted.

Values are first made JSON-safe (:mod:`provlineage._internal.jsonsafe`, conversions listed in ``conversions``), then
redacted by :func:`provlineage.redaction.redact`: a key matching the secret pattern (``DEFAULT_SECRET_PATTERN``,
``PROVLINEAGE_SECRET_PATTERN`` or the ``secret_pattern`` argument) has its value replaced by ``"***"``, and any
string has the secret parts it holds (URL passwords, tokens, ...) replaced by ``***``.  Every redacted path is
listed in ``redactedKeys``, so an auditor sees that a value existed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provlineage._internal.jsonsafe import Conversions, to_json_safe
from provlineage.facets import HyperparametersRunFacet
from provlineage.redaction import DEFAULT_SECRET_PATTERN, REDACTED, redact, secret_matcher

__all__ = ["DEFAULT_SECRET_PATTERN", "REDACTED", "hyperparameters_facet", "redact", "secret_matcher"]


def hyperparameters_facet(
    parameters: Mapping[str, Any], *, secret_pattern: str | None = None
) -> HyperparametersRunFacet:
    """The facet for ``parameters``: made JSON-safe, then redacted (a bad pattern raises ``ConfigError``)."""
    conversions = Conversions()
    safe = to_json_safe(dict(parameters), conversions=conversions)
    cleaned, redacted = redact(safe, secret_pattern=secret_pattern)
    return HyperparametersRunFacet(
        parameters=cleaned, redactedKeys=sorted(redacted), conversions=dict(conversions) or None
    )
