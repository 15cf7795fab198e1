"""The Airflow plugin: fast checks of its parts, then real Airflow runs (SQLite, ``dag.test()``) whose signed
event logs must verify and carry the provenance facets.

The Airflow runs share one migrated database per session and run several DAGs per subprocess: one run in
the provider's default fork mode (both example DAGs, an Airflow tutorial DAG with no provlineage code, and
the edge cases), one with ``[openlineage] execute_in_thread = True``.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_plugin import markers
from airflow_plugin.markers import ProvenanceMarker, marker_of, provenance
from airflow_plugin.recognition import kind_from_task_id, task_words
from airflow_plugin.settings import Settings, read_settings
from provlineage.errors import ConfigError
from provlineage.keys import Keyring
from provlineage.verification import verify_files

from conftest_airflow import (
    AIRFLOW_SECRETS,
    EDGE_DAG,
    PREDICT_DAG,
    TRAIN_DAG,
    TUTORIAL_DAG,
    AirflowRun,
    clean_env,
)

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_DAGS = REPO / "examples" / "dags"


# --- parts, without running Airflow --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("task_id", "kind"),
    [
        ("train_model", "training"),
        ("model_training", "training"),
        ("group.fitModel", "training"),
        ("profit_report", None),
        ("batch_predict", "inference"),
        ("scoring_job", "inference"),
        ("evaluate_trained_model", "evaluation"),
        ("train_and_evaluate", "training"),
        ("extract", None),
    ],
)
def test_task_ids_are_recognised_by_their_words(task_id: str, kind: str | None) -> None:
    assert kind_from_task_id(task_id, Settings()) == kind


def test_task_words_split_groups_case_and_digits() -> None:
    assert task_words("group.trainModel_v2") == ["group", "train", "model", "v"]


def test_provenance_marks_functions_and_operators_in_any_order() -> None:
    def fit() -> None: ...

    marked = provenance("training", model="/models/m.pkl", hyperparameters=["lr"])(fit)
    assert marked is fit
    assert marker_of(type("Op", (), {"python_callable": fit})()) == ProvenanceMarker(
        "training", models=("/models/m.pkl",), hyperparameters=("lr",)
    )

    class Operator:
        task_id = "bash_scoring"

    operator = provenance("none")(Operator())
    assert marker_of(operator) == ProvenanceMarker("none")
    assert not marker_of(operator).captures

    class XComArg:  # what calling a @task returns: the marker lands on the operator's callable
        operator = type("Decorated", (), {"task_id": "t", "python_callable": staticmethod(lambda: None)})()

    provenance("evaluation")(XComArg())
    assert marker_of(XComArg.operator).wants_metrics


def test_provenance_rejects_unknown_kinds() -> None:
    with pytest.raises(ConfigError, match="unknown provenance kind 'learning'"):
        provenance("learning")
    with pytest.raises(ConfigError, match="cannot mark int"):
        provenance("training")(3)


class _Conf:
    """Stands in for Airflow's config object (``get(section, key, fallback=)``)."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def get(self, section: str, key: str, fallback: Any = None) -> Any:
        return self.values.get(key, fallback) if section == "provlineage" else fallback


def test_settings_parse_values_and_fall_back_on_bad_ones(caplog: pytest.LogCaptureFixture) -> None:
    parsed = read_settings(_Conf({"training_tasks": "Train; learn", "enabled": "off", "manifest_limit": "10"}))
    assert (parsed.training_tasks, parsed.enabled, parsed.manifest_limit) == (("train", "learn"), False, 10)
    broken = read_settings(_Conf({"manifest_limit": "many", "hash_remote": "maybe", "secret_pattern": "("}))
    assert (broken.manifest_limit, broken.hash_remote, broken.secret_pattern) == (1000, False, None)
    assert len(broken.problems) == 3
    assert "AIRFLOW__PROVLINEAGE__MANIFEST_LIMIT" in caplog.text


