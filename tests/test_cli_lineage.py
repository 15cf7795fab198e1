"""``provlineage lineage`` on logs written by ``provlineage.track()`` through the real signing transport."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openlineage.client.client import OpenLineageClient
from prov.model import ProvDocument

import provlineage
from provlineage.cli import main
from provlineage.hashing import HashOptions
from provlineage.keys import write_key_pair
from provlineage.lineage.render_json import answer_schema
from provlineage.transport import SigningConfig, SigningTransport

NO_CACHE = HashOptions(use_cache=False, progress=False)


@dataclass
class TrackedDemo:
    """What the README's demo does: two datasets -> training -> model -> inference, all through track()."""

    root: Path
    log: Path
    public_key: Path
    train: Path
    extra: Path
    model: Path
    training_run: str
    inference_run: str
    inference_ids: list[str]

    def args(self, *question: str) -> list[str]:
        return ["lineage", str(self.log), "--public-key", str(self.public_key), *question]


def run_tracked_demo(root: Path, inner: dict[str, Any] | None = None) -> TrackedDemo:
    """Run the demo jobs; events go to ``root/lineage.jsonl`` unless ``inner`` names another backend."""
    keys = write_key_pair(root / "keys", "ed25519")
    log = root / "lineage.jsonl"

    def client() -> OpenLineageClient:
        config = {
            "private_key": str(keys.private_key),
            "state_dir": str(root / "state"),
            "strict": True,
            "transport": inner or {"type": "provlineage.transport.FileLogTransport", "path": str(log)},
        }
        return OpenLineageClient(transport=SigningTransport(SigningConfig.from_dict(config)))

    data = root / "data"
    (data / "extra").mkdir(parents=True)
    train, extra, model = data / "train.csv", data / "extra", root / "models" / "churn.json"
    train.write_text("tenure,churn\n1,0\n24,1\n")
    (extra / "a.csv").write_text("tenure,churn\n3,0\n")
    (extra / "b.csv").write_text("tenure,churn\n9,1\n")
    model.parent.mkdir()
    settings = {"namespace": "demo", "hash_options": NO_CACHE, "inference_log": root / "inferences.jsonl"}
    with provlineage.track("churn.train", kind="training", client=client(), **settings) as run:
        run.log_dataset(train)
        run.log_dataset(extra)
        run.log_hyperparameters({"learning_rate": 0.05, "epochs": 20, "api_key": "hunter2"})
        model.write_text('{"weights": [0.4, -1.2]}')
        run.log_model(model, name="churn", version="3", framework="numpy")
        run.log_metrics({"auc": 0.93})
        training_run = run.run_id
    with provlineage.track("churn.predict", kind="inference", client=client(), **settings) as run:
        run.log_model(model, name="churn", version="3", role="input")
        ids = [run.log_inference({"tenure": t}, {"churn": t > 12}) for t in (1, 13, 30)]
        inference_run = run.run_id
    return TrackedDemo(
        root, log, keys.public_key, train, extra, model, training_run, inference_run, [i for i in ids if i]
    )


