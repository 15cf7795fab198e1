"""Without ../shared, only the OpenLineage.json check of events is left out (issue #10, finding 12).

Every other check, including each provlineage facet against its own shipped schema, runs on a fresh clone.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_event_validator
from jsonschema import ValidationError

from provlineage.facets import PRODUCER, schema_url


def _event(facet: dict[str, object]) -> dict[str, object]:
    return {"eventType": "COMPLETE", "run": {"runId": "r", "facets": {"provlineage_metrics": facet}}, "job": {}}


def test_provlineage_facets_are_checked_without_the_official_schema(tmp_path: Path) -> None:
    left_out: list[str] = []
    validate = make_event_validator(tmp_path / "absent" / "OpenLineage.json", left_out)
    good = {"_producer": PRODUCER, "_schemaURL": schema_url("MetricsRunFacet"), "metrics": {"auc": 0.9}}
    validate(_event(good))
    with pytest.raises(ValidationError):
        validate(_event({**good, "metrics": "not an object"}))
    with pytest.raises(ValidationError):
        validate(_event({key: value for key, value in good.items() if key != "_producer"}))
    assert [test.rsplit("::", 1)[-1] for test in left_out] == [
        "test_provlineage_facets_are_checked_without_the_official_schema"
    ]


def test_an_unknown_provlineage_facet_schema_fails_without_the_official_schema(tmp_path: Path) -> None:
    validate = make_event_validator(tmp_path / "absent.json", [])
    with pytest.raises(AssertionError, match="is not shipped"):
        validate(_event({"_producer": PRODUCER, "_schemaURL": schema_url("NoSuchFacet")}))