def test_metrics_accept_a_flat_dict_or_an_explicit_shape() -> None:
    from airflow_plugin.metrics import metrics_facet

    flat = metrics_facet({"accuracy": 0.9, "ok": True, "note": "x", "n": 10}, ("file", "/data/test.csv"))
    assert flat.metrics == {"accuracy": 0.9, "n": 10}
    assert flat.dataset == {"namespace": "file", "name": "/data/test.csv"}
    shaped = metrics_facet(
        {
            "metrics": {"auc": float("nan")},
            "dataset": "s3://b/eval.parquet",
            "slices": [{"name": "eu", "metrics": {"auc": 0.8}}, {"bad": 1}],
        },
        None,
    )
    assert shaped.metrics == {"auc": "NaN"}
    assert shaped.dataset == {"namespace": "s3://b", "name": "eval.parquet"}
    assert shaped.slices == [{"name": "eu", "metrics": {"auc": 0.8}}]
    assert metrics_facet([0.9], None) is None
    assert metrics_facet({"label": "x"}, None) is None


def test_arguments_are_bound_by_name_without_context_values() -> None:
    from airflow_plugin.arguments import bound_arguments as _bound_arguments

    def train(data: str, lr: float = 0.1, *extra: int, ti: Any = None, **options: Any) -> None: ...

    bound = _bound_arguments(train, ["/d.csv"], {"lr": 0.5, "depth": 3, "dag_run": object()}, {"ti", "dag_run"})
    assert bound == {"data": "/d.csv", "lr": 0.5, "depth": 3}


def test_annotate_adds_facets_to_copies_and_appends_missing_datasets() -> None:
    from openlineage.client.event_v2 import Dataset

    from airflow_plugin.facets import annotate

    declared = Dataset(namespace="file", name="/a.csv", facets={})
    annotated = annotate([declared], {("file", "/a.csv"): {"x": 1}, ("file", "/b.csv"): {"y": 2}})
    assert declared.facets == {}
    assert [(d.name, d.facets) for d in annotated] == [("/a.csv", {"x": 1}), ("/b.csv", {"y": 2})]


@pytest.mark.airflow
def test_plugin_registers_no_listener_when_disabled(tmp_path: Path) -> None:
    code = "from airflow_plugin.plugin import ProvlineagePlugin as P; print(len(P.listeners), P.name)"
    base = {**clean_env(tmp_path), "AIRFLOW__OPENLINEAGE__TRANSPORT": '{"type": "console"}'}
    enabled = subprocess.run([sys.executable, "-c", code], env=base, capture_output=True, text=True, check=True)
    disabled = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "AIRFLOW__PROVLINEAGE__ENABLED": "False"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert enabled.stdout.split() == ["1", "provlineage"]
    assert disabled.stdout.split() == ["0", "provlineage"]


def _provlineage_keys(facets: dict[str, Any] | None) -> set[str]:
    return {key for key in facets or {} if key.startswith("provlineage_")}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def keyring(key_dir: Path) -> Iterator[Keyring]:
    yield Keyring.from_files([key_dir / "public_key.pem"])


@pytest.mark.airflow
@pytest.mark.parametrize("run_name", ["forked_run", "threaded_run"])
def test_every_event_is_signed_and_the_log_verifies(
    run_name: str, request: pytest.FixtureRequest, keyring: Keyring
) -> None:
    run: AirflowRun = request.getfixturevalue(run_name)
    report = verify_files([run.log], keyring)
    assert report.ok, report.to_json()
    task_events = [e for e in run.events if "." in e["job"]["name"]]
    assert task_events and all("provlineage_signature" in e["run"]["facets"] for e in run.events)
    assert all("provlineage_environment" in e["run"]["facets"] for e in task_events)
    assert {e["eventType"] for e in task_events} >= {"START", "COMPLETE", "FAIL"}


