"""``verify --marquez URL --served``: hold the facets Marquez *serves* against the verified events.

``verify --marquez`` checks the raw events of Marquez's ``lineage_events`` table.  Marquez's UI and read API do not
show those: they serve facets from derived tables (``run_facets``, ``job_facets`` ...), which someone with database
access can change while every raw event still verifies.  So, for each run of the verified events, this reads the
run's run facets and job facets as ``GET /api/v1/jobs/runs/{runId}/facets?type=run`` and ``?type=job`` serve them
(what the Marquez web UI's run view shows: its ``getRunFacets``/``getJobFacets``) and compares each facet with the
facet of the verified events it came from.

Which event: Marquez stores one row per facet of each event of a run, stamped with the event's ``eventTime``, and
serves, for each facet name, the row of the latest eventTime (``RunFacetsDao.findRunFacetsByRunUuid`` and
``JobFacetsDao.findJobFacetsByRunUuid`` aggregate the rows in time order and ``MapperUtils.toFacetsOrNull`` lets a
later row replace an earlier one).  So a facet that both START and COMPLETE carry is served as COMPLETE has it
(observed on a real Marquez 0.51.1, 2026-11-30).  Rows of one instant come in no defined order: a
facet that events of the same eventTime give different values may be served with either.  The run facet
``spark_unknown`` is never stored, and of ``spark.logicalPlan`` Marquez keeps the first row it received.

By value: both sides are parsed with provlineage's number rule (:func:`~provlineage._internal.canonical.loads`) and
compared as :func:`~provlineage._internal.canonical.canonical_bytes`, after the normalisations a signature allows
(:func:`~provlineage._internal.canonical.project_event`: null members dropped, ``nominalTime`` compared as instants,
``parent`` links), with numbers Java re-printed as another decimal of the same double read as that double, as
verification reads them.  Key order, dropped nulls and re-spelled numbers are not differences.  A difference, a
facet of the verified events that Marquez does not serve, and a ``provlineage_*`` facet that Marquez serves but no
verified event of the run has are findings.  Dataset facets (dataset versions) are not compared.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from provlineage._internal.canonical import SIGNATURE_FACET, canonical_bytes, loads, project_event
from provlineage._internal.java_doubles import as_doubles
from provlineage.errors import ProvlineageError
from provlineage.marquez import MarquezReader, _event_time
from provlineage.verification import Report

__all__ = ["FACETS_ENDPOINT", "ServedCheck", "ServedFinding", "check_served", "marquez_run_uuid"]

FACETS_ENDPOINT = "api/v1/jobs/runs/{run_id}/facets?type={part}"
PARTS = ("run", "job")  # ``event[part]["facets"]``, served with ``?type=<part>``
_OURS = "provlineage_"
_NEVER_STORED = "spark_unknown"  # RunFacetsDao skips it (case-insensitively)
_FIRST_KEPT = "spark.logicalPlan"  # RunFacetsDao stores it once per run
_EARLIEST = datetime.min.replace(tzinfo=timezone.utc)
_SHOWN = 160  # characters of a value shown in a finding line
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def marquez_run_uuid(run_id: str) -> str:
    """The UUID Marquez files a run under (``OpenLineageDao.runToUuid``): a UUID ``runId`` as it is, any other
    ``UUID.nameUUIDFromBytes`` of its bytes (MD5, version 3; UTF-8, the JVM's default charset since Java 18)."""
    if _UUID.fullmatch(run_id):
        return str(uuid.UUID(run_id))
    return str(uuid.UUID(bytes=hashlib.md5(run_id.encode()).digest(), version=3))


def _shown(text: str) -> str:
    """A value or name as one printable line (Marquez's side is untrusted: no control characters reach the terminal)."""
    text = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


@dataclass(frozen=True)
class ServedFinding:
    """One served value that is not the verified one; ``served``/``signed`` are canonical JSON, None when absent."""

    run_id: str
    facet: str
    pointer: str
    served: str | None
    signed: str | None
    detail: str = ""
    part: str = "run"
    """``run`` for a run facet, ``job`` for a job facet."""

    def line(self) -> str:
        facet = ("job facet " if self.part == "job" else "") + _shown(self.facet)
        where = f"{_shown(self.run_id)} {facet}{_shown(self.pointer)}".rstrip()
        if self.detail:
            return f"{'SERVED':11} {where}: {self.detail}"
        served = "no such member" if self.served is None else _shown(self.served)
        signed = "has no such member" if self.signed is None else f"says {_shown(self.signed)}"
        return f"{'SERVED':11} {where}: Marquez serves {served}, the signed event {signed}"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"runId": self.run_id, "part": self.part, "facet": self.facet, "pointer": self.pointer}
        data.update(served=self.served, signed=self.signed)
        return {**data, "detail": self.detail} if self.detail else data


