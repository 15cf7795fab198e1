"""Shared fixtures: real keys, and validation against the official OpenLineage schemas in ../shared."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provlineage.keys import write_key_pair

from conftest_airflow import airflow_home, forked_run, threaded_run  # noqa: F401 - shared Airflow runs
from conftest_marquez import marquez_server  # noqa: F401 - fixture for the Marquez contract tests

pytest_plugins = ["fixtures.neo4j", "fixtures.gateway", "fixtures.postgres", "fixtures.fault_server"]

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
OPENLINEAGE_SCHEMA = SHARED / "spec" / "openlineage" / "OpenLineage.json"


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Ed25519 key pair (private_key.pem, public_key.pem) for the whole session."""
    directory = tmp_path_factory.mktemp("keys")
    write_key_pair(directory, "ed25519")
    return directory


#: Stand-in for the two ``$defs`` of OpenLineage.json that provlineage's facet schemas refer to, used when ../shared
#: is absent so that every provlineage facet is still checked against its own schema (the base facet's two fields).
_BASE_FACET_STANDIN = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://openlineage.io/spec/2-0-2/OpenLineage.json",
    "$defs": {
        name: {
            "type": "object",
            "properties": {"_producer": {"type": "string"}, "_schemaURL": {"type": "string"}},
            "required": ["_producer", "_schemaURL"],
        }
        for name in ("RunFacet", "DatasetFacet", "JobFacet")
    },
}
#: Tests whose events were not checked against the official OpenLineage.json (../shared absent); reported once.
SCHEMA_CHECKS_LEFT_OUT: list[str] = []


@pytest.fixture(scope="session")
def event_validator() -> Callable[[dict[str, Any]], None]:
    """Validate each provlineage_* facet against its own schema, and the event against OpenLineage.json.

    Only the official OpenLineage.json comes from ../shared.  When it is absent the event check is left out (and
    reported at the end of the run; under ``CI=true`` it fails instead); the facet checks and the test's own
    assertions always run.
    """
    from fixtures.prerequisites import in_ci

    if not OPENLINEAGE_SCHEMA.exists() and in_ci():
        pytest.fail(f"../shared is absent ({OPENLINEAGE_SCHEMA} not found) under CI=true", pytrace=False)
    return make_event_validator(OPENLINEAGE_SCHEMA, SCHEMA_CHECKS_LEFT_OUT)


def make_event_validator(openlineage_schema: Path, left_out: list[str]) -> Callable[[dict[str, Any]], None]:
    """The validator of :func:`event_validator`; without ``openlineage_schema`` its check is left out, and each
    test where it was is appended to ``left_out``."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    from provlineage.schemas import facet_schemas

    core = json.loads(openlineage_schema.read_text()) if openlineage_schema.exists() else None
    resources = [(_BASE_FACET_STANDIN["$id"], Resource.from_contents(core or _BASE_FACET_STANDIN))]
    resources += [(sid, Resource.from_contents(schema)) for sid, schema in facet_schemas().items()]
    registry = Registry().with_resources(resources)
    event_check = Draft202012Validator(core, registry=registry) if core is not None else None
    facet_checks = {sid: Draft202012Validator(schema, registry=registry) for sid, schema in facet_schemas().items()}

    def validate(event: dict[str, Any]) -> None:
        if event_check is not None:
            event_check.validate(event)
        else:
            test = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0]
            if test not in left_out:
                left_out.append(test)
        for facet in _provlineage_facets(event):
            assert facet.get("_schemaURL") in facet_checks, f"facet schema {facet.get('_schemaURL')} is not shipped"
            facet_checks[facet["_schemaURL"]].validate(facet)

    return validate


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCHEMA_CHECKS_LEFT_OUT:
        terminalreporter.write_line(
            f"OpenLineage.json validation left out in {len(SCHEMA_CHECKS_LEFT_OUT)} tests: ../shared is absent "
            f"({OPENLINEAGE_SCHEMA}); provlineage facet schemas and the tests' own assertions ran"
        )


def _provlineage_facets(event: dict[str, Any]) -> list[dict[str, Any]]:
    found = [v for k, v in (event.get("run", {}).get("facets") or {}).items() if k.startswith("provlineage_")]
    found += [v for k, v in (event.get("job", {}).get("facets") or {}).items() if k.startswith("provlineage_")]
    for dataset in [*(event.get("inputs") or []), *(event.get("outputs") or [])]:
        for group in ("facets", "inputFacets", "outputFacets"):
            found += [v for k, v in (dataset.get(group) or {}).items() if k.startswith("provlineage_")]
    return found