@pytest.mark.airflow
def test_training_dag_records_hashes_hyperparameters_model_and_metrics(
    forked_run: AirflowRun, airflow_home: Path
) -> None:
    assert forked_run.results[TRAIN_DAG]["state"] == "success"
    data = airflow_home / "data"
    prepare = forked_run.task_events(TRAIN_DAG, "prepare_data")
    assert {o["name"]: o["facets"]["provlineage_datasetHash"]["digest"] for o in prepare["COMPLETE"]["outputs"]} == {
        str(data / "data" / "train.csv"): _sha256(data / "data" / "train.csv"),
        str(data / "data" / "test.csv"): _sha256(data / "data" / "test.csv"),
    }
    assert all("provlineage_datasetHash" not in o.get("facets", {}) for o in prepare["START"]["outputs"])

    train = forked_run.task_events(TRAIN_DAG, "train_model")
    for event in (train["START"], train["COMPLETE"]):
        [train_input] = event["inputs"]
        assert train_input["facets"]["provlineage_datasetHash"]["digest"] == _sha256(data / "data" / "train.csv")
        parameters = event["run"]["facets"]["provlineage_hyperparameters"]
        assert parameters["parameters"]["learning_rate"] == 0.5  # rendered from "{{ params.learning_rate }}"
        assert parameters["parameters"]["epochs"] == 60
        assert parameters["parameters"]["tracking_api_key"] == "***"
        assert parameters["redactedKeys"] == ["tracking_api_key"]
    [model] = train["COMPLETE"]["outputs"]
    model_path = data / "models" / "churn_model.json"
    assert (model["namespace"], model["name"]) == ("file", str(model_path))
    assert model["facets"]["provlineage_model"]["digest"] == f"sha256:{_sha256(model_path)}"
    assert model["facets"]["provlineage_model"]["name"] == "churn-logreg"
    assert model["facets"]["provlineage_model"]["framework"] == "python-stdlib"

    evaluate = forked_run.task_events(TRAIN_DAG, "evaluate_model")
    metrics = evaluate["COMPLETE"]["run"]["facets"]["provlineage_metrics"]
    assert set(metrics["metrics"]) == {"accuracy", "precision", "recall", "log_loss", "rows"}
    assert 0.5 < metrics["metrics"]["accuracy"] <= 1.0
    assert metrics["dataset"] == {"namespace": "file", "name": str(data / "data" / "test.csv")}
    assert "provlineage_metrics" not in evaluate["START"]["run"]["facets"]


@pytest.mark.airflow
@pytest.mark.parametrize("run_name", ["forked_run", "threaded_run"])
def test_inference_reads_the_model_the_training_dag_wrote(
    run_name: str, request: pytest.FixtureRequest, forked_run: AirflowRun
) -> None:
    run: AirflowRun = request.getfixturevalue(run_name)
    assert run.results[PREDICT_DAG]["state"] == "success"
    [trained_model] = forked_run.task_events(TRAIN_DAG, "train_model")["COMPLETE"]["outputs"]
    predict = run.task_events(PREDICT_DAG, "predict_churn")
    inputs = {(d["namespace"], d["name"]): d for d in predict["START"]["inputs"]}
    model_input = inputs[(trained_model["namespace"], trained_model["name"])]
    assert (
        model_input["facets"]["provlineage_model"]["digest"] == trained_model["facets"]["provlineage_model"]["digest"]
    )
    [predictions] = predict["COMPLETE"]["outputs"]
    assert predictions["name"].endswith("churn_predictions.csv")
    assert predictions["facets"]["provlineage_datasetHash"]["digest"] == _sha256(Path(predictions["name"]))
    assert predict["COMPLETE"]["run"]["facets"]["provlineage_hyperparameters"]["parameters"]["threshold"] == 0.5


@pytest.mark.airflow
def test_a_dag_without_provlineage_code_runs_unchanged_and_signed(forked_run: AirflowRun) -> None:
    assert forked_run.results[TUTORIAL_DAG] == {
        "state": "success",
        "tasks": {"extract": "success", "transform": "success", "load": "success"},
    }
    for task_id in ("extract", "transform", "load"):
        events = forked_run.task_events(TUTORIAL_DAG, task_id)
        assert set(events) == {"START", "COMPLETE"}
        for event in events.values():
            assert _provlineage_keys(event["run"]["facets"]) == {"provlineage_environment", "provlineage_signature"}