@dataclass
class ServedCheck:
    """What ``--served`` compared and found."""

    runs: int = 0
    facets: int = 0
    findings: list[ServedFinding] = field(default_factory=list)
    not_compared: list[str] = field(default_factory=list)
    """Runs with an event that did not verify (Marquez may serve that event's facets; verify fails already)."""

    @property
    def ok(self) -> bool:
        return not self.findings

    def lines(self) -> list[str]:
        endpoint = FACETS_ENDPOINT.format(run_id="{runId}", part="run|job")
        summary = f"{self.runs} run(s), {self.facets} facet(s) compared with GET /{endpoint}"
        verdict = f"{len(self.findings)} difference(s)" if self.findings else "nothing to compare"
        verdict = "all served as signed" if self.runs and self.ok else verdict
        if self.not_compared:
            verdict += f"; {len(self.not_compared)} run(s) not compared, as an event of theirs did not verify"
        return [finding.line() for finding in self.findings] + [f"{'served':11} {summary}: {verdict}"]

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoint": "/" + FACETS_ENDPOINT.format(run_id="{runId}", part="run|job"),
            "runs": self.runs,
            "facets": self.facets,
            "ok": self.ok,
            "findings": [finding.to_json() for finding in self.findings],
            "notCompared": self.not_compared,
        }


Signed = dict[str, dict[str, list[Any]]]
"""Per part (``run``/``job``), per facet name: the value(s) Marquez should serve for one run."""


def _run_id(event: Any) -> str | None:
    run = event.get("run") if isinstance(event, dict) else None
    run_id = run.get("runId") if isinstance(run, dict) else None
    return run_id if isinstance(run_id, str) else None


def _signed_facets(report: Report) -> dict[str, Signed]:
    """Per run of the verified events, the facets Marquez should serve (see the module doc)."""
    latest: dict[str, dict[str, dict[str, tuple[datetime, list[Any]]]]] = {}
    for _record, event in report.verified_events():
        run_id = _run_id(event)
        if run_id is None:
            continue
        moment = _event_time(event) or _EARLIEST
        for part in PARTS:
            chosen = latest.setdefault(run_id, {}).setdefault(part, {})
            facets = event[part].get("facets") if isinstance(event.get(part), dict) else None
            for name, value in facets.items() if isinstance(facets, dict) else ():
                if value is None or (part == "run" and name.lower() == _NEVER_STORED):
                    continue
                first_kept = part == "run" and name == _FIRST_KEPT
                held = chosen.get(name)
                if held is None or (moment > held[0] and not first_kept):
                    chosen[name] = (moment, [value])
                elif moment == held[0] or first_kept:
                    held[1].append(value)
    return {
        run_id: {part: {name: values for name, (_, values) in facets.items()} for part, facets in parts.items()}
        for run_id, parts in latest.items()
    }


def _comparable(part: str, name: str, value: Any) -> Any:
    """``value`` as a signature sees facet ``name`` of ``part`` (the signature facet itself: nulls dropped only)."""
    probe = "" if name == SIGNATURE_FACET else name  # project_event leaves out the signature facet: give it no name
    view = project_event({part: {"facets": {probe: value}}})[part]["facets"].get(probe)
    return as_doubles(view)[0]


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _text(value: Any) -> str:
    """Canonical JSON; for what has none (a lone surrogate Marquez serves), escaped JSON, which no canonical text is."""
    try:
        return canonical_bytes(value).decode("utf-8")
    except ProvlineageError:
        return json.dumps(value, ensure_ascii=True, sort_keys=True, default=lambda number: number.text)


