"""The Marquez contract server answers and rewrites events the way Marquez 0.51 does."""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from marquez_server import MarquezContractServer, java_double, marquez_api_view, marquez_stored_json

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "spec" / "marquez" / "events"
PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"
FACET = {"_producer": PRODUCER, "_schemaURL": "https://example.com/schema.json"}


@pytest.fixture
def server() -> Iterator[MarquezContractServer]:
    with MarquezContractServer() as running:
        yield running


def run_event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "eventType": "COMPLETE",
        "eventTime": "2026-01-01T00:00:00.120+00:00",
        "run": {"runId": "0195a7c4-0000-7000-8000-000000000001"},
        "job": {"namespace": "provlineage", "name": "train"},
        "inputs": [{"namespace": "file", "name": "/data/train.csv"}],
        "outputs": [{"namespace": "file", "name": "/models/model.pkl"}],
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent",
    }
    event.update(overrides)
    return event


def post(server: MarquezContractServer, body: Any, **headers: str) -> requests.Response:
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return requests.post(
        f"{server.url}/api/v1/lineage",
        data=data,
        headers={"Content-Type": "application/json", **headers},
        timeout=5,
    )


def list_events(server: MarquezContractServer, **params: Any) -> requests.Response:
    return requests.get(f"{server.url}/api/v1/events/lineage", params=params, timeout=5)


def servlet_error(status: int, phrase: str) -> bytes:
    """The body the real Marquez 0.51.1 sent (observations raw/p2_65_nul_char, raw/p2_70_bad_input_namespace)."""
    return f'{{\n"servlet":"jersey",\n"message":"{phrase}",\n"url":"/api/v1/lineage",\n"status":"{status}"\n}}'.encode()


def samples() -> list[Path]:
    if not SAMPLES.is_dir():
        pytest.skip(f"../shared is absent ({SAMPLES} not found): Marquez sample events are needed")
    return sorted(SAMPLES.glob("*.json"))


# ---- POST /api/v1/lineage: status codes -------------------------------------------------------------


def test_valid_event_is_created_with_an_empty_body(server: MarquezContractServer) -> None:
    response = post(server, run_event())
    assert (response.status_code, response.content) == (201, b"")
    assert [event["run"]["runId"] for event in server.events] == ["0195a7c4-0000-7000-8000-000000000001"]


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda e: e.pop("eventTime"), "eventTime must not be null"),
        (lambda e: e.pop("run"), "run must not be null"),
        (lambda e: e["run"].pop("runId"), "run.runId must not be null"),
        (lambda e: e["job"].pop("namespace"), "job.namespace must not be null"),
        (lambda e: e["job"].pop("name"), "job.name must not be null"),
        (lambda e: e.pop("producer"), "producer must not be null"),
        (lambda e: e["inputs"][0].pop("name"), "inputs[0].name must not be null"),
        (lambda e: e["outputs"][0].pop("namespace"), "outputs[0].namespace must not be null"),
        (
            lambda e: e["run"].update(facets={"nominalTime": dict(FACET)}),
            "run.facets.nominalTime.nominalStartTime must not be null",
        ),
        (
            lambda e: e["run"].update(facets={"parent": {**FACET, "run": {}, "job": {"namespace": "a", "name": "b"}}}),
            "run.facets.parent.run.runId must not be null",
        ),
        (
            lambda e: e["job"].update(facets={"sql": {"_producer": PRODUCER, "query": "SELECT 1"}}),
            "job.facets.sql._schemaURL must not be null",
        ),
    ],
)
def test_missing_required_field_is_422_and_not_stored(server: MarquezContractServer, mutate: Any, error: str) -> None:
    event = run_event()
    mutate(event)
    response = post(server, event)
    assert response.status_code == 422
    assert response.json() == {"errors": [error]}
    assert server.stored == []


def test_custom_facets_are_never_validated(server: MarquezContractServer) -> None:
    custom = {"no_producer": {"anything": [1, {"x": None}]}, "k" * 255: "not even an object"}
    assert post(server, run_event(run={"runId": "r", "facets": custom})).status_code == 201


def test_empty_or_null_body_is_422(server: MarquezContractServer) -> None:
    for body in ("", "null"):
        response = post(server, body)
        assert response.status_code == 422
        assert response.json() == {"errors": ["The request body must not be null"]}


