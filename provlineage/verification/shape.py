"""Is a parsed record an OpenLineage run event that every consumer reads the same way?

A signature proves who wrote the bytes, not that other tools can read them.  A record only verifies when it is
also a well-formed OpenLineage ``RunEvent`` (spec 2-0-2): ``eventTime`` (and the ``nominalTime`` facet's times)
RFC 3339 as both Python and JavaScript parse them (see :mod:`provlineage._internal.instants`), ``producer`` and
``schemaURL`` strings, a ``run`` with a UUID ``runId``, a ``job`` with ``namespace`` and ``name``, an ``eventType``
from the spec's list when present, and datasets with ``namespace`` and ``name``.  This is the structural part of
the schema, checked without it (the full schema needs the OpenLineage spec files, which a verifier may not have).
"""

from __future__ import annotations

import functools
import json
import re
from typing import Annotated, Any, Literal

import msgspec

from provlineage._internal.instants import is_instant

EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", re.ASCII)


def _named(value: Any, what: str) -> str | None:
    if not isinstance(value, dict):
        return f"{what} is not an object"
    for key in ("namespace", "name"):
        if not isinstance(value.get(key), str) or not value[key]:
            return f"{what} has no {key} string"
    return None


def _facets(value: Any, what: str) -> str | None:
    if value is not None and not isinstance(value, dict):
        return f"{what}.facets is not an object"
    return None


def event_problem(event: Any) -> str | None:
    """Why ``event`` is not an OpenLineage run event every consumer reads alike (``None`` when it is)."""
    if not isinstance(event, dict) or not isinstance(event.get("run"), dict) or not isinstance(event.get("job"), dict):
        return "not an OpenLineage run event (a JSON object with run and job is expected)"
    time = event.get("eventTime")
    if not is_instant(time):
        return f"eventTime {time!r} is not an RFC 3339 date-time that Python and JavaScript both parse"
    for key in ("producer", "schemaURL"):
        if not isinstance(event.get(key), str):
            return f"{key} is missing or not a string"
    if event.get("eventType") is not None and event["eventType"] not in EVENT_TYPES:
        return f"eventType {event['eventType']!r} is not one of {', '.join(EVENT_TYPES)}"
    run = event["run"]
    if not isinstance(run.get("runId"), str) or not _UUID.fullmatch(run["runId"]):
        return f"run.runId {run.get('runId')!r} is not a UUID"
    problem = (
        _facets(run.get("facets"), "run") or _named(event["job"], "job") or _facets(event["job"].get("facets"), "job")
    )
    if problem:
        return problem
    nominal = (run.get("facets") or {}).get("nominalTime")
    if nominal is not None:
        if not isinstance(nominal, dict):
            return "the nominalTime facet is not an object"
        for key in ("nominalStartTime", "nominalEndTime"):
            if nominal.get(key) is not None and not is_instant(nominal[key]):
                return f"nominalTime.{key} {nominal[key]!r} is not an RFC 3339 date-time"
    for side in ("inputs", "outputs"):
        datasets = event.get(side)
        if datasets is None:
            continue
        if not isinstance(datasets, list):
            return f"{side} is not a list"
        for index, dataset in enumerate(datasets):
            problem = _named(dataset, f"{side}[{index}]") or _facets(dataset.get("facets"), f"{side}[{index}]")
            if problem:
                return problem
    return None


# --- the same check on a stored line, decoding only the members it looks at ------------------------------------
_Text = Annotated[str, msgspec.Meta(min_length=1)]


class _AnyObject(msgspec.Struct):
    """Any JSON object (its members are skipped, not built)."""


class _Named(msgspec.Struct):
    namespace: _Text
    name: _Text
    facets: _AnyObject | None = None


class _Nominal(msgspec.Struct):
    nominalStartTime: str | None = None
    nominalEndTime: str | None = None


class _RunFacets(msgspec.Struct):
    nominalTime: _Nominal | None = None
    provlineage_signature: msgspec.Raw = None  # type: ignore[assignment]  # absent: None; else its exact text


class _Run(msgspec.Struct):
    runId: str
    facets: _RunFacets | None = None


class _Event(msgspec.Struct):
    eventTime: str
    producer: str
    schemaURL: str
    run: _Run
    job: _Named
    eventType: Literal["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"] | None = None
    inputs: list[_Named] | None = None
    outputs: list[_Named] | None = None


_DECODER = msgspec.json.Decoder(_Event)


def read_line(line: str) -> tuple[str | None, str | None]:
    """``(problem, signature facet text)`` of a stored line: :func:`event_problem` and where the facet is.

    msgspec checks the types and decodes only the members the check reads, skipping the rest without building it
    (several times faster than parsing the line), and hands back the exact text of ``run.facets``'s signature facet.
    Anything it rejects is parsed and checked by :func:`event_problem`, so the verdict and its words are the same.
    The problem is ``""`` when the line is not JSON at all.
    """
    try:
        event = _DECODER.decode(line)
    except (msgspec.DecodeError, RecursionError, UnicodeError):
        return _parsed_problem(line), None
    facets = event.run.facets
    nominal = facets.nominalTime if facets is not None else None
    if (
        is_instant(event.eventTime)
        and _UUID.fullmatch(event.run.runId)
        and (nominal is None or (_nominal_ok(nominal.nominalStartTime) and _nominal_ok(nominal.nominalEndTime)))
    ):
        facet = facets.provlineage_signature if facets is not None else None
        return None, None if facet is None else bytes(facet).decode("utf-8")
    return _parsed_problem(line), None


def decode_facet(text: str) -> Any:
    """The signature facet's text as strict JSON (no ``NaN``, no key twice), for text without backslashes.

    Without backslashes no string can hold a quote, so every ``":`` ends a key: the text holds duplicate keys
    exactly when it has more ``":`` than the decoded objects have members.  ``ValueError`` when not acceptable.
    """
    try:
        value = msgspec.json.decode(text)
        # one brace and no bracket: a flat object (the usual facet), whose members are its keys
        members = len(value) if text.count("{") == 1 and "[" not in text else _members(value)
    except (msgspec.DecodeError, RecursionError):
        raise ValueError("not strict JSON") from None
    if members != text.count('":'):
        raise ValueError("an object holds the same key twice")
    return value


def _members(value: Any) -> int:
    if isinstance(value, dict):
        return len(value) + sum(_members(item) for item in value.values() if isinstance(item, (dict, list)))
    if isinstance(value, list):
        return sum(_members(item) for item in value if isinstance(item, (dict, list)))
    return 0


def line_problem(line: str) -> str | None:
    """:func:`event_problem` of a stored line (see :func:`read_line`)."""
    return read_line(line)[0]


@functools.lru_cache(maxsize=512)  # a run's tasks share their nominal times: most lookups hit
def _nominal_ok(value: str | None) -> bool:
    return value is None or is_instant(value)


def _parsed_problem(line: str) -> str | None:
    try:
        return event_problem(json.loads(line))
    except (ValueError, RecursionError):
        return ""
