"""``verify --marquez URL --served``: the run facets Marquez serves, held against the verified events.

The contract server serves ``GET /api/v1/jobs/runs/{id}/facets?type=run`` from its model of the ``run_facets``
table (tests/marquez_contract/served.py), as the real Marquez 0.51.1 was observed to (the latest event's facet
wins; tests/marquez_contract/observed/served.md).  ``update_facet`` stands in for an ``UPDATE run_facets``
by someone with database access: the raw events, and plain ``verify --marquez``, stay clean.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests
from click.testing import CliRunner
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import documentation_job, nominal_time_run, parent_run
from openlineage.client.transport import get_default_factory
from openlineage.client.uuid import generate_new_uuid

from provlineage._internal.canonical import loads
from provlineage.cli import cli
from provlineage.facets import HyperparametersRunFacet
from provlineage.marquez_served import _compare, marquez_run_uuid

START_PARAMETERS = {"lr": 0.5, "note": "at start"}
COMPLETE_PARAMETERS = {"lr": 1e-7, "ratio": 100.0, "big": 1e21, "seed": 12345678901234567890, "gone": None}
DOCUMENTATION = documentation_job.DocumentationJobFacet(description="trains the model")


def run_events(run_id: str) -> list[RunEvent]:
    """START and COMPLETE of one run: both carry the hyperparameters facet, with different values."""
    parent = parent_run.ParentRunFacet(
        run=parent_run.Run(runId=str(generate_new_uuid())), job=parent_run.Job(namespace="airflow", name="dag")
    )
    events = []
    for state, second, parameters in (
        (RunState.START, 0, START_PARAMETERS),
        (RunState.COMPLETE, 9, COMPLETE_PARAMETERS),
    ):
        facets = {
            "nominalTime": nominal_time_run.NominalTimeRunFacet(nominalStartTime="2026-03-01T13:00:00.000+01:00"),
            "parent": parent,
            "provlineage_hyperparameters": HyperparametersRunFacet(parameters=parameters),
        }
        events.append(
            RunEvent(
                eventType=state,
                eventTime=f"2026-03-01T13:00:{second:02d}.120000+01:00",
                run=Run(runId=run_id, facets=facets),
                job=Job(namespace="ml", name="train", facets={"documentation": DOCUMENTATION}),
                producer="https://example.com/tests",
            )
        )
    return events


def deliver(tmp_path: Path, key_dir: Path, server: Any, run_ids: list[str]) -> None:
    transport = get_default_factory().create(
        {
            "type": "provlineage.transport.SigningTransport",
            "private_key": str(key_dir / "private_key.pem"),
            "state_dir": str(tmp_path / "state"),
            "strict": True,
            "transport": {"type": "http", "url": server.url, "retry": {"total": 0}},
        }
    )
    for run_id in run_ids:
        for event in run_events(run_id):
            transport.emit(event)


def verify_served(server: Any, key_dir: Path, *extra: str) -> Any:
    arguments = ["verify", "--marquez", server.url, "--public-key", str(key_dir / "public_key.pem"), "--served"]
    return CliRunner().invoke(cli, [*arguments, *extra])


def served_facet(server: Any, run_id: str, name: str, part: str = "run") -> Any:
    response = requests.get(f"{server.url}/api/v1/jobs/runs/{run_id}/facets", params={"type": part}, timeout=10)
    return response.json()["facets"][name]


def test_clean_store_serves_what_was_signed(tmp_path: Path, key_dir: Path, marquez_server: Any) -> None:
    run_id = str(generate_new_uuid())
    deliver(tmp_path, key_dir, marquez_server, [run_id])
    served = served_facet(marquez_server, run_id, "provlineage_hyperparameters")["parameters"]
    assert served == {"lr": 1e-7, "ratio": 100.0, "big": 1e21, "seed": 12345678901234567890}  # COMPLETE's, no null
    result = verify_served(marquez_server, key_dir)
    assert result.exit_code == 0, result.output
    assert (
        "served      1 run(s), 5 facet(s) compared with GET /api/v1/jobs/runs/{runId}/facets?type=run|job"
        in result.output
    )
    assert "all served as signed" in result.output and "RESULT: OK" in result.output


def test_facet_changed_in_the_derived_table_is_a_finding(tmp_path: Path, key_dir: Path, marquez_server: Any) -> None:
    run_ids = [str(generate_new_uuid()), str(generate_new_uuid())]
    deliver(tmp_path, key_dir, marquez_server, run_ids)
    altered = served_facet(marquez_server, run_ids[1], "provlineage_hyperparameters")
    altered["parameters"]["lr"] = 0.9
    assert marquez_server.update_facet(run_ids[1], "provlineage_hyperparameters", altered) == 2  # START, COMPLETE
    plain = CliRunner().invoke(
        cli, ["verify", "--marquez", marquez_server.url, "--public-key", str(key_dir / "public_key.pem")]
    )
    assert plain.exit_code == 0, plain.output  # the raw events are untouched
    result = verify_served(marquez_server, key_dir)
    assert result.exit_code == 1, result.output
    line = (
        f"SERVED      {run_ids[1]} provlineage_hyperparameters/parameters/lr: Marquez serves 0.9, "
        "the signed event says 1e-7"
    )
    assert line in result.output.splitlines()
    assert "1 difference(s)" in result.output and "RESULT: FAILED" in result.output
    report = json.loads(verify_served(marquez_server, key_dir, "--json").output)
    assert report["ok"] is False and report["served"]["runs"] == 2
    assert report["served"]["findings"] == [
        {
            "runId": run_ids[1],
            "part": "run",
            "facet": "provlineage_hyperparameters",
            "pointer": "/parameters/lr",
            "served": "0.9",
            "signed": "1e-7",
        }
    ]


def test_facet_no_longer_served_is_a_finding(tmp_path: Path, key_dir: Path, marquez_server: Any) -> None:
    run_id = str(generate_new_uuid())
    deliver(tmp_path, key_dir, marquez_server, [run_id])
    marquez_server.update_facet(run_id, "provlineage_hyperparameters", None)  # facet = '{"...": null}'
    result = verify_served(marquez_server, key_dir)
    assert result.exit_code == 1, result.output
    assert f"SERVED      {run_id} provlineage_hyperparameters: Marquez does not serve it" in result.output


def test_job_facet_changed_in_the_derived_table_is_a_finding(
    tmp_path: Path, key_dir: Path, marquez_server: Any
) -> None:
    run_id = str(generate_new_uuid())
    deliver(tmp_path, key_dir, marquez_server, [run_id])
    altered = served_facet(marquez_server, run_id, "documentation", "job")
    altered["description"] = "trains\u001b[2J another model"
    assert marquez_server.update_facet(run_id, "documentation", altered, part="job") == 2
    result = verify_served(marquez_server, key_dir)
    assert result.exit_code == 1, result.output
    assert "\u001b" not in result.output  # Marquez's side reaches the terminal escaped
    assert (
        f"SERVED      {run_id} job facet documentation/description: Marquez serves "
        '"trains\\u001b[2J another model", the signed event says "trains the model"'
    ) in result.output


def test_runs_with_an_event_that_did_not_verify_are_not_compared(
    tmp_path: Path, key_dir: Path, marquez_server: Any
) -> None:
    """Marquez serves the failed COMPLETE's facets: comparing them with START's would only repeat the failure."""
    run_id = str(generate_new_uuid())
    deliver(tmp_path, key_dir, marquez_server, [run_id])
    complete = marquez_server.events[1]
    complete["run"]["facets"]["provlineage_hyperparameters"]["parameters"]["lr"] = 0.9
    marquez_server.replace_event(1, complete)
    result = verify_served(marquez_server, key_dir)
    assert result.exit_code == 1 and "FAILED " in result.output, result.output
    assert "SERVED " not in result.output
    assert "0 run(s), 0 facet(s) compared" in result.output and "1 run(s) not compared" in result.output


SIGNED = {
    "provlineage_hyperparameters": {
        "_producer": "https://example.com",
        "parameters": {"big": 1e21, "lr": 1e-7, "ratio": 100, "seed": 12345678901234567890, "gone": None},
    },
    "nominalTime": {"nominalStartTime": "2026-03-01T13:00:00.000+01:00", "_producer": "https://example.com"},
}


def signed(text: str) -> dict[str, list[Any]]:
    return {name: [facet] for name, facet in loads(text).items()}


def test_marquez_respellings_are_not_differences() -> None:
    """Key order, dropped and added nulls, Java's number spellings and times in UTC are Marquez's, not changes."""
    signed_text = json.dumps(SIGNED)
    served_text = (
        '{"nominalTime": {"_producer": "https://example.com", "nominalStartTime": "2026-03-01T12:00:00Z",'
        ' "nominalEndTime": null}, "provlineage_hyperparameters": {"parameters": {"seed": 12345678901234567890,'
        ' "ratio": 100.0, "lr": 1.0E-7, "big": 1.0E21}, "_producer": "https://example.com", "extra": null}}'
    )
    assert _compare("r", "run", loads(served_text), signed(signed_text)) == []


def test_differences_name_the_pointer_and_both_values() -> None:
    served = json.loads(json.dumps(SIGNED))
    served["provlineage_hyperparameters"]["parameters"]["lr"] = 2e-7
    served["provlineage_hyperparameters"]["parameters"]["added"] = [1]
    served["nominalTime"]["nominalStartTime"] = "2026-03-01T12:00:01Z"
    served["provlineage_metrics"] = {"metrics": {"auc": 1.0}}
    found = _compare("r", "run", loads(json.dumps(served)), signed(json.dumps(SIGNED)))
    assert [(f.facet, f.pointer, f.served, f.signed) for f in found] == [
        ("nominalTime", "/nominalStartTime", '"2026-03-01T12:00:01Z"', '"2026-03-01T12:00:00Z"'),
        ("provlineage_hyperparameters", "/parameters/added", "[1]", None),
        ("provlineage_hyperparameters", "/parameters/lr", "2e-7", "1e-7"),
        ("provlineage_metrics", "", '{"metrics":{"auc":1}}', None),
    ]
    assert found[-1].line() == (
        "SERVED      r provlineage_metrics: Marquez serves it, but no verified event of this run has it"
    )


def test_events_of_one_instant_may_be_served_either_way() -> None:
    """Marquez orders a run's facet rows by eventTime only: among equal times, either value may be served."""
    values = {"provlineage_hyperparameters": [{"parameters": {"lr": 0.5}}, {"parameters": {"lr": 0.7}}]}
    assert _compare("r", "run", {"provlineage_hyperparameters": {"parameters": {"lr": 0.5}}}, values) == []
    assert _compare("r", "run", {"provlineage_hyperparameters": {"parameters": {"lr": 0.7}}}, values) == []


