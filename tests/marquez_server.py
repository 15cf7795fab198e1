"""A contract server that behaves like Marquez 0.51 towards OpenLineage clients.

Marquez is a Java service (Dropwizard + Jackson + PostgreSQL) that cannot run here, yet provlineage must
deliver events to it over HTTP and verify signatures against the copy Marquez gives back. This server
re-implements, in plain Python, the behaviour a client can observe: status codes and bodies of
``POST /api/v1/lineage``, and the *rewritten* events returned by ``GET /api/v1/events/lineage``.
No Marquez code is copied; every rule below was derived from reading Marquez's sources (commit a89b89c,
March 2025; paths relative to ``api/src/main/java/marquez/``).  Rules marked *observed* were corrected or added
after running the real Marquez 0.51.1 (built from source, Java 17, PostgreSQL 15) on 2026-11-30; the evidence is in
/work/marquez-observations/ (REPORT.md there; ``contract_vs_real.txt`` replays the same requests against both).

How Marquez handles a POSTed event, and what this server reproduces
-------------------------------------------------------------------
Parsing (Dropwizard's Jersey ObjectMapper, ``MarquezApp.java`` + ``io.dropwizard.jackson.Jackson``):
  * Malformed JSON (NaN/Infinity literals included) and any type mismatch Jackson cannot coerce (an
    object where a string is expected, a bad date, an invalid URI, ...) -> HTTP 500 with body
    ``{"code":400,"message":...}`` (``api/exceptions/JsonProcessingExceptionMapper.java`` uses
    ``Response.serverError()`` with code 400 in the body).
  * Content after the first JSON value is refused like malformed JSON: 500 with ``{"code":400,"message":
    "Trailing token ..."}`` (*observed*, raw/p2_68_trailing_content: FAIL_ON_TRAILING_TOKENS is on).
    Duplicate keys: the last one wins; unknown keys are ignored where a class has no ``@JsonAnySetter``
    (Dropwizard disables FAIL_ON_UNKNOWN_PROPERTIES).
  * An empty body or ``null`` -> 422 ``{"errors":["The request body must not be null"]}``.
  * The top-level ``schemaURL`` picks the event class (``service/models/EventTypeResolver.java``): a URL
    ending in ``/DatasetEvent`` or ``/JobEvent`` is a static event, anything else a run event.
Validation (``@Valid``/``@NotNull`` in ``service/models/LineageEvent.java``; Dropwizard answers 422
``{"errors":["<path> must not be null", ...]}``): eventTime, run, run.runId, job, job.namespace, job.name,
producer, each dataset's namespace/name, and inside the *typed* facets: ``_producer``/``_schemaURL`` of
every typed facet, nominalTime.nominalStartTime, parent.run.runId, parent.job.namespace/name,
documentation.description, sql.query, jobType.{processingType,integration,jobType},
schema.fields[].name, symlinks.identifiers[].namespace/name. Custom facets are never validated.
After validation (``service/OpenLineageService.createAsync`` runs the raw insert and the model update
in parallel, so *the raw event is stored even when the answer is 400*):
  * 400 with the servlet's JSON error page (*observed*, raw/p2_70_bad_input_namespace), when an input dataset
    namespace does not match ``^[a-zA-Z:;=/0-9_\\-\\.@+]{1,1024}$``
    or its name is blank (``db/OpenLineageDao.toDatasetId`` -> ``common/models/NamespaceName.java``);
    on COMPLETE/FAIL/ABORT events (and every event of a STREAMING job) the same check covers every
    dataset the run has seen, and the job namespace after Marquez replaces characters outside
    ``[a-z:/A-Z0-9\\-_.@+]`` with ``_`` (``OpenLineageDao.formatNamespaceName``, job versioning in
    ``db/JobVersionDao.java``). A job namespace such as ``"my ns"`` is therefore accepted (201).
  * 500 with the servlet's JSON error page (*observed*, raw/p2_65_nul_char), not stored: a string containing
    U+0000 (PostgreSQL jsonb rejects ``\\u0000``).  The model update's own 500 (a run event whose ``schemaURL``
    names a dataset event, raw/p6_06_...) has the same body.
  * 201, empty body: success (``api/OpenLineageResource.onComplete``).
Re-serialization into ``lineage_events.event`` (jsonb) by ``common/Utils.newObjectMapper`` (NON_NULL,
ISO dates), see ``OpenLineageDao.createJsonArray``:
  1. Typed fields go through Java types: ``eventTime`` and nominalTime's ``nominalStartTime`` /
     ``nominalEndTime`` are ``ZonedDateTime``: adjusted to UTC on input (ADJUST_DATES_TO_CONTEXT_TIME_ZONE,
     Jersey mapper) and printed by ``ISO_OFFSET_DATE_TIME``: ``Z`` suffix, seconds always present,
     fraction without trailing zeros (``...00.120+00:00`` -> ``...00.12Z``), nanosecond precision kept;
     a timestamp without offset is read in the server zone (UTC in the Marquez image;
     ``common/models/FlexibleDateTimeDeserializer.java``); a JSON number is epoch seconds.
  2. Typed string fields (eventType, runId, namespaces, names, producer, description, query, ...)
     accept any JSON scalar and keep its literal text: ``"name": 12.50`` is stored as ``"12.50"``.
  3. The ``parent`` run facet (also accepted under its old name ``parentRun``, renamed ``parent``) keeps
     only ``run.runId``, ``job.namespace``, ``job.name`` (``RunLink``/``JobLink`` have no any-setter)
     plus its own extra top-level keys (``root``, ``_producer``, ``_schemaURL``, ...).
  4. Null object members are dropped at every depth (NON_NULL for properties and map contents);
     ``null`` elements of arrays are kept.
  5. Numbers: integers keep their digits; every other number becomes a Java double printed by
     ``Double.toString`` (``1e2`` -> ``100.0``, ``1e-7`` -> ``1.0E-7``; Java 17's own spelling of the values in
     ``JAVA17_DOUBLE_TEXT``, *observed*), and an overflow such as ``1e400``
     becomes the *string* ``"Infinity"`` (WRITE_NAN_AS_STRINGS). PostgreSQL numeric then prints plain
     decimals (``1.0E-7`` -> ``0.00000010``, ``1.0E16`` -> ``10000000000000000``).
  6. jsonb drops key order and whitespace: keys sorted by UTF-8 length, then bytes; text printed as
     ``{"a": 1, "bb": [1, 2]}``. Lone UTF-16 surrogates become ``?`` (JDBC's UTF-8 encoder).
How ``GET /api/v1/events/lineage`` answers (``OpenLineageResource.getLineageEvents``,
``db/OpenLineageDao.getAllLineageEvents{Desc,Asc}``, ``db/mappers/LineageEventMapper.java``):
  * Rows with ``after <= eventTime < before`` (defaults 1970-01-01T00:00Z and **2030-01-01T00:00Z**, so
    later events are not listed), run events only, ordered by eventTime (``sortDirection`` desc by
    default, case-insensitive), ``limit`` default 100, ``offset`` default 0 (negative -> 400, not an
    integer -> 404). ``totalCount`` counts rows of *every* event type in the window (*observed*: 47 for 46 run
    events and 1 dataset event) and comes first in the body: ``{"totalCount":0,"events":[]}`` (*observed*).
  * Rows with equal eventTime come back in an order that changes with ``limit`` and ``offset`` (*observed*,
    ties_summary.txt and paging/: PostgreSQL sorts a small LIMIT with a top-N heap sort, a larger one with
    quicksort; seen on a freshly started Marquez, before its statement got a cached index-scan plan), so offset
    pages through such a run repeat some events and skip others.  This server gives each
    ``limit + offset`` its own order among equal times whenever that bound is below the number of rows; the
    exact permutations PostgreSQL picks are not reproduced.
  * Each row is parsed again by Jackson into ``LineageEvent`` and printed by the Jersey mapper, which has
    no NON_NULL: every typed property that is absent comes back as ``null`` (``"inputs": null``,
    ``"facets": {"nominalTime": null, "parent": null, ...}``); typed properties come first in Java
    declaration order, other keys follow in jsonb order; jsonb decimals are read back as doubles
    (``0.00000010`` -> ``1.0E-7``) and jsonb integers as integers (``10000000000000000``).

Known simplifications: doubles use the shortest round-trip digits (Java 19+) except the values in
``JAVA17_DOUBLE_TEXT`` that Java 17 was seen to print otherwise; other Java 17 differences are not known here;
``java.net.URI`` syntax is approximated; years outside 0001-9999 are rejected; error *messages* (not codes)
only resemble Jackson's/Dropwizard's (the ones marked *observed* are the real server's, minus the parse
index of a bad time). The jobs and lineage-graph endpoints are minimal views built from the stored events (no
versions, no parent-job renaming).
Marquez has no authentication; the optional bearer token models the proxy users put in front of it.
"""

