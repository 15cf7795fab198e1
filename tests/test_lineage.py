"""provlineage.lineage: the auditor's answers, built only from events that verify, and their four renderings."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from prov.model import ProvDocument

from provlineage.keys import Keyring
from provlineage.lineage import (
    LineageNotFound,
    ask_dataset,
    ask_inference,
    ask_model,
    ask_report,
    ask_run,
    check_files,
    lineage_from_files,
)
from provlineage.lineage.graph import time_key
from provlineage.lineage.queries import latest_recorded
from provlineage.lineage.render_dot import render_dot
from provlineage.lineage.render_json import answer_schema, render_json
from provlineage.lineage.render_prov import build_prov, render_prov
from provlineage.lineage.render_text import render_text

from lineage_events import SignedLog, inference_run, processing_run, tamper, training_run


@dataclass
class Demo:
    """Two datasets -> features -> training -> model -> inference, signed and chained in one log."""

    root: Path
    log: SignedLog
    keyring: Keyring
    customers: Path
    events: Path
    features: Path
    model: Path
    inferences: Path
    features_run: str
    training_run: str
    inference_run: str
    inference_ids: list[str]

    def lineage(self) -> Any:
        return lineage_from_files([self.log.path], self.keyring)


@pytest.fixture
def demo(tmp_path: Path, key_dir: Path) -> Demo:
    data = tmp_path / "data"
    data.mkdir()
    customers, events = data / "customers.csv", data / "events"
    customers.write_text("id,tenure\n1,3\n2,14\n")
    events.mkdir()
    (events / "2026-01.csv").write_text("id,event\n1,login\n")
    (events / "2026-02.csv").write_text("id,event\n2,cancel\n")
    features, model = data / "features.parquet", tmp_path / "models" / "churn.pkl"
    features.write_bytes(b"PAR1 features")
    model.parent.mkdir()
    model.write_bytes(b"model v1")
    log = SignedLog(tmp_path / "lineage.jsonl", key_dir / "private_key.pem")
    features_run = processing_run(log, inputs=[customers, events], outputs=[features])
    train = training_run(
        log,
        datasets=[features, customers],
        model=model,
        parameters={"C": 0.5, "max_iter": 300, "api_key": "***"},
        metrics={"auc": 0.91, "f1": 0.84},
    )
    inferences = tmp_path / "lineage.inferences.jsonl"
    predict, ids = inference_run(log, model=model, inference_log=inferences)
    return Demo(
        tmp_path,
        log,
        Keyring.from_files([key_dir / "public_key.pem"]),
        customers,
        events,
        features,
        model,
        inferences,
        features_run,
        train,
        predict,
        ids,
    )


def _strict(schema: Any) -> Any:
    """The published schema allows new keys (forward compatibility); tests forbid undocumented ones."""
    if isinstance(schema, dict):
        strict = {key: _strict(value) for key, value in schema.items()}
        if strict.get("additionalProperties") is True:
            strict["additionalProperties"] = False
        return strict
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


def assert_valid_json(answer: Any) -> dict[str, Any]:
    document = json.loads(render_json(answer))
    Draft202012Validator(_strict(answer_schema())).validate(document)
    assert document["version"] == 1
    return document


def assert_valid_prov(answer: Any) -> ProvDocument:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no identifier PROV-N could not write
        text = render_prov(answer)
        document = ProvDocument.deserialize(content=text, format="json")
        document.serialize(format="provn")
    assert document == build_prov(answer)
    return document


# --- the model question --------------------------------------------------------------------------------------
def test_model_answer_names_datasets_code_configuration_metrics_signer_and_consumers(demo: Demo, key_dir: Path) -> None:
    answer = ask_model(demo.lineage(), "churn")
    (model,) = answer.body.models
    assert (model.name, model.version, model.dataset_name) == ("churn", "1", str(demo.model))
    (run,) = model.training
    assert run.run_id == demo.training_run and run.role == "training" and run.state == "COMPLETE"
    inputs = {ref.name: ref for ref in run.inputs}
    assert set(inputs) == {str(demo.features), str(demo.customers)}
    assert inputs[str(demo.customers)].digest.startswith("sha256:") and len(inputs[str(demo.customers)].digest) == 71
    assert inputs[str(demo.features)].produced_by == [demo.features_run]
    assert run.hyperparameters["parameters"] == {"C": 0.5, "max_iter": 300, "api_key": "***"}
    assert run.environment["python"] == "3.11.9" and run.environment["keyPackages"] == {
        "numpy": "1.26.4",
        "scikit-learn": "1.5.0",
    }
    assert run.git == {
        "commit": "4f1c2e9a7b",
        "branch": "main",
        "dirty": False,
        "remoteUrl": "https://git.example.com/ml/churn.git",
    }
    assert run.metrics["metrics"] == {"auc": 0.91, "f1": 0.84}
    assert run.key_ids == [demo.log.signer.key_id] and run.status == "verified"
    assert [e.event_type for e in run.events] == ["START", "COMPLETE"]
    assert {ref.name for ref in model.upstream} == {str(demo.customers), str(demo.events)}
    (consumer,) = model.consumers
    assert (consumer.run_id, consumer.role, consumer.inference["count"]) == (demo.inference_run, "inference", 5)
    assert answer.problems == [] and answer.caveats == []
    text = render_text(answer)
    for expected in (
        "MODEL churn@1",
        "C=0.5",
        "git 4f1c2e9a7b (main, clean)",
        "auc=0.91",
        demo.inference_run,
        "RESULT: answer verified",
    ):
        assert expected in text
    document = assert_valid_json(answer)
    assert document["ok"] is True and document["answer"]["models"][0]["trainingRuns"][0]["verification"]["keyIds"] == [
        demo.log.signer.key_id
    ]


def test_model_is_found_by_path_and_by_version_or_digest_prefix(demo: Demo) -> None:
    lineage = demo.lineage()
    assert ask_model(lineage, str(demo.model)).body.models[0].name == "churn"
    assert ask_model(lineage, "churn@1").body.models[0].version == "1"
    digest = ask_model(lineage, "churn").body.models[0].digest
    assert ask_model(lineage, f"churn@{digest[:15]}").body.models[0].digest == digest
    with pytest.raises(
        LineageNotFound,
        match=r"no model 'churn@9' in the 5 verified events .* \(known: churn@1\)\. run `provlineage lineage",
    ):
        ask_model(lineage, "churn@9")


def test_retrained_model_in_the_same_path_is_two_versions_each_with_its_own_consumers(demo: Demo) -> None:
    demo.model.write_bytes(b"model v2, retrained")
    second = training_run(demo.log, datasets=[demo.customers], model=demo.model, version="2")
    predict_v2, _ = inference_run(demo.log, model=demo.model, version="2", inference_log=demo.inferences)
    lineage = demo.lineage()
    v1, v2 = ask_model(lineage, "churn").body.models
    assert (v1.version, v2.version) == ("1", "2") and v1.digest != v2.digest
    assert [r.run_id for r in v1.consumers] == [demo.inference_run]
    assert [r.run_id for r in v2.training] == [second] and [r.run_id for r in v2.consumers] == [predict_v2]
    assert [m.version for m in ask_model(lineage, "churn@2").body.models] == ["2"]


# --- tampering and chain problems ----------------------------------------------------------------------------
def test_tampered_event_is_reported_unverified_and_kept_out_of_the_answer(demo: Demo) -> None:
    tamper(demo.log.path, 3, '"max_iter": 300', '"max_iter": 3')  # the training run's COMPLETE
    lineage = demo.lineage()
    (bad,) = lineage.unverified
    assert (bad.record.line, bad.record.status.value) == (3, "failed")
    assert bad.claims.run_id == demo.training_run and bad.claims.event_type == "COMPLETE"
    with pytest.raises(LineageNotFound):  # the only event that wrote the model did not verify ...
        ask_run(lineage, "no-such-run-id")
    answer = ask_model(lineage, "churn")  # ... so the model is known only from what the inference run read
    (model,) = answer.body.models
    assert model.training == [] and any(c.kind == "no-training-run" for c in model.caveats)
    run = ask_run(lineage, demo.training_run).body.run
    assert run.state == "START" and run.hyperparameters is None
    assert {c.kind for c in run.caveats} >= {"unverified-record", "incomplete"}
    text = render_text(answer)
    assert '"max_iter": 3' not in render_json(answer) and "max_iter=3" not in text
    assert f"FAILED      {demo.log.path}:3" in text and f"claims COMPLETE of run {demo.training_run}" in text
    assert answer.problems == ["1 unverified record(s)", "1 chain finding(s)"]  # a failed record is also a gap
    assert any(
        "missing sequence 3 of 5" in c.message and f"present but unverified: 3 at {demo.log.path}:3" in c.message
        for c in answer.caveats
    )
    document = assert_valid_json(answer)
    assert document["ok"] is False and document["unverified"][0]["line"] == 3


def test_unsigned_event_is_listed_and_never_answers(demo: Demo) -> None:
    from openlineage.client.event_v2 import Job, OutputDataset, Run, RunEvent, RunState

    demo.log.emit(
        RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=demo.log.tick(),
            run=Run(runId="01900000-0000-7000-8000-000000000001"),
            job=Job(namespace="ml-platform", name="impostor.train"),
            outputs=[OutputDataset(namespace="file", name="/models/impostor.pkl")],
        ),
        signed=False,
    )
    lineage = demo.lineage()
    assert [u.record.status.value for u in lineage.unverified] == ["unsigned"]
    assert "/models/impostor.pkl" not in {key[1] for key in lineage.datasets}
    with pytest.raises(
        LineageNotFound, match=r"'/models/impostor.pkl' appears only in unverified records \(.*:6 unsigned\)"
    ):
        ask_dataset(lineage, "/models/impostor.pkl")


def test_old_tool_records_are_authentic_but_listed_apart(demo: Demo, tmp_path: Path) -> None:
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signed_data = json.dumps(
        {"type": "model", "model_name": "legacy-net", "dataset_hashes": ["ab"], "timestamp": "2024-01-01"},
        sort_keys=True,
    )
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)
    signature = base64.b64encode(key.sign(signed_data.encode(), pss, hashes.SHA256())).decode()
    with demo.log.path.open("a") as handle:
        handle.write(json.dumps({"schema_version": "1.1", "signed_data": signed_data, "signature": signature}) + "\n")
    demo.keyring.add(key.public_key())
    lineage = demo.lineage()
    assert [r.line for r in lineage.legacy] == [6] and lineage.unverified == []
    answer = ask_model(lineage, "churn")
    assert [c.kind for c in answer.caveats] == ["legacy-records"] and answer.problems == []
    with pytest.raises(LineageNotFound):
        ask_model(lineage, "legacy-net")


def test_deleted_event_shows_as_a_gap_on_every_answer(demo: Demo) -> None:
    lines = demo.log.lines()
    demo.log.path.write_text("\n".join(lines[:1] + lines[2:]) + "\n")  # drop the training START
    answer = ask_model(demo.lineage(), "churn")
    assert any(
        c.kind == "chain" and "the record has gaps" in c.message and "missing sequence 2 of 5" in c.message
        for c in answer.caveats
    )
    (run,) = answer.body.models[0].training
    assert any(c.kind == "chain" for c in run.caveats) and run.status == "verified-with-caveats"
    assert answer.problems == ["1 chain finding(s)"]


# --- the dataset, run and inference questions ----------------------------------------------------------------
def test_dataset_answer_lists_readers_writers_and_models_downstream(demo: Demo) -> None:
    answer = ask_dataset(demo.lineage(), str(demo.events))
    (view,) = answer.body.datasets
    assert [r.run_id for r in view.readers] == [demo.features_run] and view.writers == []
    (downstream,) = view.downstream_models
    assert downstream.model.label == "churn@1"
    assert downstream.path == [f"churn.features (run {demo.features_run})", f"churn.train (run {demo.training_run})"]
    features = ask_dataset(demo.lineage(), "features.parquet" if False else str(demo.features)).body.datasets[0]
    assert [r.run_id for r in features.writers] == [demo.features_run] and [r.run_id for r in features.readers] == [
        demo.training_run
    ]
    assert "models downstream (1)" in render_text(answer)
    assert_valid_json(answer)


def test_run_answer_shows_neighbours(demo: Demo) -> None:
    answer = ask_run(demo.lineage(), demo.training_run[:18])
    body = answer.body
    assert body.run.run_id == demo.training_run
    assert [r.run_id for r in body.upstream] == [demo.features_run]
    assert [r.run_id for r in body.downstream] == [demo.inference_run]
    assert [m.label for m in body.models] == ["churn@1"]
    assert_valid_json(answer)


def test_inference_chain_goes_back_to_the_datasets_with_a_verified_inclusion_proof(demo: Demo) -> None:
    answer = ask_inference(demo.lineage(), demo.inference_ids[3])
    view = answer.body.inference
    assert view.run.run_id == demo.inference_run and view.proof_verified
    assert view.proof["index"] == 3 and view.proof["treeSize"] == 5 and view.record["id"] == demo.inference_ids[3]
    (model,) = view.models
    assert [r.run_id for r in model.training] == [demo.training_run]
    assert {ref.name for ref in model.training_datasets} == {str(demo.features), str(demo.customers)}
    assert answer.scope == {demo.inference_run, demo.training_run, demo.features_run}
    text = render_text(answer)
    assert "inclusion proof VERIFIED: leaf 3 of 5" in text and str(demo.customers) in text
    assert_valid_json(answer)
    assert_valid_prov(answer)


def test_edited_inference_log_fails_the_inclusion_proof(demo: Demo) -> None:
    target = demo.inference_ids[1]
    text = demo.inferences.read_text().replace(
        '"index":1,"inputDigest":"sha256:', '"index":1,"inputDigest":"sha256:0', 1
    )
    demo.inferences.write_text(text)
    answer = ask_inference(demo.lineage(), target)
    assert not answer.body.inference.proof_verified
    assert answer.caveats[0].kind == "inclusion-proof"
    assert answer.problems == ["the inference's inclusion proof does not match its run's signed Merkle root"]
    assert "inclusion proof DOES NOT MATCH" in render_text(answer)


def test_a_copy_whose_proof_verifies_wins_over_an_edited_log(demo: Demo, tmp_path: Path) -> None:
    target = demo.inference_ids[1]
    pristine = tmp_path / "moved.inferences.jsonl"
    pristine.write_bytes(demo.inferences.read_bytes())
    text = demo.inferences.read_text().replace(
        '"index":1,"inputDigest":"sha256:', '"index":1,"inputDigest":"sha256:0', 1
    )
    demo.inferences.write_text(text)  # the log the run's facet names is searched first, and fails the proof
    answer = ask_inference(demo.lineage(), target, [str(pristine)])
    assert answer.body.inference.proof_verified
    assert answer.body.inference.log == str(pristine)
    assert not answer.problems


def test_unknown_inference_names_the_logs_searched(demo: Demo) -> None:
    with pytest.raises(
        LineageNotFound,
        match=r"inference inf-nope is not in the inference logs of the 1 verified inference run\(s\) \(.*lineage.inferences.jsonl\)",
    ):
        ask_inference(demo.lineage(), "inf-nope")


# --- the report and the files on disk ------------------------------------------------------------------------
def test_report_flags_multi_dataset_models_models_without_provenance_and_digestless_inputs(
    demo: Demo, tmp_path: Path
) -> None:
    orphan = tmp_path / "models" / "orphan.pkl"
    orphan.write_bytes(b"who trained me?")
    inference_run(demo.log, model=orphan, name="orphan", inference_log=demo.inferences, job="orphan.predict")
    answer = ask_report(demo.lineage())
    body = answer.body
    assert [m.label for m in body.models] == ["churn@1", "orphan@1"]
    assert [m.label for m in body.multi_dataset] == ["churn@1"]
    assert [m.label for m in body.without_provenance] == ["orphan@1"]
    assert answer.problems == ["1 model(s) without dataset provenance"]
    text = render_text(answer)
    assert "MODELS TRAINED ON MORE THAN ONE DATASET (1)" in text and "MODELS WITHOUT DATASET PROVENANCE (1)" in text
    assert_valid_json(answer)


def test_holdout_named_by_the_metrics_is_not_counted_as_training_data(demo: Demo, tmp_path: Path) -> None:
    holdout, model = tmp_path / "holdout.csv", tmp_path / "models" / "small.pkl"
    holdout.write_text("id,tenure\n9,1\n")
    model.write_bytes(b"small model")
    training_run(
        demo.log,
        datasets=[demo.customers, holdout],
        model=model,
        name="small",
        metrics={"auc": 0.7},
        metrics_dataset=holdout,
    )
    (small,) = ask_model(demo.lineage(), "small").body.models
    assert [ref.name for ref in small.training_datasets] == [str(demo.customers)]
    assert [ref.name for ref in small.evaluation_datasets] == [str(holdout)]
    report = ask_report(demo.lineage()).body
    assert [m.label for m in report.multi_dataset] == ["churn@1"]
    assert "evaluated on (holdout named by the run's metrics)" in render_text(ask_model(demo.lineage(), "small"))


def test_check_files_reports_changed_file_and_directory_contents(demo: Demo) -> None:
    lineage = demo.lineage()
    answer = ask_model(lineage, "churn")
    assert {c.status for c in check_files(answer.dataset_refs())} == {"match"}
    demo.customers.write_text("id,tenure\n1,3\n2,15\n")
    (demo.events / "2026-02.csv").write_text("id,event\n2,renew\n")
    (demo.events / "2026-03.csv").write_text("id,event\n3,login\n")
    (demo.events / "2026-01.csv").unlink()
    answer.file_checks = check_files(answer.dataset_refs())
    checks = {c.name: c for c in answer.file_checks}
    assert checks[str(demo.customers)].status == "changed" and checks[str(demo.customers)].changed == ["customers.csv"]
    directory = checks[str(demo.events)]
    assert (directory.status, directory.added, directory.missing, directory.changed) == (
        "changed",
        ["2026-03.csv"],
        ["2026-01.csv"],
        ["2026-02.csv"],
    )
    assert checks[str(demo.features)].status == "match"
    assert answer.problems == ["2 dataset(s) no longer match their recorded digest"]
    text = render_text(answer)
    assert f"CHANGED    file:{demo.customers}" in text and "added: 2026-03.csv" in text
    assert_valid_json(answer)
    demo.features.unlink()
    assert {c.name: c.status for c in check_files(latest_recorded(lineage))}[str(demo.features)] == "missing"


# --- renderings ----------------------------------------------------------------------------------------------
def test_prov_json_is_valid_prov_with_entities_activities_agents_and_derivations(demo: Demo) -> None:
    answer = ask_model(demo.lineage(), "churn")
    document = assert_valid_prov(answer)
    data = json.loads(render_prov(answer))
    types = {
        record["prov:type"]["$"] if isinstance(record["prov:type"], dict) else record["prov:type"]
        for record in data["entity"].values()
        if "prov:type" in record
    }
    assert {"pl:Model", "pl:Dataset", "prov:Plan"} <= types
    activities = data["activity"]
    assert len(activities) == 3 and all("prov:startTime" in a for a in activities.values())
    assert any(
        a.get("pl:hyperparameters") == '{"C": 0.5, "api_key": "***", "max_iter": 300}' for a in activities.values()
    )
    agents = data["agent"]
    assert any(a.get("pl:keyId") == demo.log.signer.key_id for a in agents.values())
    assert {"used", "wasGeneratedBy", "wasAssociatedWith", "wasDerivedFrom"} <= set(data)
    derived = [(r["prov:generatedEntity"], r["prov:usedEntity"]) for r in data["wasDerivedFrom"].values()]
    assert any("churn.pkl" in generated and "customers.csv" in used for generated, used in derived)
    assert len(list(document.get_records())) > 10


def test_dot_declares_every_node_it_links(demo: Demo) -> None:
    tamper(demo.log.path, 4, '"eventType": "START"', '"eventType": "RUNNING"')
    answer = ask_model(demo.lineage(), "churn")
    dot = render_dot(answer)
    assert dot.startswith("digraph lineage {") and dot.rstrip().endswith("}")
    import re

    declared = set(re.findall(r'^  ("(?:[^"\\]|\\.)*") \[label=', dot, re.MULTILINE))
    linked = re.findall(r'^  ("(?:[^"\\]|\\.)*") -> ("(?:[^"\\]|\\.)*")', dot, re.MULTILINE)
    assert linked and all(a in declared and b in declared for a, b in linked)
    assert "1 unverified record(s) not shown" in dot and "shape=box3d" in dot


def test_time_key_orders_instants_whatever_their_spelling() -> None:
    spelled = [
        "2026-01-01T00:00:00.5Z",
        "2026-01-01T01:00:00+02:00",
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00.25+00:00",
    ]
    assert sorted(spelled, key=time_key) == [spelled[1], spelled[2], spelled[3], spelled[0]]
