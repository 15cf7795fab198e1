"""Answers as JSON, in a stable documented shape (``"version": 1``) that scripts and audits can rely on.

The JSON Schema is ``provlineage/lineage/answer-1.schema.json``; every key is always present (``null`` when
unknown) so consumers never probe for keys.  Shape::

    {"version": 1, "kind": "model|dataset|inference|run|report", "query": str,
     "ok": bool,                       # false when "problems" is not empty (the CLI then exits 1)
     "problems": [str],
     "record": {"sources": [str], "records": int, "verified": int, "unverified": int, "legacy": int,
                "chainFindings": int},
     "answer": {...},                  # by kind, below
     "caveats": [Caveat], "fileChecks": [FileCheck], "unverified": [Unverified], "chain": [ChainFinding]}

    model:     {"models": [Model]}
    dataset:   {"datasets": [{"namespace", "name", "isModel", "digests": [str], "writers": [Run], "readers": [Run],
                              "downstreamModels": [{"model": Model, "path": [str]}]}]}
    inference: {"inference": {"id", "record": obj|null, "proof": obj, "merkleRoot", "proofVerified": bool, "log",
                              "run": Run, "models": [Model]}}
    run:       {"run": Run, "parent": Run|null, "children": [Run], "upstream": [Run], "downstream": [Run],
                "models": [Model]}
    report:    {"runCount", "datasetCount", "models": [Model], "multiDataset": [ModelRef],
                "withoutProvenance": [ModelRef], "withoutArtifactDigest": [ModelRef], "inputsWithoutDigest": [{"runId", "job", "dataset"}]}

    Model      {"name", "version", "dataset": {"namespace", "name"}, "digest", "framework", "format",
                "trainingDatasets": [DatasetRef],      # inputs of the training runs ...
                "evaluationDatasets": [DatasetRef],    # ... except those their metrics name as evaluated
                "trainingRuns": [Run], "consumers": [Run],
                "upstream": [DatasetRef], "caveats": [Caveat]}
    ModelRef   Model without the runs: {"name", "version", "dataset", "digest", "trainingDatasets",
                "evaluationDatasets", "caveats"}
    Run        {"runId", "job": {"namespace", "name"}, "role": "training|inference|evaluation|other", "state",
                "startedAt", "endedAt", "parentRunId", "parentJob": {"namespace", "name"}|null,
                "inputs": [DatasetRef], "outputs": [DatasetRef],
                "hyperparameters", "environment", "git", "metrics", "inference",
                "verification": {"status": "verified|verified-with-caveats", "keyIds": [str], "producers": [str],
                                 "events": [{"source", "line", "eventType", "eventTime", "digest", "keyId",
                                             "stream", "sequence"}]},
                "caveats": [Caveat]}
    DatasetRef {"namespace", "name", "digest": "sha256:<hex>"|null, "kind", "size", "fileCount",
                "model": obj|null, "modelLabel": str|null, "producedBy": [runId]}
    Caveat     {"kind", "message", "source", "line"}
    FileCheck  {"namespace", "name", "status": "match|changed|missing|unreadable", "recordedDigest",
                "currentDigest", "added": [str], "missing": [str], "changed": [str], "manifestComplete", "detail"}
    Unverified {"source", "line", "status", "reason", "keyId",
                "claims": {"runId", "eventType", "job": {"namespace", "name"}|null, "datasets": [...]}}

Within a version, keys are only ever added, never renamed or removed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from provlineage.lineage.answers import (
    Answer,
    DatasetAnswer,
    InferenceAnswer,
    ModelAnswer,
    ReportAnswer,
    RunAnswer,
)
from provlineage.lineage.filecheck import FileCheck
from provlineage.lineage.graph import UnverifiedRecord
from provlineage.lineage.views import Caveat, DatasetRef, ModelView, RunView

JSON_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("answer-1.schema.json")


def _caveat(caveat: Caveat) -> dict[str, Any]:
    return {
        "kind": caveat.kind,
        "message": caveat.message,
        "source": caveat.source or None,
        "line": caveat.line or None,
    }


def _dataset(ref: DatasetRef) -> dict[str, Any]:
    return {
        "namespace": ref.namespace,
        "name": ref.name,
        "digest": ref.digest,
        "kind": ref.kind,
        "size": ref.size,
        "fileCount": ref.file_count,
        "model": ref.model,
        "modelLabel": ref.model_label,
        "producedBy": list(ref.produced_by),
    }


def _run(run: RunView) -> dict[str, Any]:
    return {
        "runId": run.run_id,
        "job": {"namespace": run.job_namespace, "name": run.job_name},
        "role": run.role,
        "state": run.state,
        "startedAt": run.started_at,
        "endedAt": run.ended_at,
        "parentRunId": run.parent_run_id,
        "parentJob": {"namespace": run.parent_job[0], "name": run.parent_job[1]} if run.parent_job else None,
        "inputs": [_dataset(ref) for ref in run.inputs],
        "outputs": [_dataset(ref) for ref in run.outputs],
        "hyperparameters": run.hyperparameters,
        "environment": run.environment,
        "git": run.git,
        "metrics": run.metrics,
        "inference": run.inference,
        "verification": {
            "status": run.status,
            "keyIds": run.key_ids,
            "producers": run.producers,
            "events": [
                {
                    "source": e.source,
                    "line": e.line,
                    "eventType": e.event_type,
                    "eventTime": e.event_time,
                    "digest": e.digest,
                    "keyId": e.key_id,
                    "stream": e.stream,
                    "sequence": e.sequence,
                }
                for e in run.events
            ],
        },
        "caveats": [_caveat(c) for c in run.caveats],
    }


def _model_ref(model: ModelView) -> dict[str, Any]:
    return {
        "name": model.name,
        "version": model.version,
        "dataset": {"namespace": model.namespace, "name": model.dataset_name},
        "digest": model.digest,
        "trainingDatasets": [_dataset(ref) for ref in model.training_datasets],
        "evaluationDatasets": [_dataset(ref) for ref in model.evaluation_datasets],
        "caveats": [_caveat(c) for c in model.caveats],
    }


def _model(model: ModelView) -> dict[str, Any]:
    return {
        **_model_ref(model),
        "framework": model.framework,
        "format": model.format,
        "trainingRuns": [_run(run) for run in model.training],
        "consumers": [_run(run) for run in model.consumers],
        "upstream": [_dataset(ref) for ref in model.upstream],
    }


def _file_check(check: FileCheck) -> dict[str, Any]:
    return {
        "namespace": check.namespace,
        "name": check.name,
        "status": check.status,
        "recordedDigest": check.recorded_digest,
        "currentDigest": check.current_digest,
        "added": check.added,
        "missing": check.missing,
        "changed": check.changed,
        "manifestComplete": check.manifest_complete,
        "detail": check.detail or None,
    }


def _unverified(item: UnverifiedRecord) -> dict[str, Any]:
    record, claims = item.record, item.claims
    return {
        "source": record.source,
        "line": record.line,
        "status": record.status.value,
        "reason": record.reason,
        "keyId": record.key_id,
        "claims": {
            "runId": claims.run_id,
            "eventType": claims.event_type,
            "job": {"namespace": claims.job[0], "name": claims.job[1]} if claims.job else None,
            "datasets": [{"namespace": ns, "name": name} for ns, name in claims.datasets],
        },
    }


def _body(answer: Answer) -> dict[str, Any]:
    body = answer.body
    if isinstance(body, ModelAnswer):
        return {"models": [_model(m) for m in body.models]}
    if isinstance(body, DatasetAnswer):
        return {
            "datasets": [
                {
                    "namespace": view.namespace,
                    "name": view.name,
                    "isModel": view.is_model,
                    "digests": view.digests,
                    "writers": [_run(r) for r in view.writers],
                    "readers": [_run(r) for r in view.readers],
                    "downstreamModels": [{"model": _model(d.model), "path": d.path} for d in view.downstream_models],
                }
                for view in body.datasets
            ]
        }
    if isinstance(body, InferenceAnswer):
        view = body.inference
        return {
            "inference": {
                "id": view.inference_id,
                "record": view.record,
                "proof": view.proof,
                "merkleRoot": view.merkle_root,
                "proofVerified": view.proof_verified,
                "log": view.log,
                "run": _run(view.run),
                "models": [_model(m) for m in view.models],
            }
        }
    if isinstance(body, RunAnswer):
        return {
            "run": _run(body.run),
            "parent": _run(body.parent) if body.parent else None,
            "children": [_run(r) for r in body.children],
            "upstream": [_run(r) for r in body.upstream],
            "downstream": [_run(r) for r in body.downstream],
            "models": [_model(m) for m in body.models],
        }
    assert isinstance(body, ReportAnswer)
    return {
        "runCount": body.run_count,
        "datasetCount": body.dataset_count,
        "models": [_model(m) for m in body.models],
        "multiDataset": [_model_ref(m) for m in body.multi_dataset],
        "withoutProvenance": [_model_ref(m) for m in body.without_provenance],
        "withoutArtifactDigest": [_model_ref(m) for m in body.without_digest],
        "inputsWithoutDigest": [
            {
                "runId": run.run_id,
                "job": {"namespace": run.job_namespace, "name": run.job_name},
                "dataset": {"namespace": ref.namespace, "name": ref.name},
            }
            for run, ref in body.inputs_without_digest
        ],
    }


def answer_to_json(answer: Answer) -> dict[str, Any]:
    lineage = answer.lineage
    problems = answer.problems
    return {
        "version": JSON_VERSION,
        "kind": answer.kind,
        "query": answer.query,
        "ok": not problems,
        "problems": problems,
        "record": {
            "sources": list(lineage.sources),
            "records": lineage.record_count,
            "verified": lineage.verified_count,
            "unverified": len(lineage.unverified),
            "legacy": len(lineage.legacy),
            "chainFindings": len(lineage.chain),
        },
        "answer": _body(answer),
        "caveats": [_caveat(c) for c in answer.caveats],
        "fileChecks": [_file_check(c) for c in answer.file_checks],
        "unverified": [_unverified(u) for u in lineage.unverified],
        "chain": [
            {"stream": f.stream, "kind": f.kind, "detail": f.detail, "source": f.source or None, "line": f.line or None}
            for f in lineage.chain
        ],
    }


def _number(value: Any) -> Any:
    """Numbers the canonical parser kept as text (integers beyond 2**53, extreme floats) print as numbers."""
    text = getattr(value, "text", None)
    if not isinstance(text, str):
        raise TypeError(f"{type(value).__qualname__} is not JSON")
    return int(text) if text.lstrip("-").isdigit() else float(text)


def render_json(answer: Answer) -> str:
    return json.dumps(answer_to_json(answer), indent=2, ensure_ascii=False, default=_number)


def answer_schema() -> dict[str, Any]:
    """The JSON Schema of :func:`answer_to_json`'s output."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