from __future__ import annotations

import argparse
import calendar
import contextlib
import gzip
import hashlib
import json
import math
import re
import socket
import threading
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Union
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = [
    "MarquezContractServer",
    "RecordedRequest",
    "marquez_api_view",
    "marquez_stored_json",
]

NAMESPACE_PATTERN = re.compile(r"^[a-zA-Z:;=/0-9_\-\.@+]{1,1024}$")
_JOB_NAMESPACE_UNSAFE = re.compile(r"[^a-z:/A-Z0-9\-_.@+]")
_DEFAULT_BEFORE = "2030-01-01T00:00:00+00:00"
_DEFAULT_AFTER = "1970-01-01T00:00:00+00:00"
_DONE_EVENT_TYPES = {"complete", "fail", "abort"}
_MAX_NUMBER_LENGTH = 1000  # Jackson 2.15 StreamReadConstraints


# --------------------------------------------------------------------------------------------------
# JSON as Jackson reads it
# --------------------------------------------------------------------------------------------------


class JacksonError(Exception):
    """Jackson could not read or bind the JSON: Marquez answers 500 with ``{"code":400,...}``."""


class _Int(int):
    """A JSON integer that remembers its literal text (Jackson coerces numbers to strings verbatim)."""

    text: str


class _Float(float):
    """A JSON decimal that remembers its literal text."""

    text: str


def _parse_int(text: str) -> _Int:
    if len(text) > _MAX_NUMBER_LENGTH:
        raise JacksonError(f"Number value length ({len(text)}) exceeds the maximum allowed")
    value = _Int(int(text))
    value.text = text
    return value


def _parse_float(text: str) -> _Float:
    if len(text) > _MAX_NUMBER_LENGTH:
        raise JacksonError(f"Number value length ({len(text)}) exceeds the maximum allowed")
    value = _Float(float(text))
    value.text = text
    return value


def _reject_constant(name: str) -> Any:
    raise JacksonError(f"Non-standard token '{name}': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow")


_TOKEN_TYPES = {"{": "START_OBJECT", "[": "START_ARRAY", '"': "VALUE_STRING"}
_DECODER = json.JSONDecoder(parse_int=_parse_int, parse_float=_parse_float, parse_constant=_reject_constant)


def read_json(body: bytes) -> Any:
    """Parse ``body`` as one JSON value the way Jackson does; content after it is an error (observed)."""
    try:
        text = body.decode(json.detect_encoding(body))
    except (UnicodeDecodeError, LookupError) as error:
        raise JacksonError(f"Invalid UTF-8 middle byte: {error}") from error
    text = text.lstrip("\ufeff \t\r\n")
    if not text:
        return None
    try:
        value, end = _DECODER.raw_decode(text)
    except json.JSONDecodeError as error:
        raise JacksonError(
            f"Unexpected character: {error.msg} at [Source: REDACTED; line: {error.lineno}, column: {error.colno}]"
        ) from error
    except (RecursionError, ValueError) as error:
        raise JacksonError(f"Document nesting or number too large: {error}") from error
    trailing = text[end:].lstrip(" \t\r\n")
    if trailing:
        token = _TOKEN_TYPES.get(trailing[0], "VALUE")
        raise JacksonError(
            f"Trailing token (of type {token}) found after value (bound as `marquez.service.models.BaseEvent`): "
            "not allowed as per `DeserializationFeature.FAIL_ON_TRAILING_TOKENS`"
        )
    return value


# --------------------------------------------------------------------------------------------------
# Java value formatting: Double.toString, PostgreSQL numeric, ISO_OFFSET_DATE_TIME, java.net.URI
# --------------------------------------------------------------------------------------------------


# How the Java 17 Marquez printed these doubles (observed: diff_p1_E1.txt, provlineage/iso_values.txt). The same
# build on Java 25 printed the first three with the shortest digits (1.0E23, 2.82879384806159E17,
# 1.9400994884341945E25) but 5e-324 as 4.9E-324 as well (raw/p5_java25_get), where shortest digits give 5.0E-324.
JAVA17_DOUBLE_TEXT = {
    1e23: "9.999999999999999E22",
    2.82879384806159e17: "2.82879384806159008E17",
    1.9400994884341945e25: "1.9400994884341944E25",
    5e-324: "4.9E-324",
}


def java_double(value: float) -> str:
    """``Double.toString``: plain in [1e-3, 1e7), else ``d.dddE±n``; always one digit after the point."""
    if abs(value) in JAVA17_DOUBLE_TEXT:
        return ("-" if value < 0 else "") + JAVA17_DOUBLE_TEXT[abs(value)]
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, digit_tuple))
    scientific_exponent = len(digits) - 1 + int(exponent)
    digits = digits.rstrip("0") or "0"
    prefix = "-" if sign else ""
    if 1e-3 <= abs(value) < 1e7:
        if scientific_exponent >= 0:
            whole = digits[: scientific_exponent + 1].ljust(scientific_exponent + 1, "0")
            fraction = digits[scientific_exponent + 1 :] or "0"
        else:
            whole = "0"
            fraction = "0" * (-scientific_exponent - 1) + digits
        return f"{prefix}{whole}.{fraction}"
    return f"{prefix}{digits[0]}.{digits[1:] or '0'}E{scientific_exponent}"


