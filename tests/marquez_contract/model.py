"""Marquez's Java model of an event, as data (field order = Java declaration / @JsonPropertyOrder)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Union

from .jackson_json import JacksonError, _Float, _Int, read_json
from .java_values import JavaInstant, java_double, java_uri_error, parse_java_date_time, pg_numeric

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
