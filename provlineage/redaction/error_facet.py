"""Redact the ``errorMessage`` run facet that other producers (the Airflow provider) put on FAIL events.

provlineage redacts what it records itself before building facets; the provider builds its own ``errorMessage``
facet (exception message and stack trace, where a database URL with its password often shows up), so the signing
transport passes that facet through here before the event is signed and made permanent.
"""

from __future__ import annotations

from typing import Any

from provlineage.redaction.text import redact_text

ERROR_FACET = "errorMessage"
_FIELDS = ("message", "stackTrace")


def redact_error_facet(event: dict[str, Any]) -> list[str]:
    """Redact ``run.facets.errorMessage`` of ``event`` in place; returns the paths that were changed."""
    run = event.get("run")
    facets = run.get("facets") if isinstance(run, dict) else None
    facet = facets.get(ERROR_FACET) if isinstance(facets, dict) else None
    if not isinstance(facet, dict):
        return []
    changed = []
    for field in _FIELDS:
        value = facet.get(field)
        if isinstance(value, str):
            cleaned, found = redact_text(value)
            if found:
                facet[field] = cleaned
                changed.append(f"run.facets.{ERROR_FACET}.{field}")
    return changed