def test_run_ids_that_are_not_uuids_are_looked_up_as_marquez_files_them() -> None:
    assert marquez_run_uuid("0190B7A2-0000-7000-8000-000000000001") == "0190b7a2-0000-7000-8000-000000000001"
    assert marquez_run_uuid("my-run") == "b866f7a6-b676-30d0-a252-2b4aaa593e0a"  # Java: UUID.nameUUIDFromBytes


VECTOR_RUN = "0190b7a2-1111-7000-8000-00000000abcd"
# tests/marquez_contract/observed/served.md (vector_start.json and vector_complete.json there), POSTed to the real Marquez 0.51.1
VECTOR_START = {
    "eventType": "START",
    "eventTime": "2026-03-01T13:00:00.120+01:00",
    "run": {
        "runId": VECTOR_RUN,
        "facets": {
            "nominalTime": {
                "_producer": "https://example.com/p",
                "_schemaURL": "https://example.com/s#/$defs/NominalTimeRunFacet",
                "nominalStartTime": "2026-03-01T13:00:00.000+01:00",
            },
            "x_params": {
                "_producer": "https://example.com/p",
                "_schemaURL": "https://example.com/s",
                "lr": 0.5,
                "stage": "start",
            },
            "x_start_only": {"_producer": "https://example.com/p", "_schemaURL": "https://example.com/s", "n": 1},
        },
    },
    "job": {"namespace": "served-vector", "name": "train"},
    "producer": "https://example.com/p",
    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
}
VECTOR_COMPLETE_TEXT = (
    '{"eventType": "COMPLETE", "eventTime": "2026-03-01T13:00:09.5+01:00", "run": {"runId": "0190b7a2-1111-7000-8000-00000000abcd", "facets": {'
    '"x_params": {"_producer": "https://example.com/p", "_schemaURL": "https://example.com/s", "zeta": null, '
    '"lr": 1e-7, "ratio": 100.0, "big": 1e21, "price": 12.50, "seed": 12345678901234567890, "stage": "complete", '
    '"nested": {"b": [1, 2.0, null], "a": -0.0}}, "parent": {"_producer": "https://example.com/p", '
    '"_schemaURL": "https://example.com/s", "run": {"runId": "0190b7a2-2222-7000-8000-00000000abcd", "extra": 1}, '
    '"job": {"namespace": "airflow", "name": "dag"}}}}, "job": {"namespace": "served-vector", "name": "train"}, '
    '"producer": "https://example.com/p", "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"}'
)
# raw/vector.run_facets.body: the real server's answer, byte for byte (COMPLETE's x_params won; START's only facet
# kept; null dropped; -0.0 -> 0.0; 12.50 -> 12.5; 1e21 -> its digits; parent links cut down)
VECTOR_RUN_FACETS = (
    '{"runId":"0190b7a2-1111-7000-8000-00000000abcd","facets":{"nominalTime":{"_producer":"https://example.com/p","_schemaURL":'
    '"https://example.com/s#/$defs/NominalTimeRunFacet","nominalStartTime":"2026-03-01T12:00:00Z"},"x_params":'
    '{"lr":1.0E-7,"big":1000000000000000000000,"seed":12345678901234567890,"price":12.5,"ratio":100.0,"stage":'
    '"complete","nested":{"a":0.0,"b":[1,2.0,null]},"_producer":"https://example.com/p","_schemaURL":'
    '"https://example.com/s"},"x_start_only":{"n":1,"_producer":"https://example.com/p","_schemaURL":'
    '"https://example.com/s"},"parent":{"job":{"name":"dag","namespace":"airflow"},"run":{"runId":'
    '"0190b7a2-2222-7000-8000-00000000abcd"},"_producer":"https://example.com/p","_schemaURL":"https://example.com/s"}}}'
)