def pg_numeric(java_text: str) -> str:
    """How PostgreSQL numeric prints a number it parsed from ``java_text`` (plain, input scale kept)."""
    number = Decimal(java_text)
    if number == 0:
        number = abs(number)
    return format(number, "f")


@dataclass(frozen=True)
class JavaInstant:
    """A ``ZonedDateTime`` reduced to what is printed: an instant and the offset it is shown in."""

    epoch_seconds: int
    nanos: int
    offset_seconds: int = 0

    @property
    def epoch_micros(self) -> int:
        """The PostgreSQL ``timestamptz`` value (microseconds, rounded half up)."""
        return (self.epoch_seconds * 1_000_000_000 + self.nanos + 500) // 1000

    def to_utc(self) -> JavaInstant:
        return JavaInstant(self.epoch_seconds, self.nanos, 0)

    def iso(self) -> str:
        """``DateTimeFormatter.ISO_OFFSET_DATE_TIME``."""
        local = datetime(1970, 1, 1) + timedelta(seconds=self.epoch_seconds + self.offset_seconds)
        fraction = f".{self.nanos:09d}".rstrip("0") if self.nanos else ""
        return f"{local:%Y-%m-%dT%H:%M:%S}{fraction}{_offset_id(self.offset_seconds)}"


def _offset_id(offset_seconds: int) -> str:
    if offset_seconds == 0:
        return "Z"
    sign = "+" if offset_seconds > 0 else "-"
    hours, rest = divmod(abs(offset_seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{seconds:02d}" if seconds else "")


_LOCAL_DATE_TIME = (
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[Tt]"
    r"(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{0,9}))?)?"
)
# FlexibleDateTimeDeserializer: ISO_LOCAL_DATE_TIME, then an optional offset parsed leniently.
_FLEXIBLE_DATE_TIME = re.compile(_LOCAL_DATE_TIME + r"(?P<offset>[Zz]|[+-]\d{2}(?::\d{2}(?::\d{2})?)?)?")
# ZonedDateTime.parse (query parameters): the offset is required, a [region] may follow.
_ZONED_DATE_TIME = re.compile(_LOCAL_DATE_TIME + r"(?P<offset>[Zz]|[+-]\d{2}:\d{2}(?::\d{2})?)(?:\[[^\]]+\])?")


def parse_java_date_time(text: str, *, offset_required: bool = False) -> JavaInstant:
    """Parse like Java's ISO formatters with the SMART resolver (day 31 of a 30-day month clamps)."""
    pattern = _ZONED_DATE_TIME if offset_required else _FLEXIBLE_DATE_TIME
    match = pattern.fullmatch(text.strip())
    if match is None:
        raise JacksonError(f"Cannot deserialize value of type `java.time.ZonedDateTime` from String {text!r}")
    year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    hour, minute = int(match["hour"]), int(match["minute"])
    second = int(match["second"] or 0)
    nanos = int((match["fraction"] or "").ljust(9, "0") or 0)
    if not (1 <= year <= 9999 and 1 <= month <= 12 and 1 <= day <= 31):
        raise JacksonError(f"Text {text!r} could not be parsed: invalid date")
    end_of_day = hour == 24 and minute == 0 and second == 0 and nanos == 0
    if not (end_of_day or (hour <= 23 and minute <= 59 and second <= 59)):
        raise JacksonError(f"Text {text!r} could not be parsed: invalid time")
    day = min(day, _days_in_month(year, month))
    local = datetime(year, month, day, 0 if end_of_day else hour, minute, second, tzinfo=timezone.utc)
    if end_of_day:
        local += timedelta(days=1)
    offset_seconds = _offset_seconds(match["offset"])
    if abs(offset_seconds) > 18 * 3600:
        raise JacksonError(f"Text {text!r} could not be parsed: zone offset out of range")
    epoch = int(local.timestamp()) - offset_seconds
    return JavaInstant(epoch, nanos, offset_seconds)


def _days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _offset_seconds(offset: str | None) -> int:
    if offset is None or offset in "Zz":
        return 0  # no offset: the Marquez container's default zone, UTC
    sign = -1 if offset[0] == "-" else 1
    parts = [int(part) for part in offset[1:].split(":")]
    hours, minutes, seconds = [*parts, 0, 0][:3]
    return sign * (hours * 3600 + minutes * 60 + seconds)


_URI_ASCII = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-!.~'()*,;:$&+=?/[]@#%")
_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_URI_IPV6_HOST = re.compile(r"//(?:[^/?#@]*@)?\[[0-9A-Fa-f:.]+\](?::\d*)?(?:[/?#].*)?", re.S)


def java_uri_error(text: str) -> str | None:
    """Why ``new java.net.URI(text)`` would throw, or None (an approximation of RFC 2396 parsing)."""
    for index, char in enumerate(text):
        if char.isascii():
            if char not in _URI_ASCII:
                return f"Illegal character at index {index}: {text}"
        elif unicodedata.category(char) in {"Cc", "Zs", "Zl", "Zp"}:
            return f"Illegal character at index {index}: {text}"
    for match in re.finditer("%", text):
        pair = text[match.start() + 1 : match.start() + 3]
        if not re.fullmatch(r"[0-9A-Fa-f]{2}", pair):
            return f"Malformed escape pair at index {match.start()}: {text}"
    if text.count("#") > 1:
        return f"Illegal character in fragment at index {text.index('#', text.index('#') + 1)}: {text}"
    scheme_match = re.match(r"([^/?#:]*):", text)
    rest = text
    if scheme_match:
        if not scheme_match[1]:
            return f"Expected scheme name at index 0: {text}"
        if not _URI_SCHEME.fullmatch(scheme_match[1]):
            return f"Illegal character in scheme name: {text}"
        rest = text[scheme_match.end() :]
        if not rest:
            return f"Expected scheme-specific part at index {len(text)}: {text}"
    if rest == "//":
        return f"Expected authority at index {len(text)}: {text}"
    if ("[" in rest or "]" in rest) and not _URI_IPV6_HOST.fullmatch(rest.split("#")[0]):
        return f"Illegal character in path: {text}"
    return None


# --------------------------------------------------------------------------------------------------
# Marquez's Java model of an event, as data (field order = Java declaration / @JsonPropertyOrder)
# --------------------------------------------------------------------------------------------------

STRING, URI, TIME, OBJECT = "String", "URI", "ZonedDateTime", "Object"


@dataclass(frozen=True)
class ListOf:
    """A ``java.util.List`` of ``item``."""

    item: Kind


@dataclass(frozen=True)
class Prop:
    """A typed Java property: ``not_null`` is ``@NotNull``, ``cascade`` is ``@Valid``."""

    name: str
    kind: Kind
    not_null: bool = False
    cascade: bool = False


@dataclass(frozen=True)
class Bean:
    """A Java class bound by Jackson; ``extras`` is the type of its any-setter values (None: no any-setter)."""

    name: str
    props: tuple[Prop, ...]
    extras: Kind | None = OBJECT
    aliases: tuple[tuple[str, str], ...] = ()

    def prop(self, key: str) -> Prop | None:
        key = dict(self.aliases).get(key, key)
        return next((prop for prop in self.props if prop.name == key), None)


Kind = Union[str, ListOf, Bean]  # noqa: UP007 (runtime alias; Python 3.10 cannot | a str)


def _facet(name: str, *props: Prop) -> Bean:
    """``LineageEvent.BaseFacet`` subclasses: ``_producer``/``_schemaURL`` first, extra keys kept."""
    return Bean(name, (Prop("_producer", URI, True), Prop("_schemaURL", URI, True), *props))


def _string_props(*names: str, required: bool = False) -> tuple[Prop, ...]:
    return tuple(Prop(name, STRING, required) for name in names)


# Run facets
_NOMINAL_TIME = _facet("NominalTimeRunFacet", Prop("nominalStartTime", TIME, True), Prop("nominalEndTime", TIME))
_RUN_LINK = Bean("RunLink", _string_props("runId", required=True), extras=None)
_JOB_LINK = Bean("JobLink", _string_props("namespace", "name", required=True), extras=None)
_PARENT = _facet("ParentRunFacet", Prop("run", _RUN_LINK, True, True), Prop("job", _JOB_LINK, True, True))
_RUN_FACETS = Bean(
    "RunFacet",
    (Prop("nominalTime", _NOMINAL_TIME, cascade=True), Prop("parent", _PARENT, cascade=True)),
    aliases=(("parentRun", "parent"),),
)
_RUN = Bean("Run", (Prop("runId", STRING, True), Prop("facets", _RUN_FACETS, cascade=True)))

# Job facets
_JOB_FACETS = Bean(
    "JobFacet",
    (
        Prop("documentation", _facet("DocumentationJobFacet", Prop("description", STRING, True)), cascade=True),
        Prop("sourceCodeLocation", _facet("SourceCodeLocationJobFacet", *_string_props("type", "url")), cascade=True),
        Prop("sql", _facet("SQLJobFacet", Prop("query", STRING, True)), cascade=True),
        Prop(
            "jobType",
            _facet("JobTypeJobFacet", *_string_props("processingType", "integration", "jobType", required=True)),
            cascade=True,
        ),
    ),
)
_JOB = Bean("Job", (*_string_props("namespace", "name", required=True), Prop("facets", _JOB_FACETS, cascade=True)))

# Dataset facets
_SCHEMA_FIELD = Bean("SchemaField", (Prop("name", STRING, True), *_string_props("type", "description")))
_SYMLINK_ID = Bean("SymlinkIdentifier", (*_string_props("namespace", "name", required=True), Prop("type", STRING)))
_COLUMN_INPUT = Bean("ColumnLineageInputField", _string_props("namespace", "name", "field", required=True))
_COLUMN_OUTPUT = Bean(
    "ColumnLineageOutputColumn",
    (
        Prop("inputFields", ListOf(_COLUMN_INPUT), True, True),
        *_string_props("transformationDescription", "transformationType"),
    ),
)
# The map of output columns is not @Valid: its values are bound but never validated.
_COLUMN_FIELDS = Bean("ColumnLineageDatasetFacetFields", (), extras=_COLUMN_OUTPUT)
_DATASET_FACETS = Bean(
    "DatasetFacets",
    (
        Prop("documentation", _facet("DocumentationDatasetFacet", Prop("description", STRING, True)), cascade=True),
        Prop("schema", _facet("SchemaDatasetFacet", Prop("fields", ListOf(_SCHEMA_FIELD), cascade=True)), cascade=True),
        Prop("dataSource", _facet("DatasourceDatasetFacet", *_string_props("name", "uri")), cascade=True),
        Prop("description", STRING),
        Prop(
            "lifecycleStateChange",
            _facet("LifecycleStateChangeFacet", Prop("lifecycleStateChange", STRING)),
            cascade=True,
        ),
        Prop("columnLineage", _facet("ColumnLineageDatasetFacet", Prop("fields", _COLUMN_FIELDS)), cascade=True),
        Prop(
            "symlinks",
            _facet("DatasetSymlinkFacet", Prop("identifiers", ListOf(_SYMLINK_ID), cascade=True)),
            cascade=True,
        ),
    ),
)
_DATASET = Bean(
    "Dataset",
    (
        *_string_props("namespace", "name", required=True),
        Prop("facets", _DATASET_FACETS, cascade=True),
        Prop("inputFacets", Bean("InputDatasetFacets", ()), cascade=True),
        Prop("outputFacets", Bean("OutputDatasetFacets", ()), cascade=True),
    ),
)
_DATASETS = ListOf(_DATASET)

# Events
RUN_EVENT = Bean(
    "LineageEvent",
    (
        Prop("eventType", STRING),
        Prop("eventTime", TIME, True),
        Prop("run", _RUN, True, True),
        Prop("job", _JOB, True, True),
        Prop("inputs", _DATASETS, cascade=True),
        Prop("outputs", _DATASETS, cascade=True),
        Prop("producer", STRING, True),
        Prop("schemaURL", URI),
    ),
)
_STATIC_TAIL = (Prop("producer", STRING, True), Prop("schemaURL", URI, True))
DATASET_EVENT = Bean(
    "DatasetEvent", (Prop("eventTime", TIME, True), Prop("dataset", _DATASET, cascade=True), *_STATIC_TAIL)
)
JOB_EVENT = Bean(
    "JobEvent",
    (
        Prop("eventTime", TIME, True),
        Prop("job", _JOB, True, True),
        Prop("inputs", _DATASETS, cascade=True),
        Prop("outputs", _DATASETS, cascade=True),
        *_STATIC_TAIL,
    ),
)
_EVENT_KINDS = {"RUN_EVENT": RUN_EVENT, "DATASET_EVENT": DATASET_EVENT, "JOB_EVENT": JOB_EVENT}


@dataclass
class BeanValue:
    """An instance of a ``Bean``: typed property values (None = Java null) and any-setter extras."""

    bean: Bean
    values: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)

    def get(self, *path: str) -> Any:
        """Follow typed properties; None as soon as one is missing."""
        node: Any = self
        for name in path:
            if not isinstance(node, BeanValue):
                return None
            node = node.values.get(name)
        return node


def event_kind(raw: dict[str, Any]) -> str:
    """``EventTypeResolver``: the part of ``schemaURL`` after its last ``/`` picks the class."""
    schema_url = raw.get("schemaURL")
    suffix = schema_url[schema_url.rfind("/") :] if isinstance(schema_url, str) and "/" in schema_url else ""
    return {"/DatasetEvent": "DATASET_EVENT", "/JobEvent": "JOB_EVENT"}.get(suffix, "RUN_EVENT")


def bind(kind: Kind, raw: Any, *, to_utc: bool) -> Any:
    """Bind parsed JSON to a Java type as Jackson would; raise ``JacksonError`` where Jackson fails."""
    if raw is None:
        return None
    if isinstance(kind, Bean):
        if not isinstance(raw, dict):
            raise JacksonError(f"Cannot deserialize value of type `{kind.name}` from {_json_shape(raw)}")
        instance = BeanValue(kind)
        for key, value in raw.items():
            prop = kind.prop(key)
            if prop is not None:
                instance.values[prop.name] = bind(prop.kind, value, to_utc=to_utc)
            elif kind.extras is not None:
                instance.extras[key] = bind(kind.extras, value, to_utc=to_utc)
        return instance
    if isinstance(kind, ListOf):
        if not isinstance(raw, list):
            raise JacksonError(f"Cannot deserialize value of type `java.util.ArrayList` from {_json_shape(raw)}")
        return [bind(kind.item, item, to_utc=to_utc) for item in raw]
    if kind == OBJECT:
        return _plain(raw)
    if kind == TIME:
        return _bind_time(raw, to_utc=to_utc)
    text = _scalar_text(raw, kind)
    if kind == URI:
        problem = java_uri_error(text)
        if problem is not None:
            raise JacksonError(f"Cannot deserialize value of type `java.net.URI` from String {text!r}: {problem}")
    return text


def _json_shape(raw: Any) -> str:
    if isinstance(raw, dict):
        return "Object value (token `JsonToken.START_OBJECT`)"
    if isinstance(raw, list):
        return "Array value (token `JsonToken.START_ARRAY`)"
    if isinstance(raw, bool):
        return f"Boolean value ({'true' if raw else 'false'})"
    if isinstance(raw, (int, float)):
        return f"{'Integer' if isinstance(raw, int) else 'Floating-point'} value ({getattr(raw, 'text', raw)})"
    return f"String value ({raw!r})"


def _scalar_text(raw: Any, kind: str) -> str:
    """Jackson's StringDeserializer: any scalar becomes its JSON text; objects and arrays fail."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, (_Int, _Float)):
        return raw.text
    if isinstance(raw, (int, float)):
        return str(raw)
    raise JacksonError(f"Cannot deserialize value of type `java.lang.{kind}` from {_json_shape(raw)}")


def _bind_time(raw: Any, *, to_utc: bool) -> JavaInstant:
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise JacksonError(f"Cannot deserialize value of type `java.time.ZonedDateTime` from {_json_shape(raw)}")
    if isinstance(raw, str):
        instant = parse_java_date_time(raw)
    else:  # READ_DATE_TIMESTAMPS_AS_NANOSECONDS: a number is epoch seconds with a fraction
        seconds = Decimal(raw.text if isinstance(raw, (_Int, _Float)) else repr(raw))
        whole = int(seconds.to_integral_value(rounding="ROUND_FLOOR"))
        instant = JavaInstant(whole, int((seconds - whole) * 1_000_000_000))
    return instant.to_utc() if to_utc else instant


def _plain(raw: Any) -> Any:
    """Jackson's untyped binding: maps, lists, strings, booleans, integers and doubles."""
    if isinstance(raw, dict):
        return {key: _plain(value) for key, value in raw.items()}
    if isinstance(raw, list):
        return [_plain(item) for item in raw]
    if isinstance(raw, bool) or raw is None or isinstance(raw, str):
        return raw
    if isinstance(raw, int):
        return int(raw)
    return float(raw)


def violations(instance: BeanValue, path: str = "") -> list[str]:
    """Hibernate Validator over ``@NotNull``/``@Valid``, phrased as Dropwizard's 422 ``errors``."""
    found: list[str] = []
    for prop in instance.bean.props:
        where = f"{path}.{prop.name}" if path else prop.name
        value = instance.values.get(prop.name)
        if value is None:
            if prop.not_null:
                found.append(f"{where} must not be null")
            continue
        if not prop.cascade:
            continue
        if isinstance(value, BeanValue):
            found += violations(value, where)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BeanValue):
                    found += violations(item, f"{where}[{index}]")
    return sorted(found)


