"""Shared fixtures: real keys, and validation against the official OpenLineage schemas in ../shared."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provlineage.keys import write_key_pair

from conftest_airflow import airflow_home, forked_run, threaded_run  # noqa: F401 - shared Airflow runs
from conftest_marquez import marquez_server  # noqa: F401 - fixture for the Marquez contract tests

pytest_plugins = ["fixtures.gateway", "fixtures.postgres"]

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
OPENLINEAGE_SCHEMA = SHARED / "spec" / "openlineage" / "OpenLineage.json"


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Ed25519 key pair (private_key.pem, public_key.pem) for the whole session."""
    directory = tmp_path_factory.mktemp("keys")
    write_key_pair(directory, "ed25519")
    return directory


@pytest.fixture(scope="session")
def event_validator() -> Callable[[dict[str, Any]], None]:
    """Validate an event against OpenLineage.json and each provlineage_* facet against its own schema."""
    if not OPENLINEAGE_SCHEMA.exists():
        pytest.skip(f"../shared is absent ({OPENLINEAGE_SCHEMA} not found): official schema validation runs in CI only")
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    from provlineage.schemas import facet_schemas

    core = json.loads(OPENLINEAGE_SCHEMA.read_text())
    resources = [(core["$id"], Resource.from_contents(core))]
    resources += [(sid, Resource.from_contents(schema)) for sid, schema in facet_schemas().items()]
    registry = Registry().with_resources(resources)
    event_check = Draft202012Validator(core, registry=registry)
    facet_checks = {sid: Draft202012Validator(schema, registry=registry) for sid, schema in facet_schemas().items()}

    def validate(event: dict[str, Any]) -> None:
        event_check.validate(event)
        for facet in _provlineage_facets(event):
            assert facet.get("_schemaURL") in facet_checks, f"facet schema {facet.get('_schemaURL')} is not shipped"
            facet_checks[facet["_schemaURL"]].validate(facet)

    return validate


def _provlineage_facets(event: dict[str, Any]) -> list[dict[str, Any]]:
    found = [v for k, v in (event.get("run", {}).get("facets") or {}).items() if k.startswith("provlineage_")]
    found += [v for k, v in (event.get("job", {}).get("facets") or {}).items() if k.startswith("provlineage_")]
    for dataset in [*(event.get("inputs") or []), *(event.get("outputs") or [])]:
        for group in ("facets", "inputFacets", "outputFacets"):
            found += [v for k, v in (dataset.get(group) or {}).items() if k.startswith("provlineage_")]
    return found