@pytest.mark.parametrize(
    "body",
    [
        '{"eventTime": ',
        json.dumps(run_event()).replace('"producer"', '"metric": NaN, "producer"'),
        json.dumps(run_event()).replace('"producer"', '"metric": Infinity, "producer"'),
        json.dumps(run_event(run="not-an-object")),
        json.dumps(run_event(eventTime="yesterday")),
        json.dumps(run_event(job={"namespace": "n", "name": {"nested": "object"}})),
        json.dumps(run_event(run={"runId": "r", "facets": {"nominalTime": {**FACET, "_producer": "has space"}}})),
        "[1, 2]",
    ],
)
def test_unreadable_json_is_500_with_code_400_in_body(server: MarquezContractServer, body: str) -> None:
    response = post(server, body)
    assert response.status_code == 500
    assert response.json()["code"] == 400
    assert response.json()["message"]
    assert server.stored == []


def test_content_after_the_json_value_is_refused(server: MarquezContractServer) -> None:
    """Observed on the real Marquez 0.51.1 (raw/p2_68_trailing_content): 500, code 400, nothing stored."""
    response = post(server, json.dumps(run_event()) + ' {"garbage": true} xyz')
    assert (response.status_code, response.json()["code"]) == (500, 400)
    assert response.json()["message"].startswith("Trailing token (of type START_OBJECT) found after value")
    assert server.stored == []
    assert post(server, json.dumps(run_event()) + " \n").status_code == 201  # whitespace is not a token


def test_invalid_input_namespace_is_400_but_the_event_is_still_stored(server: MarquezContractServer) -> None:
    response = post(server, run_event(eventType="START", inputs=[{"namespace": "bad namespace", "name": "t"}]))
    assert (response.status_code, response.content) == (400, servlet_error(400, "Bad Request"))
    assert server.events[0]["inputs"][0]["namespace"] == "bad namespace"


def test_invalid_output_namespace_fails_only_when_the_run_completes(server: MarquezContractServer) -> None:
    outputs = [{"namespace": "s3 bucket", "name": "model"}]
    assert post(server, run_event(eventType="START", outputs=outputs)).status_code == 201
    assert post(server, run_event(eventType="COMPLETE", outputs=[])).status_code == 400
    assert len(server.events) == 2


def test_job_namespace_outside_the_pattern_is_accepted(server: MarquezContractServer) -> None:
    response = post(server, run_event(job={"namespace": "my team's jobs", "name": "train"}))
    assert response.status_code == 201
    assert server.events[0]["job"]["namespace"] == "my team's jobs"


def test_nul_character_is_500_and_not_stored(server: MarquezContractServer) -> None:
    response = post(server, run_event(run={"runId": "r", "facets": {"x": {"text": "a\u0000b"}}}))
    assert (response.status_code, response.content) == (500, servlet_error(500, "Internal Server Error"))
    assert server.stored == []


def test_non_json_content_type_is_415(server: MarquezContractServer) -> None:
    response = post(server, run_event(), **{"Content-Type": "text/plain"})
    assert response.status_code == 415


def test_gzip_request_body_is_accepted(server: MarquezContractServer) -> None:
    body = gzip.compress(json.dumps(run_event()).encode())
    response = post(server, body, **{"Content-Encoding": "gzip"})
    assert response.status_code == 201
    assert len(server.events) == 1


def test_static_events_are_counted_but_not_listed(server: MarquezContractServer) -> None:
    dataset_event = {
        "eventTime": "2026-01-01T00:00:00Z",
        "dataset": {"namespace": "file", "name": "/data/train.csv"},
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/DatasetEvent",
    }
    assert post(server, dataset_event).status_code == 201
    assert post(server, run_event()).status_code == 201
    body = list_events(server).json()
    assert (len(body["events"]), body["totalCount"]) == (1, 2)
    assert list_events(server, limit=0).text == '{"totalCount":2,"events":[]}'  # key order as observed


# ---- Re-serialization --------------------------------------------------------------------------------


@pytest.mark.shared
def test_marquez_sample_events_are_accepted_and_keep_their_content(server: MarquezContractServer) -> None:
    for path in samples():
        original = json.loads(path.read_text())
        assert post(server, path.read_bytes()).status_code == 201, path.name
        stored = json.loads(server.stored[-1])
        original["eventTime"] = stored["eventTime"]
        assert stored == original, path.name