def to_stored(value: Any) -> Any:
    """``Utils.newObjectMapper`` output as a Python tree: NON_NULL members dropped, dates printed."""
    if isinstance(value, BeanValue):
        members = {p.name: value.values.get(p.name) for p in value.bean.props}
        members.update(value.extras)
        return {key: to_stored(item) for key, item in members.items() if item is not None}
    if isinstance(value, dict):
        return {key: to_stored(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [to_stored(item) for item in value]
    if isinstance(value, JavaInstant):
        return value.iso()
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def to_api(value: Any) -> Any:
    """Dropwizard's Jersey mapper output: like ``to_stored`` but every typed property is printed, null or not."""
    if isinstance(value, BeanValue):
        members = {p.name: to_api(value.values.get(p.name)) for p in value.bean.props}
        members.update({key: to_api(item) for key, item in value.extras.items()})
        return members
    if isinstance(value, dict):
        return {key: to_api(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_api(item) for item in value]
    if isinstance(value, JavaInstant):
        return value.iso()
    return value


def _jsonb_key(key: str) -> tuple[int, bytes]:
    encoded = key.encode("utf-8", "replace")
    return (len(encoded), encoded)


def _string(text: str, *, ascii_safe: bool = False) -> str:
    if ascii_safe:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return json.dumps(text, ensure_ascii=False)


def jsonb_text(value: Any) -> str:
    """PostgreSQL ``jsonb`` output: sorted keys, ``", "``/``": "`` separators, plain-decimal numbers."""
    if isinstance(value, dict):
        items = sorted(
            ((key.encode("utf-8", "replace").decode("utf-8"), item) for key, item in value.items()),
            key=lambda pair: _jsonb_key(pair[0]),
        )
        return "{" + ", ".join(f"{_string(key)}: {jsonb_text(item)}" for key, item in items) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(jsonb_text(item) for item in value) + "]"
    if isinstance(value, str):
        return _string(value, ascii_safe=True)
    if value is True or value is False or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return _string(to_stored(value))
    return pg_numeric(java_double(value))


def java_json(value: Any) -> str:
    """Compact JSON as Jackson writes it (doubles via ``Double.toString``)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{_string(key)}:{java_json(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(java_json(item) for item in value) + "]"
    if value is True or value is False or value is None or isinstance(value, (str, int)):
        return _string(value) if isinstance(value, str) else json.dumps(value)
    if not math.isfinite(value):
        return _string(to_stored(value))
    return java_double(value)


def _contains_nul(value: Any) -> bool:
    if isinstance(value, dict):
        return any("\x00" in key or _contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return isinstance(value, str) and "\x00" in value


def marquez_stored_json(event: dict[str, Any] | str | bytes) -> str:
    """The jsonb text Marquez stores for a valid event (raises ``JacksonError`` where Marquez answers 500)."""
    body = event if isinstance(event, bytes) else (event if isinstance(event, str) else json.dumps(event))
    raw = read_json(body.encode() if isinstance(body, str) else body)
    if not isinstance(raw, dict):
        raise JacksonError(f"Cannot deserialize value of type `BaseEvent` from {_json_shape(raw)}")
    return jsonb_text(to_stored(bind(_EVENT_KINDS[event_kind(raw)], raw, to_utc=True)))


def marquez_api_view(stored_jsonb: str) -> dict[str, Any]:
    """What ``GET /api/v1/events/lineage`` prints for one stored run event, as parsed JSON."""
    instance = bind(RUN_EVENT, read_json(stored_jsonb.encode()), to_utc=False)
    return json.loads(java_json(to_api(instance)))


# --------------------------------------------------------------------------------------------------
# Storage and request handling
# --------------------------------------------------------------------------------------------------


@dataclass
class StoredRow:
    """A row of ``lineage_events``: the jsonb text, the ``event_time`` column and the event class."""

    kind: str
    event_time: JavaInstant
    jsonb: str
    sequence: int


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the server received it (for asserting on retries, headers and bodies)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()

    @staticmethod
    def json(status: int, payload: Any) -> Reply:
        return Reply(status, java_json(payload).encode("utf-8"), (("Content-Type", "application/json"),))

    @staticmethod
    def servlet_error(status: int, path: str) -> Reply:
        """The servlet container's JSON error page (observed for 400 and 500 on ``POST /api/v1/lineage``)."""
        phrase = HTTPStatus(status).phrase
        body = f'{{\n"servlet":"jersey",\n"message":"{phrase}",\n"url":"{path}",\n"status":"{status}"\n}}'
        headers = (("Cache-Control", "must-revalidate,no-cache,no-store"), ("Content-Type", "application/json"))
        return Reply(status, body.encode(), headers)

    @staticmethod
    def error(status: int, message: str | None = None) -> Reply:
        """Dropwizard's ``ErrorMessage`` body."""
        phrase = message or f"HTTP {status} {HTTPStatus(status).phrase}"
        return Reply.json(status, {"code": status, "message": phrase})


class MarquezState:
    """Everything the server holds, behind one lock; the HTTP handler only translates requests."""

    def __init__(self, token: str | None = None) -> None:
        self.lock = threading.RLock()
        self.rows: list[StoredRow] = []
        self.requests: list[RecordedRequest] = []
        self.token = token
        self.failures_left = 0
        self.failure_status = 503
        self._sequence = 0

    # ---- POST /api/v1/lineage -------------------------------------------------------------------

    def record_lineage(self, body: bytes, content_type: str | None) -> Reply:
        media_type = (content_type or "").split(";")[0].strip().lower()
        if media_type != "application/json":
            return Reply.error(415)
        try:
            raw = read_json(body)
            if raw is None:
                return Reply.json(422, {"errors": ["The request body must not be null"]})
            if not isinstance(raw, dict):
                raise JacksonError(f"Cannot deserialize value of type `BaseEvent` from {_json_shape(raw)}")
            kind = event_kind(raw)
            instance = bind(_EVENT_KINDS[kind], raw, to_utc=True)
        except JacksonError as error:
            return Reply.json(500, {"code": 400, "message": str(error)})
        problems = violations(instance)
        if problems:
            return Reply.json(422, {"errors": problems})
        stored = to_stored(instance)
        if _contains_nul(stored):
            return Reply.servlet_error(500, "/api/v1/lineage")  # jsonb: "unsupported Unicode escape sequence"
        with self.lock:
            status = self._model_update_status(kind, instance)
            self._sequence += 1
            self.rows.append(StoredRow(kind, instance.values["eventTime"], jsonb_text(stored), self._sequence))
        return Reply(status) if status == 201 else Reply.servlet_error(status, "/api/v1/lineage")

    def _model_update_status(self, kind: str, instance: BeanValue) -> int:
        """Status of Marquez's model update, which runs next to the raw insert (so the row is kept)."""
        if kind == "DATASET_EVENT":
            return 201 if instance.values.get("dataset") is not None else 500
        datasets = list(instance.values.get("inputs") or [])
        if any(dataset is None for dataset in datasets):
            return 500
        if not all(_valid_dataset_id(dataset) for dataset in datasets):
            return 400
        event_type = str(instance.values.get("eventType") or "").lower()
        streaming = str(instance.get("job", "facets", "jobType", "processingType") or "").upper() == "STREAMING"
        if kind == "JOB_EVENT" or event_type in _DONE_EVENT_TYPES or streaming:
            seen = datasets + list(instance.values.get("outputs") or [])
            if kind == "RUN_EVENT":
                seen += self._datasets_of_run(str(instance.get("run", "runId")))
            job_namespace = _JOB_NAMESPACE_UNSAFE.sub("_", str(instance.get("job", "namespace")))
            if any(dataset is None for dataset in seen):
                return 500
            if not NAMESPACE_PATTERN.match(job_namespace) or not str(instance.get("job", "name")).strip():
                return 400
            if not all(_valid_dataset_id(dataset) for dataset in seen):
                return 400
        return 201

    def _datasets_of_run(self, run_id: str) -> list[Any]:
        found: list[Any] = []
        for row in self.rows:
            if row.kind != "RUN_EVENT":
                continue
            earlier = json.loads(row.jsonb)
            if str((earlier.get("run") or {}).get("runId")) == run_id:
                found += [BeanValue(_DATASET, dict(d)) for d in earlier.get("inputs") or [] if d]
                found += [BeanValue(_DATASET, dict(d)) for d in earlier.get("outputs") or [] if d]
        return found

    # ---- GET /api/v1/events/lineage --------------------------------------------------------------

    def list_events(self, query: dict[str, list[str]]) -> Reply:
        def first(name: str, default: str) -> str:
            return query.get(name, [default])[0]

        bounds: dict[str, int] = {}
        for name, default in (("before", _DEFAULT_BEFORE), ("after", _DEFAULT_AFTER)):
            text = first(name, default)
            try:
                bounds[name] = parse_java_date_time(text, offset_required=True).epoch_micros
            except JacksonError:
                return Reply.error(400, f"Parameter is invalid: Text '{text}' could not be parsed")
        direction = first("sortDirection", "desc").strip().upper()
        if direction not in {"DESC", "ASC"}:
            return Reply.error(400, "query param sortDirection must be one of [DESC, ASC]")
        numbers: dict[str, int] = {}
        for name, default in (("limit", "100"), ("offset", "0")):
            number = _java_int(first(name, default))
            if number is None:
                return Reply.error(404)
            numbers[name] = number
        negative = [f"query param {n} must be greater than or equal to 0" for n, v in numbers.items() if v < 0]
        if negative:
            return Reply.json(400, {"errors": negative})
        with self.lock:
            window = [r for r in self.rows if bounds["after"] <= r.event_time.epoch_micros < bounds["before"]]
        runs = sorted(
            (r for r in window if r.kind == "RUN_EVENT"), key=lambda r: (r.event_time.epoch_micros, r.sequence)
        )
        bound = numbers["offset"] + numbers["limit"]
        if bound < len(runs):  # a sort cut short: equal times in an order of this bound's own (observed)
            runs.sort(key=lambda r: (r.event_time.epoch_micros, _tie_order(r.sequence, bound)))
        if direction == "DESC":
            runs.reverse()
        page = runs[numbers["offset"] : bound]
        try:
            events = [to_api(bind(RUN_EVENT, read_json(row.jsonb.encode()), to_utc=False)) for row in page]
        except JacksonError:
            return Reply.error(500, "There was an error processing your request. It has been logged.")
        return Reply.json(200, {"totalCount": len(window), "events": events})

    # ---- minimal read models: jobs and the lineage graph ----------------------------------------

    def run_events(self) -> list[dict[str, Any]]:
        """Stored run events in insertion order, as jsonb-parsed dicts (the model tables' input)."""
        with self.lock:
            return [json.loads(row.jsonb) for row in self.rows if row.kind == "RUN_EVENT"]

    def get_job(self, namespace: str, name: str) -> Reply:
        events = [event for event in self.run_events() if _job_id(event) == (namespace, name)]
        if not events:
            known = {_job_id(event)[0] for event in self.run_events()}
            if namespace not in known:
                return Reply.error(404, f"Namespace '{namespace}' not found.")
            return Reply.error(404, f"Job '{name}' not found.")
        return Reply.json(200, _job_view(namespace, name, events))

    def get_lineage(self, query: dict[str, list[str]]) -> Reply:
        node_id = query.get("nodeId", [""])[0]
        parsed = _parse_node_id(node_id)
        if parsed is None:
            return Reply.error(400, f"node ID ({node_id}) must start with 'dataset', 'datasetField', 'job' or 'run'")
        depth = _java_int(query.get("depth", ["20"])[0])
        if depth is None:
            return Reply.error(404)
        graph = _LineageGraph(self.run_events())
        if node_id not in graph.nodes:
            kind, _, name = parsed
            label = "Job" if kind == "job" else "Dataset"
            return Reply.error(404, f"{label} '{name}' not found.")
        return Reply.json(200, {"graph": graph.around(node_id, depth)})


def _tie_order(sequence: int, bound: int) -> bytes:
    """A fixed order among rows with equal eventTime, different for each ``limit + offset``."""
    return hashlib.blake2b(f"{sequence}/{bound}".encode(), digest_size=8).digest()


def _valid_dataset_id(dataset: BeanValue) -> bool:
    namespace = dataset.values.get("namespace")
    name = dataset.values.get("name")
    return bool(namespace is not None and NAMESPACE_PATTERN.match(namespace) and name and name.strip())


def _java_int(text: str) -> int | None:
    """``Integer.parseInt`` (what Jersey uses for an ``int`` query parameter)."""
    if not re.fullmatch(r"[+-]?\d+", text):
        return None
    number = int(text)
    return number if -(2**31) <= number < 2**31 else None


def _job_id(event: dict[str, Any]) -> tuple[str, str]:
    job = event.get("job") or {}
    return (_JOB_NAMESPACE_UNSAFE.sub("_", str(job.get("namespace"))), str(job.get("name")))


def _dataset_ids(event: dict[str, Any], side: str) -> list[dict[str, str]]:
    return [{"namespace": str(d.get("namespace")), "name": str(d.get("name"))} for d in event.get(side) or [] if d]


_RUN_STATES = {"start": "RUNNING", "running": "RUNNING", "complete": "COMPLETED", "abort": "ABORTED", "fail": "FAILED"}


def _job_view(namespace: str, name: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """A minimal ``Job`` response: identity, I/O datasets, merged job facets and the latest run."""
    facets: dict[str, Any] = {}
    inputs: list[dict[str, str]] = []
    outputs: list[dict[str, str]] = []
    for event in sorted(events, key=lambda e: e["eventTime"]):
        facets.update((event.get("job") or {}).get("facets") or {})
        inputs += [d for d in _dataset_ids(event, "inputs") if d not in inputs]
        outputs += [d for d in _dataset_ids(event, "outputs") if d not in outputs]
    latest = max(events, key=lambda e: e["eventTime"])
    latest_run_id = str((latest.get("run") or {}).get("runId"))
    run_events = [e for e in events if str((e.get("run") or {}).get("runId")) == latest_run_id]
    run_facets: dict[str, Any] = {}
    for event in sorted(run_events, key=lambda e: e["eventTime"]):
        run_facets.update((event.get("run") or {}).get("facets") or {})
    processing = ((facets.get("jobType") or {}).get("processingType") or "").upper()
    return {
        "id": {"namespace": namespace, "name": name},
        "type": "STREAM" if processing == "STREAMING" else "BATCH",
        "name": name,
        "simpleName": name,
        "parentJobName": None,
        "createdAt": min(e["eventTime"] for e in events),
        "updatedAt": latest["eventTime"],
        "namespace": namespace,
        "inputs": inputs,
        "outputs": outputs,
        "location": (facets.get("sourceCodeLocation") or {}).get("url"),
        "description": (facets.get("documentation") or {}).get("description"),
        "latestRun": {
            "id": latest_run_id,
            "state": _RUN_STATES.get(str(latest.get("eventType") or "").lower(), "RUNNING"),
            "facets": run_facets,
        },
        "facets": facets,
        "currentVersion": None,
    }


def _parse_node_id(node_id: str) -> tuple[str, str, str] | None:
    """``NodeId``: ``job:<ns>:<name>`` or ``dataset:<ns>:<name>``; a colon before ``//`` or digits is not a separator."""
    kind, _, rest = node_id.partition(":")
    if kind not in {"job", "dataset"} or not rest:
        return None
    parts = rest.split(":")
    if len(parts) == 2:
        return kind, parts[0], parts[1]
    match = re.search(r":(?!//|\d+)", rest)
    if match is None:
        return None
    return kind, rest[: match.start()], rest[match.end() :]


class _LineageGraph:
    """Jobs and datasets joined by (namespace, name), as Marquez's lineage graph connects them."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        for event in events:
            job_namespace, job_name = _job_id(event)
            job_node = self._node("job", job_namespace, job_name)
            for dataset in _dataset_ids(event, "inputs"):
                self._link(self._node("dataset", dataset["namespace"], dataset["name"]), job_node)
            for dataset in _dataset_ids(event, "outputs"):
                self._link(job_node, self._node("dataset", dataset["namespace"], dataset["name"]))

    def _node(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        node_id = f"{kind}:{namespace}:{name}"
        if node_id not in self.nodes:
            data = {"id": {"namespace": namespace, "name": name}, "namespace": namespace, "name": name}
            data["type"] = "BATCH" if kind == "job" else "DB_TABLE"
            self.nodes[node_id] = {
                "id": node_id,
                "type": kind.upper(),
                "data": data,
                "inEdges": [],
                "outEdges": [],
            }
        return self.nodes[node_id]

    @staticmethod
    def _link(origin: dict[str, Any], destination: dict[str, Any]) -> None:
        edge = {"origin": origin["id"], "destination": destination["id"]}
        if edge not in origin["outEdges"]:
            origin["outEdges"].append(edge)
            destination["inEdges"].append(edge)

    def around(self, node_id: str, depth: int) -> list[dict[str, Any]]:
        """Every node reachable within ``depth`` job hops, upstream and downstream."""
        seen = {node_id}
        frontier = [node_id]
        for _ in range(max(depth, 0) * 2):
            following = []
            for current in frontier:
                node = self.nodes[current]
                for edge in node["inEdges"] + node["outEdges"]:
                    for neighbour in (edge["origin"], edge["destination"]):
                        if neighbour not in seen:
                            seen.add(neighbour)
                            following.append(neighbour)
            frontier = following
        return [self.nodes[key] for key in sorted(seen)]


# --------------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MarquezContractServer/0.51"
    timeout = 30
    server: _HTTPServer

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read .requests instead
        return

    def _handle(self) -> None:
        state = self.server.state
        try:
            body = self._read_body()
        except (ValueError, OSError, EOFError, zlib.error):
            self._send(Reply.error(400, "Unable to read the request body"))
            return
        reply = self._route(state, body)
        with state.lock:
            state.requests.append(
                RecordedRequest(self.command, self.path, dict(self.headers.items()), body, reply.status)
            )
        self._send(reply)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(chunks)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding", "").lower()
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        return body

    def _route(self, state: MarquezState, body: bytes) -> Reply:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = parse_qs(parts.query, keep_blank_values=True)
        with state.lock:
            if state.failures_left > 0:
                state.failures_left -= 1
                return Reply.error(state.failure_status)
            token = state.token
        if token is not None and not self._authorized(token):
            return Reply(
                401,
                java_json({"code": 401, "message": "Credentials are required to access this resource."}).encode(),
                (("Content-Type", "application/json"), ("WWW-Authenticate", 'Bearer realm="marquez"')),
            )
        job_path = re.fullmatch(r"/api/v1/namespaces/([^/]+)/jobs/([^/]+)", path)
        routes: dict[str, Callable[[], Reply]] = {}
        if path == "/api/v1/lineage":
            routes = {
                "POST": lambda: state.record_lineage(body, self.headers.get("Content-Type")),
                "GET": lambda: state.get_lineage(query),
            }
        elif path == "/api/v1/events/lineage":
            routes = {"GET": lambda: state.list_events(query)}
        elif job_path:
            routes = {"GET": lambda: state.get_job(unquote(job_path[1]), unquote(job_path[2]))}
        if not routes:
            return Reply.error(404)
        handler = routes.get(self.command)
        return handler() if handler else Reply.error(405)

    def _authorized(self, token: str) -> bool:
        scheme, _, credentials = self.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and credentials.strip() == token

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if reply.body:
            self.wfile.write(reply.body)


class _HTTPServer(ThreadingHTTPServer):
    """Tracks open connections so that "down" can cut keep-alive clients off, as a crash would."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: MarquezState) -> None:
        self.state = state
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        with self.connections_lock:
            open_connections = list(self.connections)
            self.connections.clear()
        for connection in open_connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()


class MarquezContractServer:
    """A Marquez stand-in on 127.0.0.1, served from a background thread.

    Use as a context manager (``with MarquezContractServer() as marquez: ...``) or call ``start()`` /
    ``stop()``. ``token`` (settable at any time) requires ``Authorization: Bearer <token>``.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, token: str | None = None) -> None:
        self._state = MarquezState(token)
        self._host = host
        self._port = port
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._down = False

    # ---- lifecycle ------------------------------------------------------------------------------

    def start(self) -> MarquezContractServer:
        self._server = _HTTPServer((self._host, self._port), self._state)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="marquez-contract", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server.drop_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> MarquezContractServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---- what tests use -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:40123`` (the OpenLineage client appends ``/api/v1/lineage``)."""
        return f"http://{self._host}:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    @property
    def token(self) -> str | None:
        return self._state.token

    @token.setter
    def token(self, value: str | None) -> None:
        with self._state.lock:
            self._state.token = value

    @property
    def events(self) -> list[dict[str, Any]]:
        """Stored run events in arrival order, each exactly as ``GET /api/v1/events/lineage`` prints it."""
        with self._state.lock:
            texts = [row.jsonb for row in self._state.rows if row.kind == "RUN_EVENT"]
        return [marquez_api_view(text) for text in texts]

    @property
    def stored(self) -> list[str]:
        """The jsonb text of every stored row (run, dataset and job events), in arrival order."""
        with self._state.lock:
            return [row.jsonb for row in self._state.rows]

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    def fail_next(self, n: int, status: int = 503) -> None:
        """Answer the next ``n`` requests with ``status`` (Dropwizard error body); nothing is stored."""
        with self._state.lock:
            self._state.failures_left = n
            self._state.failure_status = status

    def set_down(self, down: bool) -> None:
        """Down: the listening socket and open connections are closed (clients get connection refused).
        Up: listen again on the same port; stored events survive, as in Marquez's database."""
        if down == self._down:
            return
        self._down = down
        if down:
            self.stop()
        else:
            self.start()

    def delete_event(self, index: int) -> None:
        """Delete the ``index``-th run event (as in ``.events``), like ``DELETE FROM lineage_events``."""
        with self._state.lock:
            run_rows = [row for row in self._state.rows if row.kind == "RUN_EVENT"]
            self._state.rows.remove(run_rows[index])

    def replace_event(self, index: int, event: dict[str, Any]) -> None:
        """Overwrite the jsonb of the ``index``-th run event, like an ``UPDATE`` by someone with DB access.
        The ``event_time`` column is left as it was."""
        with self._state.lock:
            run_rows = [row for row in self._state.rows if row.kind == "RUN_EVENT"]
            run_rows[index].jsonb = jsonb_text(event)

    def reset(self) -> None:
        """Forget stored events, recorded requests and pending failures (the token is kept)."""
        with self._state.lock:
            self._state.rows.clear()
            self._state.requests.clear()
            self._state.failures_left = 0

    def post(self, event: dict[str, Any] | str | bytes) -> int:
        """Convenience for tests: POST one event with the standard library and return the status code."""
        import urllib.error
        import urllib.request

        body = event if isinstance(event, bytes) else (event if isinstance(event, str) else json.dumps(event))
        data = body.encode() if isinstance(body, str) else body
        headers = {"Content-Type": "application/json"}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(f"{self.url}/api/v1/lineage", data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)


def main(argv: list[str] | None = None) -> None:
    """``python tests/marquez_server.py --port 5000``: serve until Ctrl-C."""
    parser = argparse.ArgumentParser(description="Marquez 0.51 contract server for provlineage tests")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--token", default=None, help="require Authorization: Bearer <token>")
    args = parser.parse_args(argv)
    server = MarquezContractServer(args.host, args.port, args.token).start()
    print(f"Marquez contract server on {server.url} (POST /api/v1/lineage, GET /api/v1/events/lineage)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
