"""What Marquez serves from its derived ``run_facets``/``job_facets`` tables, not the raw events: rows and endpoint.

When the model update of a run event succeeds, Marquez stores one ``run_facets`` row per facet of the event's run
(``db/OpenLineageDao.insertRunFacets`` -> ``db/RunFacetsDao.insertRunFacetsFor``), and one ``job_facets`` row per
facet of its job, with the run's UUID (``insertJobFacets`` -> ``db/JobFacetsDao.insertJobFacetsFor``): the facet
as ``Utils.newObjectMapper`` writes it (NON_NULL, dates printed: the same tree as the raw event's), as jsonb
``{"<name>": <facet>}``, stamped with the event's ``eventTime`` (``lineage_event_time``).  The run facet
``spark_unknown`` is never stored and ``spark.logicalPlan`` only once per run.

``GET /api/v1/jobs/runs/{id}/facets?type=run`` (and ``type=job``; ``api/JobResource.getRunFacets``) answers
``{"runId": "<uuid>", "facets": {...}}``: the run's rows aggregated in ``lineage_event_time`` order
(``RunFacetsDao.findRunFacetsByRunUuid``, ``JobFacetsDao.findJobFacetsByRunUuid``) and merged so that a later row replaces an earlier one of the same name,
each name keeping the position of its first row (``db/mappers/MapperUtils.toFacetsOrNull``, a Jackson
``ObjectNode``).  Values are read back from jsonb by Jackson: decimals become doubles printed by
``Double.toString``, integers keep their digits.  An unknown run is 404 ``Run '<uuid>' not found.``; a ``runId``
that is not a UUID is stored under ``UUID.nameUUIDFromBytes`` of its bytes (``OpenLineageDao.runToUuid``).
*Observed* on the real Marquez 0.51.1 (Java 17, PostgreSQL 15) on 2026-11-30: tests/marquez_contract/observed/served.md
(README.md there).

``update_facet`` is the test-only equivalent of ``UPDATE run_facets SET facet = ...`` by someone with database
access: the raw event stays as it was, what the UI shows changes.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from typing import Any

from .jackson_json import read_json
from .model import _plain, jsonb_text

UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass
class FacetRow:
    """A row of ``run_facets`` (part ``run``) or ``job_facets`` (``job``): the run, ``lineage_event_time``
    (microseconds), the facet name, the jsonb text."""

    part: str
    run_uuid: str
    event_micros: int
    event_type: str
    name: str
    jsonb: str
    sequence: int


def run_uuid(run_id: str) -> str:
    """``OpenLineageDao.runToUuid``: the UUID itself, else ``UUID.nameUUIDFromBytes`` (MD5, version 3)."""
    if UUID_TEXT.fullmatch(run_id):
        return str(uuid.UUID(run_id))
    return str(uuid.UUID(bytes=hashlib.md5(run_id.encode()).digest(), version=3))


def facet_rows(stored: dict[str, Any], event_micros: int, sequence: int, seen: list[FacetRow]) -> list[FacetRow]:
    """The rows ``insertRunFacetsFor``/``insertJobFacetsFor`` add for one stored run event (``seen``: those there)."""
    key = run_uuid(str((stored.get("run") or {}).get("runId")))
    event_type = str(stored.get("eventType") or "")
    rows = []
    for part in ("run", "job"):
        for name, facet in ((stored.get(part) or {}).get("facets") or {}).items():
            if part == "run" and name.lower() == "spark_unknown":
                continue
            if (
                part == "run"
                and name.lower() == "spark.logicalplan"
                and any(r.part == part and r.run_uuid == key and r.name == name for r in seen)
            ):
                continue
            rows.append(FacetRow(part, key, event_micros, event_type, name, jsonb_text({name: facet}), sequence))
    return rows


def served_facets(rows: list[FacetRow], key: str, part: str) -> dict[str, Any] | None:
    """The body of ``GET /api/v1/jobs/runs/{key}/facets?type=<part>`` for a run Marquez knows; None when the run has
    no such rows (the query finds no row: 200 with an empty body and no Content-Type, *observed*,
    raw/vector.job_facets.*)."""
    mine = sorted((r for r in rows if r.run_uuid == key and r.part == part), key=lambda r: (r.event_micros, r.sequence))
    if not mine:
        return None
    facets: dict[str, Any] = {}
    for row in mine:
        facets.update(_plain(read_json(row.jsonb.encode())))
    return {"runId": key, "facets": facets}


def update_facet(rows: list[FacetRow], part: str, run_id: str, name: str, facet: Any) -> int:
    """``UPDATE <part>_facets SET facet = {name: facet} WHERE run_uuid = ... AND name = ...``; the rows changed."""
    key = run_uuid(run_id)
    changed = [row for row in rows if row.part == part and row.run_uuid == key and row.name == name]
    for row in changed:
        row.jsonb = jsonb_text({name: facet})
    return len(changed)