@pytest.fixture(scope="session")
def tracked(tmp_path_factory: pytest.TempPathFactory) -> TrackedDemo:
    """One demo for the read-only tests."""
    return run_tracked_demo(tmp_path_factory.mktemp("tracked"))


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def test_model_question_answers_from_a_track_log(tracked: TrackedDemo, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = cli(capsys, *tracked.args("--model", "churn@3"))
    assert status == 0, err
    assert "MODEL churn@3" in out and f"file:{tracked.train}" in out and f"file:{tracked.extra}" in out
    assert (
        "learning_rate=0.05" in out and "api_key=***" in out and "(redacted: api_key)" in out and "hunter2" not in out
    )
    assert "auc=0.93" in out and f"inference run {tracked.inference_run}" in out
    assert "verified: 2 signed events" in out and out.rstrip().endswith("RESULT: answer verified")


def test_every_question_in_every_format(tracked: TrackedDemo, capsys: pytest.CaptureFixture[str]) -> None:
    schema = answer_schema()
    questions = [
        ("--model", "churn"),
        ("--dataset", str(tracked.extra)),
        ("--inference", tracked.inference_ids[1]),
        ("--run", tracked.training_run),
        ("--report",),
    ]
    for question in questions:
        status, out, err = cli(capsys, *tracked.args(*question, "--format", "json"))
        assert status == 0, (question, err)
        document = json.loads(out)
        Draft202012Validator(schema).validate(document)
        assert document["kind"] == question[0][2:] and document["ok"] is True
        status, out, _ = cli(capsys, *tracked.args(*question, "--format", "prov-json"))
        assert status == 0 and ProvDocument.deserialize(content=out, format="json").get_records()
        status, out, _ = cli(capsys, *tracked.args(*question, "--format", "dot"))
        assert status == 0 and out.startswith("digraph lineage {") and out.count("{") == out.count("}")
    status, out, _ = cli(capsys, *tracked.args("--inference", tracked.inference_ids[1], "--format", "json"))
    inference = json.loads(out)["answer"]["inference"]
    assert inference["proofVerified"] is True and inference["run"]["runId"] == tracked.inference_run
    assert [run["runId"] for run in inference["models"][0]["trainingRuns"]] == [tracked.training_run]
    assert {d["name"] for d in inference["models"][0]["trainingDatasets"]} == {str(tracked.train), str(tracked.extra)}


def test_dataset_question_reaches_the_model_downstream(
    tracked: TrackedDemo, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = cli(capsys, *tracked.args("--dataset", str(tracked.train)))
    assert status == 0
    assert f"DATASET file:{tracked.train}" in out and "models downstream (1)" in out and "churn@3" in out


def test_tampered_event_exits_1_and_is_listed_not_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo = run_tracked_demo(tmp_path)
    lines = demo.log.read_text().splitlines()
    assert '"learning_rate":0.05' in lines[1]
    lines[1] = lines[1].replace('"learning_rate":0.05', '"learning_rate":0.5')
    demo.log.write_text("\n".join(lines) + "\n")
    status, out, _ = cli(capsys, *demo.args("--run", demo.training_run))
    assert status == 1
    assert "learning_rate=0.5" not in out and "hyperparameters" not in out.split("UNVERIFIED RECORDS")[0]
    assert re.search(rf"FAILED +{re.escape(str(demo.log))}:2 +signature does not match", out)
    assert "CAVEAT unverified-record" in out and "RESULT: answer given, with problems: 1 unverified record(s)" in out


def test_check_files_reports_a_changed_dataset_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo = run_tracked_demo(tmp_path)
    status, out, _ = cli(capsys, *demo.args("--model", "churn", "--check-files"))
    assert status == 0 and "FILES ON DISK (3 checked)" in out and "CHANGED" not in out
    (demo.extra / "b.csv").write_text("tenure,churn\n9,0\n")
    (demo.extra / "c.csv").write_text("tenure,churn\n5,0\n")
    status, out, _ = cli(capsys, *demo.args("--model", "churn", "--check-files", "--format", "json"))
    assert status == 1
    document = json.loads(out)
    (changed,) = [check for check in document["fileChecks"] if check["status"] != "match"]
    assert (changed["name"], changed["added"], changed["changed"], changed["missing"]) == (
        str(demo.extra),
        ["c.csv"],
        ["b.csv"],
        [],
    )
    assert document["problems"] == ["1 dataset(s) no longer match their recorded digest"]
    demo.train.unlink()
    status, out, _ = cli(capsys, *demo.args("--report", "--check-files"))
    assert status == 1 and re.search(rf"MISSING +file:{re.escape(str(demo.train))}", out)


def test_unknown_model_is_a_one_line_error_that_suggests_report(
    tracked: TrackedDemo, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = cli(capsys, *tracked.args("--model", "fraud"))
    assert status == 2 and out == ""
    assert (
        err.count("\n") == 1
        and "no model 'fraud' in the 4 verified events" in err
        and "(known: churn@3)" in err
        and "--report" in err
    )


def test_answers_from_marquez_verify_what_marquez_gives_back(
    tmp_path: Path, marquez_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = run_tracked_demo(tmp_path, {"type": "http", "url": marquez_server.url})
    assert not demo.log.exists() and len(marquez_server.events) == 4
    marquez = ["lineage", "--marquez", marquez_server.url, "--public-key", str(demo.public_key)]
    status, out, err = cli(capsys, *marquez, "--inference", demo.inference_ids[0])
    assert status == 0, err
    assert "inclusion proof VERIFIED: leaf 0 of 3" in out and f"training run {demo.training_run}" in out
    assert f"{marquez_server.url.rstrip('/')}:" in out  # events are located by their position in Marquez's answer
    event = json.loads(json.dumps(marquez_server.events[1]))  # the training COMPLETE, as Marquez returns it
    event["run"]["facets"]["provlineage_hyperparameters"]["parameters"]["epochs"] = 2
    marquez_server.replace_event(1, event)
    status, out, _ = cli(capsys, *marquez, "--model", "churn", "--format", "json")
    document = json.loads(out)
    assert status == 1 and [u["status"] for u in document["unverified"]] == ["failed"]
    assert document["answer"]["models"][0]["trainingRuns"] == []  # the altered event trained nothing


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ((), "ask exactly one question"),
        (("--model", "churn", "--report"), "ask exactly one question"),
        (("--report", "--marquez", "http://127.0.0.1:9"), "give log files or --marquez URL"),
    ],
)
def test_usage_errors_exit_2(
    tracked: TrackedDemo, capsys: pytest.CaptureFixture[str], extra: tuple[str, ...], message: str
) -> None:
    status, _, err = cli(capsys, *tracked.args(*extra))
    assert status == 2 and message in err


@pytest.fixture
def dag_log(request: pytest.FixtureRequest) -> Path:
    """The example DAGs' signed log, from the session's shared Airflow run (tests/conftest_airflow.py)."""
    return Path(request.getfixturevalue("forked_run").log)


@pytest.mark.airflow
def test_lineage_of_the_example_dags(dag_log: Path, key_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["lineage", str(dag_log), "--public-key", str(key_dir / "public_key.pem")]
    status, out, err = cli(capsys, *args, "--model", "churn-logreg", "--format", "json")
    assert status == 0, err
    (model,) = json.loads(out)["answer"]["models"]
    (train,) = model["trainingRuns"]
    assert train["job"]["name"] == "provlineage_train_churn.train_model"
    assert train["parentJob"]["name"] == "provlineage_train_churn"
    assert train["hyperparameters"]["parameters"]["learning_rate"] == 0.5
    assert [Path(d["name"]).name for d in train["inputs"]] == ["train.csv"] and train["inputs"][0]["producedBy"]
    roles = {run["job"]["name"]: run["role"] for run in model["consumers"]}
    assert roles == {
        "provlineage_train_churn.evaluate_model": "evaluation",
        "provlineage_predict_churn.predict_churn": "inference",
    }
    status, out, _ = cli(capsys, *args, "--report", "--format", "json")
    report = json.loads(out)["answer"]
    assert status == 1 and [Path(m["dataset"]["name"]).name for m in report["withoutProvenance"]] == ["model.pkl"]


def test_installed_entry_point_prints_the_answer(tracked: TrackedDemo) -> None:
    command = [sys.executable, "-c", "from provlineage.cli import main; main()", *tracked.args("--report")]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONIOENCODING": "utf-8"}
    )
    assert result.returncode == 0, result.stderr
    assert (
        "MODELS TRAINED ON MORE THAN ONE DATASET (1)" in result.stdout
        and "MODELS WITHOUT DATASET PROVENANCE (0)" in result.stdout
    )