@pytest.mark.shared
def test_sample_with_offset_is_stored_in_utc_with_sorted_keys(server: MarquezContractServer) -> None:
    simple = next(path for path in samples() if path.name == "event_simple.json")
    assert post(server, simple.read_bytes()).status_code == 201
    stored = server.stored[0]
    assert stored.startswith('{"job": {"name": "myjob", "namespace": "my-scheduler-namespace"}, "run": ')
    top_level_keys = list(json.loads(stored))
    assert top_level_keys == sorted(top_level_keys, key=lambda key: (len(key), key))
    assert json.loads(stored)["eventTime"] == "2020-12-28T09:52:00.001Z"  # was 19:52:00.001+10:00


@pytest.mark.shared
def test_sample_parent_facet_and_null_typed_properties_in_the_api_view(server: MarquezContractServer) -> None:
    full = next(path for path in samples() if path.name == "event_full.json")
    assert post(server, full.read_bytes()).status_code == 201
    event = server.events[0]
    assert event["run"]["facets"]["parent"]["job"] == {"namespace": "my-scheduler-namespace", "name": "myjob.mytask"}
    assert event["job"]["facets"]["jobType"]["processingType"] == "STREAMING"
    assert event["inputs"][0]["facets"]["lifecycleStateChange"] is None  # typed, absent -> printed as null
    assert event["inputs"][0]["outputFacets"] is None


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2026-01-01T00:00:00.120+00:00", "2026-01-01T00:00:00.12Z"),
        ("2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00Z"),
        ("2026-01-01T00:00Z", "2026-01-01T00:00:00Z"),
        ("2026-01-01T01:30:00.123456789+01:30", "2026-01-01T00:00:00.123456789Z"),
        ("2026-01-01T00:00:00.000100", "2026-01-01T00:00:00.0001Z"),
        ("2026-04-31T00:00:00Z", "2026-04-30T00:00:00Z"),
        ("2025-12-31T24:00:00Z", "2026-01-01T00:00:00Z"),
    ],
)
def test_event_time_is_reprinted_by_java(sent: str, stored: str) -> None:
    assert json.loads(marquez_stored_json(run_event(eventTime=sent)))["eventTime"] == stored


def test_nominal_time_facet_is_reprinted_and_custom_times_are_not() -> None:
    facets = {
        "nominalTime": {**FACET, "nominalStartTime": "2026-01-01T10:00:00.500+02:00"},
        "custom": {**FACET, "at": "2026-01-01T10:00:00.500+02:00"},
    }
    stored = json.loads(marquez_stored_json(run_event(run={"runId": "r", "facets": facets})))
    assert stored["run"]["facets"]["nominalTime"]["nominalStartTime"] == "2026-01-01T08:00:00.5Z"
    assert stored["run"]["facets"]["custom"]["at"] == "2026-01-01T10:00:00.500+02:00"


def test_parent_facet_keeps_only_its_typed_links_and_extra_top_level_keys() -> None:
    parent = {
        **FACET,
        "run": {"runId": "p-run", "extra": 1},
        "job": {"namespace": "airflow", "name": "dag.task", "extra": 2},
        "root": {"run": {"runId": "root-run"}, "job": {"namespace": "airflow", "name": "dag"}},
    }
    # "parentRun" is the Airflow integration's old name: Marquez reads it and writes "parent".
    stored = json.loads(marquez_stored_json(run_event(run={"runId": "r", "facets": {"parentRun": parent}})))
    expected = copy.deepcopy(parent)
    del expected["run"]["extra"], expected["job"]["extra"]
    assert stored["run"]["facets"] == {"parent": expected}


def test_nulls_numbers_and_scalar_coercion() -> None:
    custom = {"a": 1e2, "b": 1e-7, "c": 1e16, "d": None, "e": [None, 7], "f": 12345678901234567890}
    text = json.dumps(run_event(run={"runId": "r", "facets": {"custom": custom}, "extra": None}))
    text = text.replace('"train"', "12.50")  # a JSON number where Marquez expects a string
    stored_text = marquez_stored_json(text.replace('"f": ', '"huge": 1e400, "f": '))
    assert '"a": 100.0, "b": 0.00000010, "c": 10000000000000000' in stored_text
    stored = json.loads(stored_text)
    assert stored["run"]["facets"]["custom"] == {
        "a": 100.0,
        "b": 1e-7,
        "c": 10000000000000000,
        "e": [None, 7],
        "f": 12345678901234567890,
        "huge": "Infinity",
    }
    assert "extra" not in stored["run"]
    assert stored["job"]["name"] == "12.50"


