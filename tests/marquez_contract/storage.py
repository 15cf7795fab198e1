"""Storage and request handling: stored rows, replies and ``MarquezState``."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from .jackson_json import JacksonError, read_json
from .java_values import JavaInstant, parse_java_date_time
from .model import (
    _DATASET,
    _EVENT_KINDS,
    RUN_EVENT,
    BeanValue,
    _contains_nul,
    _json_shape,
    bind,
    event_kind,
    java_json,
    jsonb_text,
    to_api,
    to_stored,
    violations,
)
from .served import UUID_TEXT, FacetRow, facet_rows, run_uuid, served_facets

NAMESPACE_PATTERN = re.compile(r"^[a-zA-Z:;=/0-9_\-\.@+]{1,1024}$")
_JOB_NAMESPACE_UNSAFE = re.compile(r"[^a-z:/A-Z0-9\-_.@+]")
_DEFAULT_BEFORE = "2030-01-01T00:00:00+00:00"
_DEFAULT_AFTER = "1970-01-01T00:00:00+00:00"
_DONE_EVENT_TYPES = {"complete", "fail", "abort"}


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
        self.runs: set[str] = set()  # the ``runs`` table: runs whose model update succeeded
        self.facets: list[FacetRow] = []  # the ``run_facets`` and ``job_facets`` tables

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
            event_time = instance.values["eventTime"]
            self.rows.append(StoredRow(kind, event_time, jsonb_text(stored), self._sequence))
            if status == 201 and kind == "RUN_EVENT":  # the model update, one transaction with the run's facets
                self.runs.add(run_uuid(str(instance.get("run", "runId"))))
                self.facets += facet_rows(stored, event_time.epoch_micros, self._sequence, self.facets)
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

    # ---- GET /api/v1/jobs/runs/{id}/facets (served.py) --------------------------------------------

    def get_run_facets(self, run_id: str, query: dict[str, list[str]]) -> Reply:
        facet_type = query.get("type", [""])[0]
        if not facet_type:
            return Reply.json(400, {"errors": ["query param type must not be null"]})
        if not UUID_TEXT.fullmatch(run_id):
            return Reply.error(404)
        key = run_uuid(run_id)
        with self.lock:
            if key not in self.runs:
                return Reply.error(404, f"Run '{key}' not found.")
            if facet_type.lower() not in {"run", "job"}:
                return Reply.error(501, "only type=run and type=job are modelled here")
            body = served_facets(self.facets, key, facet_type.lower())
        return Reply(200) if body is None else Reply.json(200, body)

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