@pytest.mark.airflow
@pytest.mark.parametrize("run_name", ["forked_run", "threaded_run"])
def test_failures_never_change_a_task_outcome(run_name: str, request: pytest.FixtureRequest) -> None:
    run: AirflowRun = request.getfixturevalue(run_name)
    assert run.results[EDGE_DAG]["tasks"] == {
        "train_with_broken_inlet": "success",
        "crash": "failed",
        "train_classifier": "success",
        "evaluate_classifier": "success",
    }
    assert (
        "provlineage: hashing inlet file:///nonexistent/provlineage/missing.csv failed for task provlineage_edge_cases.train_with_broken_inlet"
        in run.output
    )

    broken = run.task_events(EDGE_DAG, "train_with_broken_inlet")
    [missing] = broken["COMPLETE"]["inputs"]
    assert "provlineage_datasetHash" not in missing.get("facets", {})
    [written] = broken["COMPLETE"]["outputs"]
    assert written["facets"]["provlineage_model"]["format"] == "pkl"  # *.pkl is a model by file name
    assert broken["COMPLETE"]["run"]["facets"]["provlineage_hyperparameters"]["parameters"]["db_password"] == "***"
    assert "hunter2-secret" not in run.log.read_text()

    crash = run.task_events(EDGE_DAG, "crash")
    assert set(crash) == {"START", "FAIL"}
    assert "intentional failure" in crash["FAIL"]["run"]["facets"]["errorMessage"]["message"]
    assert _provlineage_keys(crash["FAIL"]["run"]["facets"]) >= {"provlineage_environment", "provlineage_signature"}


@pytest.mark.airflow
def test_events_match_the_openlineage_and_facet_schemas(forked_run: AirflowRun, event_validator: Any) -> None:
    assert forked_run.events, "the DAG run emitted no events to validate"
    for event in forked_run.events:
        event_validator(event)


def test_markers_module_imports_nothing_from_airflow() -> None:
    source = Path(markers.__file__).read_text()
    assert "import airflow" not in source and "from airflow" not in source


def test_custom_run_facets_function_reads_the_stored_record() -> None:
    from types import SimpleNamespace

    from airflow_plugin import store
    from airflow_plugin.facets import provlineage_run_facets
    from provlineage.environment import collect_environment
    from provlineage.hyperparameters import hyperparameters_facet

    environment = collect_environment()
    ti = SimpleNamespace(dag_id="d", task_id="train", run_id="r", try_number=1, map_index=-1)
    record = store.TaskRecord(environment=environment, hyperparameters=hyperparameters_facet({"lr": 0.1}), metrics="m")
    store.put(store.task_key(ti), record)
    assert provlineage_run_facets(ti, "running") == {
        "provlineage_environment": environment,
        "provlineage_hyperparameters": record.hyperparameters,
    }
    completed = provlineage_run_facets(ti, "success")
    assert completed["provlineage_metrics"] == "m"
    # #11 item 7: the distribution list once per task run (START); the other events carry its digest and count
    assert environment.distributions and completed["provlineage_environment"].distributions is None
    assert completed["provlineage_environment"].distributionsDigest == environment.distributionsDigest
    assert completed["provlineage_environment"].distributionCount == len(environment.distributions)


# --- #15 item 5: templated literals -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rendered", "expected"),
    [
        ("0.1", 0.1),
        (" 60 ", 60),
        ("-3", -3),
        ("1e-4", 1e-4),
        ("True", True),
        ("None", None),
        ("007", "007"),
        ("nan", "nan"),
        ("1,5", "1,5"),
        ("[1, 2]", "[1, 2]"),
        ("'quoted'", "'quoted'"),
        ("churn-model", "churn-model"),
    ],
)
def test_templated_strings_become_numbers_only_when_they_spell_one(rendered: str, expected: Any) -> None:
    from airflow_plugin.literals import natives

    converted = natives({"value": rendered}, {"value": "{{ params.value }}"})["value"]
    assert converted == expected and type(converted) is type(expected)


def test_strings_the_dag_author_typed_stay_strings() -> None:
    from airflow_plugin.literals import natives

    rendered = {"typed": "0.1", "templated": "0.1", "nested": ["5", {"k": "2"}]}
    original = {"typed": "0.1", "templated": "{{ params.lr }}", "nested": ["{{ x }}", {"k": "{% if a %}2{% endif %}"}]}
    assert natives(rendered, original) == {"typed": "0.1", "templated": 0.1, "nested": [5, {"k": 2}]}