def test_contract_serves_run_facets_as_the_real_marquez(marquez_server: Any) -> None:
    """Observed on Marquez 0.51.1: tests/marquez_contract/observed/served.md (raw/vector.* there) (contract_vs_real.py: all SAME)."""
    assert marquez_server.post(VECTOR_START) == 201 and marquez_server.post(VECTOR_COMPLETE_TEXT) == 201
    base = f"{marquez_server.url}/api/v1/jobs/runs"
    answers = {
        name: requests.get(f"{base}/{path}", timeout=10)
        for name, path in {
            "run": f"{VECTOR_RUN}/facets?type=run",
            "job": f"{VECTOR_RUN}/facets?type=job",
            "unknown": "0190b7a2-9999-7000-8000-00000000abcd/facets?type=run",
            "no_type": f"{VECTOR_RUN}/facets",
            "not_uuid": "not-a-uuid/facets?type=run",
        }.items()
    }
    assert (answers["run"].status_code, answers["run"].text) == (200, VECTOR_RUN_FACETS)
    assert (answers["job"].status_code, answers["job"].text) == (200, "")  # no job facets: an empty body
    assert answers["unknown"].json() == {
        "code": 404,
        "message": "Run '0190b7a2-9999-7000-8000-00000000abcd' not found.",
    }
    assert (answers["no_type"].status_code, answers["no_type"].text) == (
        400,
        '{"errors":["query param type must not be null"]}',
    )
    assert (answers["not_uuid"].status_code, answers["not_uuid"].text) == (
        404,
        '{"code":404,"message":"HTTP 404 Not Found"}',
    )


def test_served_needs_marquez(key_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    log.write_text("")
    result = CliRunner().invoke(cli, ["verify", str(log), "--public-key", str(key_dir / "public_key.pem"), "--served"])
    assert result.exit_code == 2 and "--served" in result.output
