"""Where the JSON Schemas of provlineage's facets are: shipped in the wheel, or ``facets/`` in a source checkout."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from provlineage.facets import SCHEMA_VERSION


def schema_dir() -> Path:
    shipped = Path(__file__).with_name("_schemas") / SCHEMA_VERSION
    return shipped if shipped.is_dir() else Path(__file__).resolve().parents[1] / "facets" / SCHEMA_VERSION


@cache
def facet_schemas() -> dict[str, dict[str, Any]]:
    """``$id`` -> schema of every provlineage facet."""
    schemas = {}
    for path in sorted(schema_dir().glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        schemas[schema["$id"]] = schema
    return schemas