# --- #11 item 2: Airflow's secrets masker --------------------------------------------------------------------
def test_airflow_masker_hides_registered_secrets_under_any_name() -> None:
    from airflow.sdk._shared.secrets_masker import mask_secret

    from airflow_plugin.masking import mask_with_airflow

    mask_secret("Registered-Conn-Pw/91")  # what reading a connection does in the task process
    values = {
        "target": "postgresql://etl:Registered-Conn-Pw/91@db/prod",
        "upstream": "Registered-Conn-Pw/91",
        "encoded": "postgresql://etl:Registered-Conn-Pw%2F91@db/prod",  # Connection.get_uri() percent-encodes
        "nested": {"api_key": "abc-not-registered", "keep": [1, "plain"]},
        "lr": 0.1,
    }
    masked, paths = mask_with_airflow(values)
    assert masked == {
        "target": "postgresql://etl:***@db/prod",
        "upstream": "***",
        "encoded": "***",
        "nested": {"api_key": "***", "keep": [1, "plain"]},
        "lr": 0.1,
    }
    assert sorted(paths) == ["encoded", "nested.api_key", "target", "upstream"]


# --- #15 item 7: one story in the task log for an event that was not recorded -------------------------------
BAD_KEY = """
import datetime, uuid
from airflow.providers.openlineage.plugins.adapter import OpenLineageAdapter
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from airflow_plugin.provider import report_failures_through_provider

adapter = OpenLineageAdapter()
adapter.get_openlineage_config = lambda: {"transport": {
    "type": "provlineage.transport.SigningTransport", "private_key": "/nonexistent/provlineage/private_key.pem",
    "state_dir": "state", "transport": {"type": "provlineage.transport.FileLogTransport", "path": "events.jsonl"}}}
report_failures_through_provider(adapter)
adapter.emit(RunEvent(eventType=RunState.START, eventTime=datetime.datetime.now(datetime.timezone.utc).isoformat(),
                      run=Run(runId=str(uuid.uuid4())), job=Job(namespace="default", name="dag.task"), producer="p"))
"""


