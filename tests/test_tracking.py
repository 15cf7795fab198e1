"""provlineage.track(): the events a custom job emits, through a real OpenLineageClient and transport."""

from __future__ import annotations

import datetime as _dt
import json
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openlineage.client.client import OpenLineageClient
from openlineage.client.transport.file import FileConfig, FileTransport

import provlineage
from provlineage.errors import ConfigError, DeliveryError, HashingError
from provlineage.inference import prove_inference, verify_inclusion
from provlineage.tracking import current_run, job_type

Validator = Callable[[dict[str, Any]], None]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVLINEAGE_CACHE_DIR", str(tmp_path / "hash-cache"))
    monkeypatch.delenv("PROVLINEAGE_STRICT", raising=False)
    monkeypatch.delenv("PROVLINEAGE_INFERENCE_LOG", raising=False)
    monkeypatch.delenv("OPENLINEAGE_PARENT_ID", raising=False)


class Events:
    """A real OpenLineage file transport, and the events it wrote, each checked against the official schema."""

    def __init__(self, path: Path, validate: Validator) -> None:
        self.path = path
        self.client = OpenLineageClient(transport=FileTransport(FileConfig(log_file_path=str(path), append=True)))
        self._validate = validate

    def all(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        events = [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]
        for event in events:
            self._validate(event)
        return events

    def types(self) -> list[str]:
        return [event["eventType"] for event in self.all()]

    def last(self) -> dict[str, Any]:
        return self.all()[-1]


@pytest.fixture
def events(tmp_path: Path, event_validator: Validator) -> Events:
    return Events(tmp_path / "lineage.jsonl", event_validator)


def _dataset(event: dict[str, Any], role: str, name: str) -> dict[str, Any]:
    (found,) = [d for d in event[role] if d["name"] == name]
    return found


def test_start_and_complete_carry_job_type_environment_and_everything_logged(tmp_path: Path, events: Events) -> None:
    data = tmp_path / "train.csv"
    data.write_text("tenure,churn\n1,0\n2,1\n")
    with provlineage.track("churn.train", kind="training", namespace="ml", client=events.client) as run:
        assert current_run() is run
        assert events.types() == ["START"]
        ref = run.log_dataset(data, description="training rows")
    assert current_run() is None
    start, complete = events.all()
    assert [start["eventType"], complete["eventType"]] == ["START", "COMPLETE"]
    assert start["run"]["runId"] == complete["run"]["runId"] == run.run_id
    assert complete["job"] == {**complete["job"], "namespace": "ml", "name": "churn.train"}
    job_facet = complete["job"]["facets"]["jobType"]
    assert (job_facet["processingType"], job_facet["integration"], job_facet["jobType"]) == (
        "BATCH",
        "PROVLINEAGE",
        "TRAINING",
    )
    for event in (start, complete):
        assert "provlineage_environment" in event["run"]["facets"]
    assert start["inputs"] == []
    dataset = _dataset(complete, "inputs", str(data.resolve()))
    assert dataset["namespace"] == "file"
    digest = dataset["facets"]["provlineage_datasetHash"]
    assert (
        digest["digest"] == ref.digest.removeprefix("sha256:")
        and digest["kind"] == "file"
        and digest["size"] == data.stat().st_size
    )
    assert dataset["facets"]["documentation"]["description"] == "training rows"
    assert dataset["facets"]["version"]["datasetVersion"] == ref.digest


def test_job_types_are_upper_case_names_of_the_kind() -> None:
    assert job_type("inference") == "INFERENCE"
    assert job_type("feature-engineering") == "FEATURE_ENGINEERING"


def test_a_job_that_raises_emits_fail_and_the_exception_propagates(events: Events) -> None:
    def train() -> None:
        raise ValueError("learning rate exploded")

    with (
        pytest.raises(ValueError, match="learning rate exploded"),
        provlineage.track("churn.train", kind="training", client=events.client),
    ):
        train()
    start, fail = events.all()
    assert fail["eventType"] == "FAIL" and fail["run"]["runId"] == start["run"]["runId"]
    error = fail["run"]["facets"]["errorMessage"]
    assert error["message"] == "ValueError: learning rate exploded"
    assert error["programmingLanguage"] == "python"
    assert "in train" in error["stackTrace"] and "ValueError: learning rate exploded" in error["stackTrace"]


def test_keyboard_interrupt_aborts_and_exit_zero_completes(events: Events) -> None:
    with pytest.raises(KeyboardInterrupt), provlineage.track("job", kind="training", client=events.client):
        raise KeyboardInterrupt
    with pytest.raises(SystemExit), provlineage.track("job", kind="training", client=events.client):
        raise SystemExit(0)
    assert events.types() == ["START", "ABORT", "START", "COMPLETE"]


def test_decorator_makes_one_run_per_call_and_returns_the_result(events: Events) -> None:
    @provlineage.track("churn.score", kind="evaluation", client=events.client)
    def score(x: int) -> int:
        run = current_run()
        assert run is not None
        run.log_metrics({"x": x})
        return x * 2

    assert score(2) == 4 and score(3) == 6
    completes = [e for e in events.all() if e["eventType"] == "COMPLETE"]
    assert len({e["run"]["runId"] for e in completes}) == 2
    assert [e["run"]["facets"]["provlineage_metrics"]["metrics"] for e in completes] == [{"x": 2}, {"x": 3}]
    assert completes[0]["job"]["facets"]["jobType"]["jobType"] == "EVALUATION"


def test_async_functions_can_be_decorated(events: Events) -> None:
    import asyncio

    @provlineage.track("async.job", kind="inference", client=events.client)
    async def work() -> str:
        return "done"

    assert asyncio.run(work()) == "done"
    assert events.types() == ["START", "COMPLETE"]


def test_hyperparameters_are_merged_converted_and_redacted(events: Events) -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "Opaque()"

    with provlineage.track("churn.train", kind="training", client=events.client) as run:
        run.log_hyperparameters({"lr": 0.1, "epochs": 3, "api_key": "sk-123"})
        run.log_hyperparameters(
            {
                "lr": 0.05,
                "clip": math.inf,
                "tol": math.nan,
                "started": _dt.datetime(2026, 1, 2, 3, 4, 5),
                "layers": (64, 32),
                "tags": {"b", "a"},
                "seed_bytes": b"\x01\x02",
                "path": Path("/data/x"),
                "model": Opaque(),
                "db": {"host": "db", "password": "hunter2"},
            }
        )
    facet = events.last()["run"]["facets"]["provlineage_hyperparameters"]
    params = facet["parameters"]
    assert params["lr"] == 0.05 and params["epochs"] == 3
    assert params["clip"] == "Infinity" and params["tol"] == "NaN"
    assert params["started"] == "2026-01-02T03:04:05"
    assert params["layers"] == [64, 32] and params["tags"] == ["a", "b"]
    assert params["seed_bytes"] == "base64:AQI=" and params["path"] == "/data/x" and params["model"] == "Opaque()"
    assert params["api_key"] == "***" and params["db"]["password"] == "***" and params["db"]["host"] == "db"
    assert facet["redactedKeys"] == ["api_key", "db.password"]
    assert facet["conversions"]["clip"] == "float" and facet["conversions"]["model"].endswith("Opaque")
    assert "sk-123" not in json.dumps(events.all()) and "hunter2" not in json.dumps(events.all())


def test_secret_pattern_is_configurable(events: Events, monkeypatch: pytest.MonkeyPatch) -> None:
    with provlineage.track("job", kind="training", client=events.client, secret_pattern=r"^salt$") as run:
        run.log_hyperparameters({"salt": "abc", "token_budget": 100})
    params = events.last()["run"]["facets"]["provlineage_hyperparameters"]["parameters"]
    assert params == {"salt": "***", "token_budget": 100}
    monkeypatch.setenv("PROVLINEAGE_SECRET_PATTERN", r"budget")
    with provlineage.track("job", kind="training", client=events.client) as run:
        run.log_hyperparameters({"salt": "abc", "token_budget": 100})
    assert events.last()["run"]["facets"]["provlineage_hyperparameters"]["parameters"] == {
        "salt": "abc",
        "token_budget": "***",
    }


def test_a_bad_secret_pattern_is_one_clear_error_and_never_leaks_values(
    events: Events, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(
        ConfigError, match=r"secret pattern '\(' is not a regular expression.*PROVLINEAGE_SECRET_PATTERN"
    ):
        provlineage.track("job", kind="training", client=events.client, secret_pattern="(")
    monkeypatch.setenv("PROVLINEAGE_SECRET_PATTERN", "[unclosed")
    with (
        caplog.at_level(logging.ERROR, logger="provlineage.tracking"),
        provlineage.track("job", kind="training", client=events.client) as run,
    ):
        run.log_hyperparameters({"api_key": "sk-123"})
        after = "the body kept running"
    assert after and events.last()["eventType"] == "COMPLETE"
    assert "provlineage_hyperparameters" not in events.last()["run"]["facets"]
    assert "sk-123" not in events.path.read_text()
    (error,) = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert "'[unclosed' is not a regular expression" in error and "\n" not in error


def test_an_unreadable_dataset_is_logged_and_the_job_goes_on(
    tmp_path: Path, events: Events, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "gone.csv"
    with (
        caplog.at_level(logging.ERROR, logger="provlineage.tracking"),
        provlineage.track("job", kind="training", client=events.client) as run,
    ):
        ref = run.log_dataset(missing)
        after = "the body kept running"
    assert after and ref is not None and ref.digest is None
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert (
        len(errors) == 1
        and str(missing) in errors[0].getMessage()
        and "without a content hash" in errors[0].getMessage()
    )
    complete = events.last()
    assert complete["eventType"] == "COMPLETE"
    assert "provlineage_datasetHash" not in _dataset(complete, "inputs", str(missing))["facets"]


def test_an_unreadable_dataset_raises_in_strict_mode(
    tmp_path: Path, events: Events, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (
        pytest.raises(HashingError, match=r"gone\.csv"),
        provlineage.track("job", kind="training", client=events.client, strict=True) as run,
    ):
        run.log_dataset(tmp_path / "gone.csv")
    assert events.types() == ["START", "FAIL"]
    monkeypatch.setenv("PROVLINEAGE_STRICT", "1")
    with pytest.raises(HashingError), provlineage.track("job", kind="training", client=events.client) as run:
        run.log_model(tmp_path / "model.bin", name="m")


def test_a_directory_dataset_carries_its_manifest(tmp_path: Path, events: Events) -> None:
    shards = tmp_path / "shards"
    shards.mkdir()
    for i in range(3):
        (shards / f"part-{i}.csv").write_text(f"row {i}\n")
    with provlineage.track("job", kind="training", client=events.client, manifest_limit=2) as run:
        run.log_dataset(shards, role="output")
    facet = _dataset(events.last(), "outputs", str(shards.resolve()))["facets"]["provlineage_datasetHash"]
    assert facet["kind"] == "directory" and facet["fileCount"] == 3
    assert [entry["path"] for entry in facet["manifest"]] == ["part-0.csv", "part-1.csv"] and facet[
        "manifestOmitted"
    ] == 1


def test_model_written_by_training_is_the_dataset_read_by_inference(tmp_path: Path, events: Events) -> None:
    model = tmp_path / "models" / "churn.json"
    model.parent.mkdir()
    model.write_text('{"weights": [0.5, -1.25]}')
    with provlineage.track("churn.train", kind="training", client=events.client) as train:
        written = train.log_model(model, name="churn", version="3", framework="pure-python")
    with provlineage.track("churn.predict", kind="inference", client=events.client) as predict:
        read = predict.log_model(model, name="churn", role="input")
    assert written is not None and read is not None
    assert (written.namespace, written.name) == (read.namespace, read.name) == ("file", str(model.resolve()))
    completes = [e for e in events.all() if e["eventType"] == "COMPLETE"]
    out = _dataset(completes[0], "outputs", str(model.resolve()))["facets"]
    inp = _dataset(completes[1], "inputs", str(model.resolve()))["facets"]
    assert out["provlineage_model"] == {
        **out["provlineage_model"],
        "name": "churn",
        "version": "3",
        "framework": "pure-python",
    }
    assert (
        out["provlineage_model"]["digest"]
        == inp["provlineage_model"]["digest"]
        == "sha256:" + out["provlineage_datasetHash"]["digest"]
    )
    assert out["datasetType"]["datasetType"] == inp["datasetType"]["datasetType"] == "MODEL"
    assert predict.model_digest == written.digest


def test_metrics_go_top_level_per_dataset_or_in_slices(tmp_path: Path, events: Events) -> None:
    holdout, recent = tmp_path / "holdout.csv", tmp_path / "recent.csv"
    with provlineage.track("eval", kind="evaluation", client=events.client) as run:
        run.log_metrics({"auc": 0.81, "loss": math.nan}, dataset=holdout)
        run.log_metrics({"accuracy": 0.9}, dataset=holdout)
    facet = events.last()["run"]["facets"]["provlineage_metrics"]
    assert facet["metrics"] == {"auc": 0.81, "loss": "NaN", "accuracy": 0.9}
    assert facet["dataset"] == {"namespace": "file", "name": str(holdout.resolve())} and "slices" not in facet
    with provlineage.track("eval", kind="evaluation", client=events.client) as run:
        run.log_metrics({"train_loss": 0.3})
        run.log_metrics({"auc": 0.8}, dataset=holdout)
        run.log_metrics({"auc": 0.7}, dataset=recent)
    facet = events.last()["run"]["facets"]["provlineage_metrics"]
    assert facet["metrics"] == {"train_loss": 0.3}
    assert [(s["dataset"]["name"], s["metrics"]) for s in facet["slices"]] == [
        (str(holdout.resolve()), {"auc": 0.8}),
        (str(recent.resolve()), {"auc": 0.7}),
    ]


def test_inferences_are_committed_to_by_the_terminal_event(tmp_path: Path, events: Events) -> None:
    model = tmp_path / "model.json"
    model.write_text("{}")
    with provlineage.track("churn.predict", kind="inference", client=events.client) as run:
        run.log_model(model, name="churn", role="input")
        ids = [run.log_inference({"customer": i}, {"churn": i % 2}) for i in range(300)]
    assert run.inference_log == tmp_path / "lineage.inferences.jsonl"  # beside the file transport's log
    facet = events.last()["run"]["facets"]["provlineage_inference"]
    assert facet["count"] == 300 and facet["firstId"] == ids[0] and facet["lastId"] == ids[-1]
    assert facet["modelDigest"] == run.model_digest and facet["payloadsRetained"] is False
    assert facet["log"] == str(run.inference_log)
    proof = prove_inference(facet["log"], ids[123])
    assert verify_inclusion(proof, facet["merkleRoot"])
    assert "provlineage_inference" not in events.all()[0]["run"]["facets"]
    assert run.log_inference({"late": 1}, {}) is None  # after the run: logged, not recorded


def test_an_inference_id_json_cannot_carry_is_refused_and_the_job_goes_on(
    tmp_path: Path, events: Events, caplog: pytest.LogCaptureFixture
) -> None:
    log_path = tmp_path / "inferences.jsonl"
    with (
        caplog.at_level(logging.ERROR, logger="provlineage.tracking"),
        provlineage.track("p", kind="inference", client=events.client, inference_log=log_path) as run,
    ):
        assert run.log_inference({"x": 1}, {"y": 2}, id="bad-\ud800") is None
        good = run.log_inference({"x": 1}, {"y": 2}, id='quote"and\ttab')
    assert good == 'quote"and\ttab' and run.inference_count == 1
    assert any("lone UTF-16 surrogate" in r.getMessage() for r in caplog.records)
    proof = prove_inference(log_path, good)
    assert verify_inclusion(proof, events.last()["run"]["facets"]["provlineage_inference"]["merkleRoot"])


def test_an_unwritable_inference_log_still_sends_the_terminal_event_in_strict_mode(
    tmp_path: Path, events: Events
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the log's directory should be")
    with (
        pytest.raises(DeliveryError, match=r"cannot write inference log .*not-a-dir.*check the directory"),
        provlineage.track(
            "p", kind="inference", client=events.client, inference_log=blocker / "inf.jsonl", strict=True
        ) as run,
    ):
        run.log_inference({"x": 1}, {"y": 2})
    assert events.types() == ["START", "COMPLETE"]
    assert events.last()["run"]["facets"]["provlineage_inference"]["count"] == 1


def test_payloads_are_kept_only_when_asked(tmp_path: Path, events: Events) -> None:
    log_path = tmp_path / "custom.jsonl"
    with provlineage.track(
        "p", kind="inference", client=events.client, inference_log=log_path, retain_payloads=True
    ) as run:
        run.log_inference({"email": "a@example.com"}, {"score": 1})
    record = json.loads(log_path.read_text().splitlines()[0])
    assert record["input"] == {"email": "a@example.com"}
    assert events.last()["run"]["facets"]["provlineage_inference"]["payloadsRetained"] is True


def test_nested_runs_and_explicit_parents_emit_the_parent_facet(
    events: Events, monkeypatch: pytest.MonkeyPatch
) -> None:
    with provlineage.track("pipeline", kind="pipeline", client=events.client) as outer:
        with provlineage.track("pipeline.train", kind="training", client=events.client) as inner:
            pass
        with provlineage.track("pipeline.eval", kind="evaluation", client=events.client, parent=inner):
            pass
    by_job = {e["job"]["name"]: e for e in events.all() if e["eventType"] == "START"}
    parent = by_job["pipeline.train"]["run"]["facets"]["parent"]
    assert parent["run"]["runId"] == outer.run_id and (parent["job"]["namespace"], parent["job"]["name"]) == (
        "default",
        "pipeline",
    )
    grand = by_job["pipeline.eval"]["run"]["facets"]["parent"]
    assert grand["run"]["runId"] == inner.run_id and grand["root"]["run"]["runId"] == outer.run_id
    assert "parent" not in by_job["pipeline"]["run"]["facets"]

    monkeypatch.setenv("OPENLINEAGE_PARENT_ID", "airflow/dag.task/01a1fb76-2733-77e6-9274-fbdcc09ac6aa")
    with provlineage.track("child", kind="training", client=events.client):
        pass
    parent = events.last()["run"]["facets"]["parent"]
    assert parent["run"]["runId"] == "01a1fb76-2733-77e6-9274-fbdcc09ac6aa" and parent["job"]["name"] == "dag.task"
    with pytest.raises(ConfigError, match="is not a run"):
        provlineage.track("x", kind="training", client=events.client, parent=42).__enter__()


def test_emission_failure_does_not_break_the_job_unless_strict(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    unwritable = OpenLineageClient(
        transport=FileTransport(FileConfig(log_file_path=str(tmp_path / "no" / "such" / "dir.jsonl"), append=True))
    )
    with (
        caplog.at_level(logging.ERROR, logger="provlineage.tracking"),
        provlineage.track("job", kind="training", client=unwritable) as run,
    ):
        run.log_metrics({"ok": 1})
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(messages) == 2 and "START event" in messages[0] and "COMPLETE event" in messages[1]
    with (
        pytest.raises(DeliveryError, match="START event"),
        provlineage.track("job", kind="training", client=unwritable, strict=True),
    ):
        pytest.fail("the body must not run when strict START delivery fails")


def test_default_client_follows_openlineage_config_resolution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, event_validator: Validator
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENLINEAGE_CONFIG", raising=False)
    monkeypatch.delenv("OPENLINEAGE_URL", raising=False)
    log_path = tmp_path / "env-events.jsonl"
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", str(log_path))
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
    monkeypatch.setenv("OPENLINEAGE_NAMESPACE", "from-env")
    with provlineage.track("env.job", kind="inference") as run:
        run.log_inference({"x": 1}, {"y": 2})
    lines = [json.loads(line) for line in log_path.read_text().splitlines()]
    for event in lines:
        event_validator(event)
    assert [e["eventType"] for e in lines] == ["START", "COMPLETE"] and lines[0]["job"]["namespace"] == "from-env"
    assert run.inference_log == tmp_path / "env-events.inferences.jsonl"


def test_misuse_is_reported_at_once(events: Events) -> None:
    with pytest.raises(ConfigError, match="kind"):
        provlineage.track("job", kind="", client=events.client)
    tracker = provlineage.track("job", kind="training", client=events.client)
    with tracker as run:
        with pytest.raises(ConfigError, match="role"):
            run.log_dataset("x.csv", role="both")
        with pytest.raises(ConfigError, match="already active"):
            tracker.__enter__()


def test_a_non_mapping_is_logged_and_the_job_goes_on_unless_strict(
    events: Events, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.ERROR, logger="provlineage.tracking"),
        provlineage.track("job", kind="training", client=events.client) as run,
    ):
        run.log_hyperparameters([("lr", 0.1)])  # type: ignore[arg-type]
        run.log_metrics(0.93)  # type: ignore[arg-type]
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("log_hyperparameters got a list, not a mapping" in m for m in messages)
    assert any("log_metrics got a float, not a mapping" in m for m in messages)
    assert events.last()["eventType"] == "COMPLETE"
    with (
        provlineage.track("job", kind="training", client=events.client, strict=True) as run,
        pytest.raises(ConfigError, match="pass a dict"),
    ):
        run.log_metrics(0.93)  # type: ignore[arg-type]