def test_api_view_reads_jsonb_decimals_back_as_java_doubles(server: MarquezContractServer) -> None:
    text = json.dumps(run_event(run={"runId": "r", "facets": {"m": {"tiny": 1e-7, "big": 1e16}}}))
    assert post(server, text).status_code == 201
    raw = list_events(server).text
    assert '"tiny":1.0E-7' in raw and '"big":10000000000000000' in raw
    assert marquez_api_view(server.stored[0])["run"]["facets"]["m"] == {"big": 10**16, "tiny": 1e-7}


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (100.0, "100.0"),
        (1e-7, "1.0E-7"),
        (0.001, "0.001"),
        (1e7, "1.0E7"),
        (1.5e-4, "1.5E-4"),
        (123456789.0, "1.23456789E8"),
    ],
)
def test_java_double_spelling(value: float, text: str) -> None:
    assert java_double(value) == text


@pytest.mark.parametrize(
    ("sent", "returned"),
    [
        ("1e+23", "99999999999999990000000"),
        ("1.9400994884341945e+25", "19400994884341944000000000"),
        ("5e-324", "4.9E-324"),
        ("2.82879384806159E17", "282879384806159008"),
        ("1e+22", "10000000000000000000000"),
    ],
)
def test_java_17_spelling_of_doubles_as_observed(server: MarquezContractServer, sent: str, returned: str) -> None:
    """What the real Marquez 0.51.1 on Java 17 gave back (observations provlineage/iso_values.txt, diff_p1_E1.txt)."""
    text = json.dumps(run_event(run={"runId": "r", "facets": {"m": {"v": 0}}})).replace('"v": 0', f'"v": {sent}')
    assert post(server, text).status_code == 201
    assert f'"v":{returned}' in list_events(server).text


# ---- GET /api/v1/events/lineage -------------------------------------------------------------------------


def post_hours(server: MarquezContractServer, hours: list[int]) -> None:
    for hour in hours:
        event = run_event(eventTime=f"2026-01-01T{hour:02d}:00:00Z", run={"runId": f"run-{hour}"})
        assert post(server, event).status_code == 201


def run_ids(response: requests.Response) -> list[str]:
    assert response.status_code == 200
    return [event["run"]["runId"] for event in response.json()["events"]]


def test_events_are_newest_first_and_paginated(server: MarquezContractServer) -> None:
    post_hours(server, [3, 1, 4, 2, 5])
    assert run_ids(list_events(server)) == ["run-5", "run-4", "run-3", "run-2", "run-1"]
    assert run_ids(list_events(server, limit=2, offset=1)) == ["run-4", "run-3"]
    assert run_ids(list_events(server, sortDirection="ASC", limit=2)) == ["run-1", "run-2"]
    assert list_events(server, limit=2).json()["totalCount"] == 5


def test_equal_event_times_are_ordered_per_limit_and_offset(server: MarquezContractServer) -> None:
    """As on the real Marquez (observations ties_summary.txt, paging/): offset pages through equal times repeat
    some events and skip others, while one request without offset that is not full holds every event once."""
    for index in range(10):
        event = run_event(eventTime="2026-01-01T00:00:00Z", run={"runId": f"run-{index}"})
        assert post(server, event).status_code == 201
    whole = run_ids(list_events(server, sortDirection="asc", limit=11))
    assert sorted(whole) == [f"run-{index}" for index in range(10)]
    paged = [run for offset in range(0, 10, 2) for run in run_ids(list_events(server, limit=2, offset=offset))]
    assert len(paged) == 10 and len(set(paged)) < 10


def test_events_window_is_after_inclusive_before_exclusive(server: MarquezContractServer) -> None:
    post_hours(server, [1, 2, 3])
    window = list_events(server, after="2026-01-01T02:00:00Z", before="2026-01-01T03:00:00Z")
    assert run_ids(window) == ["run-2"]
    assert window.json()["totalCount"] == 1


def test_events_after_2030_are_not_listed_by_default(server: MarquezContractServer) -> None:
    assert post(server, run_event(eventTime="2031-01-01T00:00:00Z")).status_code == 201
    assert list_events(server).json() == {"events": [], "totalCount": 0}
    assert len(run_ids(list_events(server, before="2040-01-01T00:00:00Z"))) == 1


