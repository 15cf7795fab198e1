"""``provlineage export neo4j`` against a real Neo4j (the test harness, one server per session).

The demo's events and the example DAGs' events (from the session's real Airflow runs) are imported through the
CLI; every audit question of the README is asked in Cypher and compared with what ``provlineage lineage``
answers offline from the same verified record.  A tampered event stays out and is reported; importing again
changes nothing; importing a grown log adds exactly what a single import of the whole log would hold.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from provlineage.cli import cli
from provlineage.keys import Keyring
from provlineage.lineage import lineage_from_files
from provlineage.lineage.graph import Lineage
from provlineage.lineage.queries import ask_report
from provlineage.lineage.views import model_view

from conftest_airflow import AirflowRun
from fixtures.neo4j import Neo4jServer
from fixtures.neo4j_audit import ask, snapshot

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``provlineage demo`` run once, in a process of its own with the user's OpenLineage settings neutralised."""
    directory = tmp_path_factory.mktemp("neo4j-demo")
    env = {
        **os.environ,
        "OPENLINEAGE__TRANSPORT__TYPE": "console",
        "PROVLINEAGE_CACHE_DIR": str(directory / "hash-cache"),
    }
    env.pop("OPENLINEAGE_CONFIG", None)
    env.pop("PROVLINEAGE_INFERENCE_LOG", None)
    done = subprocess.run(
        [sys.executable, "-c", "from provlineage.cli import main; main()", "demo", "--dir", str(directory / "demo")],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return directory / "demo"


def export(server: Neo4jServer, logs: list[Path], key: Path, *extra: str) -> Any:
    args = ["export", "neo4j", *map(str, logs), "--public-key", str(key), "--uri", server.uri, *extra]
    return CliRunner().invoke(cli, args, env={"NEO4J_PASSWORD": None})


def offline(logs: list[Path], key: Path) -> Lineage:
    return lineage_from_files(logs, Keyring.from_files([key]))


def check_audit_answers(driver: Any, lineage: Lineage) -> None:
    """Each audit question in Cypher gives what the offline lineage gives."""
    versions = {(v.name, v.digest): model_view(lineage, v) for v in lineage.models}
    datasets = {
        key[1]
        for run in lineage.runs.values()
        for key in [*run.inputs, *run.outputs]
        if not lineage.datasets[key].is_model
    }
    assert {row["path"] for row in ask(driver, "all datasets")} == datasets

    expected_parameters = {}
    for version in lineage.models:
        training = [lineage.runs[r] for r in version.training_runs]
        facet = max(training, key=lambda run: run.end_key).facet("provlineage_hyperparameters") if training else None
        expected_parameters[(version.name, version.digest)] = facet["parameters"] if facet else None
    got_parameters = {
        (row["name"], row["commit"]): json.loads(row["hyperparameters"]) if row["hyperparameters"] else None
        for row in ask(driver, "models with hyperparameters")
    }
    assert got_parameters == expected_parameters

    trained_on = {key: sorted({ref.name for ref in view.training_datasets}) for key, view in versions.items()}
    got_trained_on = {(r["model"], r["commit"]): sorted(set(r["datasets"])) for r in ask(driver, "datasets per model")}
    assert got_trained_on == {key: names for key, names in trained_on.items() if names}

    report = ask_report(lineage).body
    multi = {(m.name, m.digest) for m in report.multi_dataset}  # type: ignore[attr-defined]
    assert {(r["name"], r["commit"]) for r in ask(driver, "multi-dataset models")} == multi
    without = {(m.name, m.digest or f"undigested:{m.namespace}/{m.dataset_name}") for m in report.without_provenance}  # type: ignore[attr-defined]
    assert {(r["name"], r["commit"]) for r in ask(driver, "models without provenance")} == without


def test_demo_events_answer_every_audit_question(neo4j_server: Neo4jServer, neo4j_db: Any, demo_dir: Path) -> None:
    log, key = demo_dir / "lineage.jsonl", demo_dir / "keys" / "public_key.pem"
    result = export(neo4j_server, [log], key)
    assert result.exit_code == 0, result.output
    assert "4 verified of 4 records" in result.output and "inferences 300" in result.output

    constraints = {r["name"] for r in neo4j_db.execute_query("SHOW CONSTRAINTS YIELD name").records}
    assert {"provlineage_dataset_hash", "provlineage_model_name_commit", "provlineage_inference_id"} <= constraints

    lineage = offline([log], key)
    check_audit_answers(neo4j_db, lineage)
    [version] = lineage.models
    assert ask(neo4j_db, "models with hyperparameters")[0]["name"] == "churn-logreg"
    assert json.loads(ask(neo4j_db, "models with hyperparameters")[0]["hyperparameters"])["tracking_api_key"] == "***"

    records = [json.loads(line) for line in (demo_dir / "lineage.inferences.jsonl").read_text().splitlines()]
    scored = {r["id"]: r for r in records if r.get("type") == "inference"}
    inferences = ask(neo4j_db, "inferences")
    assert {row["id"] for row in inferences} == set(scored)
    for row in inferences:
        record = scored[row["id"]]
        assert (row["input"], row["output"]) == (
            json.dumps(record["input"], sort_keys=True) if "input" in record else record["inputDigest"],
            json.dumps(record["output"], sort_keys=True) if "output" in record else record["outputDigest"],
        )
    training_sets = {ref.name for ref in model_view(lineage, version).training_datasets}
    chain = ask(neo4j_db, "chain")
    assert {(r["dataset"], r["inference"]) for r in chain} == {(d, i) for d in training_sets for i in scored}

    [node] = neo4j_db.execute_query("MATCH (m:Model) RETURN m AS m").records
    assert node["m"]["verified"] is True and node["m"]["keyIds"] == lineage.runs[version.training_runs[0]].key_ids
    slices = neo4j_db.execute_query(
        "MATCH (:Run)-[:MEASURED]->(x:Metric) RETURN x.slice AS slice, x.name AS name, x.value AS value"
    ).records
    assert slices, "the training run's metrics are in the graph"


def test_example_dags_events_answer_every_audit_question(
    neo4j_server: Neo4jServer, neo4j_db: Any, forked_run: AirflowRun, threaded_run: AirflowRun, key_dir: Path
) -> None:
    logs, key = [forked_run.log, threaded_run.log], key_dir / "public_key.pem"
    result = export(neo4j_server, logs, key)
    lineage = offline(logs, key)
    assert result.exit_code == (0 if not lineage.unverified and not lineage.chain else 1), result.output
    check_audit_answers(neo4j_db, lineage)
    paths = {
        (m["m"]["name"], m["m"]["commit"]): m["m"]["path"]
        for m in neo4j_db.execute_query("MATCH (m:Model) RETURN m").records
    }
    trained = {paths[(r["model"], r["commit"])]: set(r["datasets"]) for r in ask(neo4j_db, "datasets per model")}
    [churn] = [datasets for path, datasets in trained.items() if path.endswith("models/churn_model.json")]
    assert any(path.endswith("data/train.csv") for path in churn), churn
    without = {paths[(r["name"], r["commit"])] for r in ask(neo4j_db, "models without provenance")}
    assert any(path.endswith("edge/model.pkl") for path in without), without  # its inlet file does not exist
    runs = neo4j_db.execute_query("MATCH (r:Run)-[:OF_JOB]->(j:Job) RETURN count(r) AS n").records[0]["n"]
    assert runs == len(lineage.runs)


def test_a_tampered_event_is_not_imported_and_is_reported(
    neo4j_server: Neo4jServer, neo4j_db: Any, demo_dir: Path, tmp_path: Path
) -> None:
    log = tmp_path / "lineage.jsonl"
    lines = (demo_dir / "lineage.jsonl").read_text().splitlines()
    event = json.loads(lines[1])  # the training run's COMPLETE, with the hyperparameters
    event["run"]["facets"]["provlineage_hyperparameters"]["parameters"]["C"] = "TAMPERED-VALUE"
    lines[1] = json.dumps(event, separators=(",", ":"))
    log.write_text("\n".join(lines) + "\n")
    shutil.copy(demo_dir / "lineage.inferences.jsonl", tmp_path / "lineage.inferences.jsonl")

    result = export(neo4j_server, [log], demo_dir / "keys" / "public_key.pem")
    assert result.exit_code == 1, result.output
    assert "LEFT OUT" in result.output and f"{log}:2" in result.output
    nodes, rels = snapshot(neo4j_db)
    assert nodes and not any("TAMPERED-VALUE" in text for text in nodes + rels)


def test_a_second_import_changes_nothing(neo4j_server: Neo4jServer, neo4j_db: Any, demo_dir: Path) -> None:
    log, key = demo_dir / "lineage.jsonl", demo_dir / "keys" / "public_key.pem"
    assert export(neo4j_server, [log], key).exit_code == 0
    before = snapshot(neo4j_db)
    again = export(neo4j_server, [log], key)
    assert again.exit_code == 0 and "runs written 0" in again.output, again.output
    assert snapshot(neo4j_db) == before
    forced = export(neo4j_server, [log], key, "--full")
    assert forced.exit_code == 0 and "runs written 2" in forced.output, forced.output
    assert snapshot(neo4j_db) == before


def test_a_grown_log_adds_only_its_new_part(
    neo4j_server: Neo4jServer, neo4j_db: Any, demo_dir: Path, tmp_path: Path
) -> None:
    full_log, key = demo_dir / "lineage.jsonl", demo_dir / "keys" / "public_key.pem"
    assert export(neo4j_server, [full_log], key).exit_code == 0
    in_one_go = snapshot(neo4j_db)

    from fixtures.neo4j import wipe

    wipe(neo4j_db)
    log = tmp_path / "lineage.jsonl"
    lines = full_log.read_text().splitlines(keepends=True)
    shutil.copy(demo_dir / "lineage.inferences.jsonl", tmp_path / "lineage.inferences.jsonl")
    log.write_text("".join(lines[:3]))  # training, and the START of the prediction run
    first = export(neo4j_server, [log], key, "--inference-log", str(demo_dir / "lineage.inferences.jsonl"))
    assert first.exit_code == 0 and "runs written 2" in first.output, first.output
    log.write_text("".join(lines))
    grown = export(neo4j_server, [log], key, "--inference-log", str(demo_dir / "lineage.inferences.jsonl"))
    assert grown.exit_code == 0 and "runs written 1" in grown.output and "inferences 300" in grown.output, grown.output
    assert snapshot(neo4j_db) == in_one_go


def test_marquez_as_the_source_imports_the_same_graph(
    neo4j_server: Neo4jServer, neo4j_db: Any, demo_dir: Path, marquez_server: Any
) -> None:
    """``--marquez URL`` (here the repository's Marquez contract reproduction, not a real Marquez) as the source."""
    import requests

    log, key = demo_dir / "lineage.jsonl", demo_dir / "keys" / "public_key.pem"
    assert export(neo4j_server, [log], key).exit_code == 0
    from_file = snapshot(neo4j_db)

    from fixtures.neo4j import wipe

    wipe(neo4j_db)
    for line in log.read_text().splitlines():
        posted = requests.post(
            f"{marquez_server.url}/api/v1/lineage", data=line, headers={"Content-Type": "application/json"}, timeout=10
        )
        assert posted.status_code in (200, 201), posted.text
    args = ["export", "neo4j", "--marquez", marquez_server.url, "--public-key", str(key), "--uri", neo4j_server.uri]
    result = CliRunner().invoke(cli, args, env={"NEO4J_PASSWORD": None})
    assert result.exit_code == 0 and "inferences 300" in result.output, result.output
    assert snapshot(neo4j_db) == from_file


def test_an_altered_inference_log_keeps_its_run_inferences_out(
    neo4j_server: Neo4jServer, neo4j_db: Any, demo_dir: Path, tmp_path: Path
) -> None:
    log, key = demo_dir / "lineage.jsonl", demo_dir / "keys" / "public_key.pem"
    records = (demo_dir / "lineage.inferences.jsonl").read_text().splitlines()
    altered = json.loads(records[5])
    altered["outputDigest"] = "sha256:" + "0" * 64
    records[5] = json.dumps(altered, separators=(",", ":"), sort_keys=True)
    moved = tmp_path / "moved.inferences.jsonl"
    moved.write_text("\n".join(records) + "\n")

    result = export(neo4j_server, [log], key, "--inference-log", str(moved))
    assert result.exit_code == 1, result.output
    assert "root-mismatch" in result.output and str(moved) in result.output
    count = neo4j_db.execute_query("MATCH (i:Inference) RETURN count(i) AS n").records[0]["n"]
    assert count == 300  # the untouched log beside the event log still proves all 300
    digests = neo4j_db.execute_query("MATCH (i:Inference) RETURN collect(i.outputDigest) AS d").records[0]["d"]
    assert altered["outputDigest"] not in digests