@pytest.mark.airflow
def test_an_unrecorded_event_is_one_failure_line_with_the_reason_and_fix(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", BAD_KEY], cwd=tmp_path, env=clean_env(tmp_path), capture_output=True, text=True
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert "Successfully emitted" not in log and "lineage event not recorded" not in log
    [line] = [line for line in log.splitlines() if "Failed to emit OpenLineage `START` event" in line]
    assert "/nonexistent/provlineage/private_key.pem does not exist" in line and "provlineage keygen" in line


# --- secrets, templated values, the model among inlets, the code that ran, event size (real Airflow runs) ----
@pytest.mark.airflow
@pytest.mark.parametrize("run_name", ["forked_run", "threaded_run"])
def test_no_airflow_secret_shape_appears_anywhere_in_the_signed_log(
    run_name: str, request: pytest.FixtureRequest
) -> None:
    run: AirflowRun = request.getfixturevalue(run_name)
    text = run.log.read_text()
    leaked = {shape: secret for shape, secret in AIRFLOW_SECRETS.items() if secret in text}
    assert not leaked, leaked
    train = run.task_events(EDGE_DAG, "train_classifier")
    for event in (train["START"], train["COMPLETE"]):
        facet = event["run"]["facets"]["provlineage_hyperparameters"]
        parameters = facet["parameters"]
        assert parameters["target"].endswith("://etl_user:***@db.internal:5432/prod")  # {{ conn.prod_db.get_uri() }}
        assert parameters["upstream"] == "***"  # {{ conn.prod_db.password }}: only Airflow's masker knows it
        assert parameters["header"] == "Token ***"  # {{ var.value.service_token }}
        assert "Lit3ral" not in parameters["mirror"] and "***" in parameters["mirror"]
        assert "***" in parameters["warehouse"]  # a DAG param
        assert {"target", "upstream", "header", "mirror", "warehouse"} <= set(facet["redactedKeys"])
    broken = run.task_events(EDGE_DAG, "train_with_broken_inlet")["START"]["run"]["facets"]
    assert "***" in broken["provlineage_hyperparameters"]["parameters"]["endpoint"]  # a TaskFlow default


@pytest.mark.airflow
def test_templated_numbers_are_recorded_as_numbers(forked_run: AirflowRun) -> None:
    parameters = forked_run.task_events(EDGE_DAG, "train_classifier")["START"]["run"]["facets"][
        "provlineage_hyperparameters"
    ]["parameters"]
    assert parameters["lr"] == 0.1 and isinstance(parameters["lr"], float)  # "{{ params.lr }}" rendered as "0.1"
    assert parameters["epochs"] == 12  # "{{ 3 * 4 }}"
    assert parameters["typed"] == "0.5"  # a string the author typed stays a string


@pytest.mark.airflow
def test_an_evaluated_model_without_group_model_is_recognised_among_the_inlets(
    forked_run: AirflowRun, airflow_home: Path
) -> None:
    evaluate = forked_run.task_events(EDGE_DAG, "evaluate_classifier")["COMPLETE"]
    edge = airflow_home / "data" / "edge"
    metrics = evaluate["run"]["facets"]["provlineage_metrics"]
    assert metrics["dataset"] == {"namespace": "file", "name": str(edge / "holdout.csv")}
    inputs = {d["name"]: d["facets"] for d in evaluate["inputs"]}
    assert "provlineage_model" in inputs[str(edge / "classifier.json")]
    assert "provlineage_model" not in inputs[str(edge / "holdout.csv")]


@pytest.mark.airflow
def test_the_dag_file_is_the_code_that_ran_and_the_package_list_is_on_start_only(
    forked_run: AirflowRun, airflow_home: Path
) -> None:
    dag_file = airflow_home / "dags" / "edge_cases_dag.py"
    for task_id in ("train_classifier", "crash"):
        events = forked_run.task_events(EDGE_DAG, task_id)
        start = events["START"]["run"]["facets"]["provlineage_environment"]
        assert start["entryFile"] == {"path": dag_file.name, "digest": f"sha256:{_sha256(dag_file)}"}
        assert start["distributionCount"] == len(start["distributions"]) > 10
        for event_type in set(events) - {"START"}:
            later = events[event_type]["run"]["facets"]["provlineage_environment"]
            assert "distributions" not in later
            assert later["distributionsDigest"] == start["distributionsDigest"]
            assert later["distributionCount"] == start["distributionCount"]
            assert later["entryFile"] == start["entryFile"]


@pytest.mark.airflow
def test_lineage_still_answers_which_versions_ran_from_the_verified_start(
    forked_run: AirflowRun, keyring: Keyring
) -> None:
    from provlineage.lineage import lineage_from_files

    lineage = lineage_from_files([forked_run.log], keyring)
    events = forked_run.task_events(TRAIN_DAG, "train_model")
    start = events["START"]["run"]["facets"]["provlineage_environment"]
    [run] = [run for run in lineage.runs.values() if run.run_id == events["COMPLETE"]["run"]["runId"]]
    assert [event.event_type for event in run.events][-1] == "COMPLETE"
    environment = run.facet("provlineage_environment")
    assert environment is not None and environment["distributions"] == start["distributions"]


def test_a_model_whose_file_cannot_be_hashed_keeps_its_name_and_lacks_only_the_digest(tmp_path: Path) -> None:
    """#15 item 11 on the Airflow side: the model is recorded (and flagged by lineage), not dropped."""
    from airflow_plugin.capture import _hash_all
    from airflow_plugin.datasets import DeclaredDataset
    from airflow_plugin.markers import ProvenanceMarker
    from airflow_plugin.settings import settings

    missing = tmp_path / "models" / "churn.pkl"
    model = DeclaredDataset(
        ("file", str(missing)), str(missing), f"file://{missing}", is_model=True, model_name="churn"
    )
    data = DeclaredDataset(("file", str(tmp_path / "gone.csv")), str(tmp_path / "gone.csv"), "file:///gone.csv")
    marker = ProvenanceMarker("training", model_version="7", framework="sklearn")
    hashed = _hash_all([model, data], "outlet", None, marker, settings())
    assert list(hashed) == [model.identity]  # an ordinary dataset that cannot be hashed just has no facet
    facet = hashed[model.identity]["provlineage_model"]
    assert (facet.name, facet.digest, facet.version, facet.framework, facet.format) == (
        "churn",
        None,
        "7",
        "sklearn",
        "pkl",
    )