def test_events_bad_query_parameters(server: MarquezContractServer) -> None:
    assert list_events(server, limit=-1).json() == {"errors": ["query param limit must be greater than or equal to 0"]}
    assert list_events(server, limit=-1).status_code == 400
    assert list_events(server, limit="ten").status_code == 404
    sideways = list_events(server, sortDirection="sideways")
    assert (sideways.status_code, sideways.json()["message"]) == (
        400,
        "query param sortDirection must be one of [DESC, ASC]",
    )
    unencoded_plus = requests.get(f"{server.url}/api/v1/events/lineage?after=2026-01-01T00:00:00+00:00", timeout=5)
    assert unencoded_plus.status_code == 400  # "+" decodes to a space


def test_deleted_and_replaced_events_show_in_the_listing(server: MarquezContractServer) -> None:
    post_hours(server, [1, 2])
    server.delete_event(0)
    assert run_ids(list_events(server)) == ["run-2"]
    tampered = json.loads(server.stored[0])
    tampered["run"]["runId"] = "forged"
    server.replace_event(0, tampered)
    assert run_ids(list_events(server)) == ["forged"]


# ---- Bearer token, failures, down/up ------------------------------------------------------------------


def test_bearer_token_is_required_when_configured(server: MarquezContractServer) -> None:
    server.token = "s3cret"
    missing = post(server, run_event())
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert post(server, run_event(), Authorization="Bearer wrong").status_code == 401
    assert post(server, run_event(), Authorization="Bearer s3cret").status_code == 201
    assert len(server.events) == 1


def test_fail_next_answers_the_status_then_recovers(server: MarquezContractServer) -> None:
    server.fail_next(2, status=503)
    assert [post(server, run_event()).status_code for _ in range(3)] == [503, 503, 201]
    assert len(server.events) == 1
    assert [request.status for request in server.requests] == [503, 503, 201]


def test_down_refuses_connections_and_up_serves_the_same_port_and_data(server: MarquezContractServer) -> None:
    assert post(server, run_event()).status_code == 201
    url = server.url
    server.set_down(True)
    with pytest.raises(requests.ConnectionError):
        post(server, run_event())
    server.set_down(False)
    assert server.url == url
    assert post(server, run_event()).status_code == 201
    assert len(server.events) == 2


def test_openlineage_client_delivers_with_gzip_and_api_key(server: MarquezContractServer) -> None:
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
    from openlineage.client.transport.http import ApiKeyTokenProvider, HttpCompression, HttpConfig, HttpTransport

    server.token = "key-1"
    config = HttpConfig(url=server.url, auth=ApiKeyTokenProvider({"apiKey": "key-1"}), compression=HttpCompression.GZIP)
    client = OpenLineageClient(transport=HttpTransport(config))
    event = RunEvent(
        eventType=RunState.COMPLETE,
        eventTime="2026-01-01T00:00:00.000+00:00",
        run=Run(runId="0195a7c4-0000-7000-8000-000000000002"),
        job=Job(namespace="provlineage", name="client"),
        producer=PRODUCER,
    )
    client.emit(event)
    assert server.requests[-1].headers["Content-Encoding"] == "gzip"
    stored = server.events[0]
    assert (stored["eventTime"], stored["job"]["name"]) == ("2026-01-01T00:00:00Z", "client")


# ---- Minimal read models ----------------------------------------------------------------------------------


def test_job_and_lineage_graph_join_datasets_by_namespace_and_name(server: MarquezContractServer) -> None:
    model = {"namespace": "file", "name": "/models/model.pkl"}
    assert post(server, run_event(outputs=[model])).status_code == 201
    inference = run_event(run={"runId": "infer"}, job={"namespace": "provlineage", "name": "infer"}, inputs=[model])
    assert post(server, {**inference, "outputs": []}).status_code == 201
    job = requests.get(f"{server.url}/api/v1/namespaces/provlineage/jobs/train", timeout=5).json()
    assert (job["outputs"], job["latestRun"]["state"]) == ([model], "COMPLETED")
    missing = requests.get(f"{server.url}/api/v1/namespaces/provlineage/jobs/nope", timeout=5)
    assert (missing.status_code, missing.json()["message"]) == (404, "Job 'nope' not found.")
    graph = requests.get(f"{server.url}/api/v1/lineage", params={"nodeId": "job:provlineage:infer"}, timeout=5)
    node_ids = {node["id"] for node in graph.json()["graph"]}
    assert node_ids == {
        "dataset:file:/data/train.csv",
        "job:provlineage:train",
        "dataset:file:/models/model.pkl",
        "job:provlineage:infer",
    }