def _differences(served: Any, signed: Any, pointer: str = "") -> list[tuple[str, str | None, str | None]]:
    """(JSON Pointer, served, signed) of every leaf where the two differ; None stands for an absent member."""
    if isinstance(served, dict) and isinstance(signed, dict):
        found = []
        for key in sorted(served.keys() | signed.keys()):
            where = f"{pointer}/{_escape(key)}"
            if key not in served:
                found.append((where, None, _text(signed[key])))
            elif key not in signed:
                found.append((where, _text(served[key]), None))
            else:
                found += _differences(served[key], signed[key], where)
        return found
    if isinstance(served, list) and isinstance(signed, list) and len(served) == len(signed):
        return [
            d
            for index, pair in enumerate(zip(served, signed, strict=True))
            for d in _differences(*pair, f"{pointer}/{index}")
        ]
    served_text, signed_text = _text(served), _text(signed)
    return [] if served_text == signed_text else [(pointer, served_text, signed_text)]


class _ServedReader:
    """``GET /api/v1/jobs/runs/{id}/facets?type=run|job`` through :class:`MarquezReader`'s session (auth, retries)."""

    def __init__(self, url: str, api_key: str | None) -> None:
        self.reader = MarquezReader(url, api_key=api_key)

    def facets(self, run_id: str, part: str) -> dict[str, Any] | str:
        """The served facets, or why there are none (a finding: what Marquez serves for this run is not the run)."""
        path = FACETS_ENDPOINT.format(run_id=quote(marquez_run_uuid(run_id), safe=""), part=part)
        response = self.reader.get(path, f"serve {part} facets", reading=" to read served facets")
        if response.status_code != 200:
            return f"Marquez does not serve this run's {part} facets (HTTP {response.status_code})"
        if not response.content:  # a run without rows of this part: 200 and an empty body (observed)
            return {}
        try:
            body = loads(response.content)
        except (ValueError, ProvlineageError):
            return f"Marquez serves this run's {part} facets as something that is not JSON"
        facets = body.get("facets") if isinstance(body, dict) else None
        if not isinstance(facets, dict):
            return f"Marquez serves this run's {part} facets without a `facets` object"
        return facets

    def close(self) -> None:
        self.reader.close()


def _compare(run_id: str, part: str, served: dict[str, Any], signed: dict[str, list[Any]]) -> list[ServedFinding]:
    """The findings for one run's facets of ``part``: served by Marquez, signed in the verified events."""
    findings: list[ServedFinding] = []
    for name in sorted(signed):
        if served.get(name) is None:
            signed_text = _text(signed[name][-1])
            findings.append(ServedFinding(run_id, name, "", None, signed_text, "Marquez does not serve it", part))
            continue
        view = _comparable(part, name, served[name])
        candidates = [_comparable(part, name, value) for value in signed[name]]
        if any(_text(view) == _text(candidate) for candidate in candidates):
            continue
        findings += [
            ServedFinding(run_id, name, pointer, served_text, signed_text, part=part)
            for pointer, served_text, signed_text in _differences(view, candidates[-1])
        ]
    for name in sorted(served):
        if name.startswith(_OURS) and name not in signed and served[name] is not None:
            detail = "Marquez serves it, but no verified event of this run has it"
            findings.append(ServedFinding(run_id, name, "", _text(served[name]), None, detail, part))
    return findings


def check_served(report: Report, url: str, *, api_key: str | None = None) -> ServedCheck:
    """Compare the run and job facets Marquez at ``url`` serves with the verified events of ``report`` (kept)."""
    expected = _signed_facets(report)
    unverified = {_run_id(record.event) for record in report.records if not record.status.chained}
    check = ServedCheck(not_compared=sorted(run_id for run_id in expected if run_id in unverified))
    check.runs = len(expected) - len(check.not_compared)
    reader = _ServedReader(url, api_key)
    try:
        for run_id in sorted(expected.keys() - unverified):
            for part in PARTS:
                served = reader.facets(run_id, part)
                if isinstance(served, str):
                    check.findings.append(ServedFinding(run_id, "", "", None, None, served, part))
                    break  # an unknown run has neither
                check.facets += len(expected[run_id][part])
                check.findings += _compare(run_id, part, served, expected[run_id][part])
    finally:
        reader.close()
    return check
