"""Build realistic signed training/inference logs for the lineage tests, without the transport.

Events are real openlineage-python ``RunEvent`` objects with provlineage's facets, serialised by ``Serde``, made
canonical-ready with ``prepare`` and signed (chained) with ``sign_event``, one JSON line each, as the signing
transport writes them.  Dataset digests come from the real hashing engine; inference logs from the real recorder.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import job_type_job, parent_run
from openlineage.client.serde import Serde
from openlineage.client.uuid import generate_new_uuid

from provlineage import facets as pf
from provlineage._internal.canonical import prepare
from provlineage.hashing import HashOptions, hash_path
from provlineage.inference import InferenceRecorder
from provlineage.signer import KeySigner
from provlineage.signing import ChainLink, sign_event

NAMESPACE = "ml-platform"
BASE_TIME = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone.utc)
_HASH = HashOptions(use_cache=False, progress=False)


def environment(commit: str = "4f1c2e9a7b", dirty: bool = False) -> pf.EnvironmentRunFacet:
    return pf.EnvironmentRunFacet(
        python={"version": "3.11.9", "implementation": "CPython"},
        os={"name": "Linux", "release": "6.8.0"},
        architecture="x86_64",
        hostname="trainer-01",
        cpuCount=8,
        distributions={"numpy": "1.26.4", "scikit-learn": "1.5.0", "requests": "2.32.3"},
        distributionsDigest="sha256:" + "d" * 64,
        git={"commit": commit, "branch": "main", "dirty": dirty, "remoteUrl": "https://git.example.com/ml/churn.git"},
    )


class SignedLog:
    """Appends signed, hash-chained events to a JSON Lines file; times advance one minute per event."""

    def __init__(self, path: Path, private_key: Path, stream: str = "trainer-01") -> None:
        self.path = path
        self.signer = KeySigner.from_file(private_key)
        self.stream = stream
        self.sequence = 0
        self.previous: str | None = None
        self.clock = BASE_TIME

    def emit(self, event: RunEvent, *, signed: bool = True) -> dict[str, Any]:
        data = prepare(Serde.to_dict(event))
        if signed:
            self.sequence += 1
            self.previous = sign_event(data, self.signer, chain=ChainLink(self.stream, self.sequence, self.previous))
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(data, sort_keys=True) + "\n")
        return data

    def tick(self) -> str:
        self.clock += dt.timedelta(minutes=1)
        return self.clock.isoformat().replace("+00:00", "Z")

    def lines(self) -> list[str]:
        return self.path.read_text(encoding="utf-8").splitlines()


def dataset_facets(path: Path) -> dict[str, Any]:
    return {pf.DATASET_HASH: hash_path(path, _HASH).to_facet()}


def model_facets(path: Path, name: str, version: str | None) -> dict[str, Any]:
    digest = hash_path(path, _HASH)
    return {
        pf.DATASET_HASH: digest.to_facet(),
        pf.MODEL: pf.ModelDatasetFacet(
            name=name, digest=digest.prefixed, version=version, framework="scikit-learn", format="pickle"
        ),
    }


def _job(name: str, kind: str) -> Job:
    return Job(
        namespace=NAMESPACE,
        name=name,
        facets={
            "jobType": job_type_job.JobTypeJobFacet(processingType="BATCH", integration="PROVLINEAGE", jobType=kind)
        },
    )


def training_run(
    log: SignedLog,
    *,
    datasets: list[Path],
    model: Path,
    name: str = "churn",
    version: str | None = "1",
    job: str = "churn.train",
    parameters: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    metrics_dataset: Path | None = None,
    commit: str = "4f1c2e9a7b",
    parent: tuple[str, str] | None = None,
) -> str:
    """START then COMPLETE of a training run that read ``datasets`` and wrote ``model``; returns the run id."""
    run_id = str(generate_new_uuid())
    start_facets: dict[str, Any] = {pf.ENVIRONMENT: environment(commit)}
    if parent is not None:
        start_facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=parent[0]), job=parent_run.Job(namespace=NAMESPACE, name=parent[1])
        )
    log.emit(
        RunEvent(
            eventType=RunState.START,
            eventTime=log.tick(),
            run=Run(runId=run_id, facets=start_facets),
            job=_job(job, "TRAINING"),
            producer=pf.PRODUCER,
        )
    )
    facets = dict(start_facets)
    facets[pf.HYPERPARAMETERS] = pf.HyperparametersRunFacet(
        parameters=parameters or {"C": 1.0, "max_iter": 200}, redactedKeys=[]
    )
    if metrics is not None:
        on = {"namespace": "file", "name": str(metrics_dataset)} if metrics_dataset else None
        facets[pf.METRICS] = pf.MetricsRunFacet(metrics=metrics, dataset=on)
    log.emit(
        RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=log.tick(),
            run=Run(runId=run_id, facets=facets),
            job=_job(job, "TRAINING"),
            inputs=[InputDataset(namespace="file", name=str(p), facets=dataset_facets(p)) for p in datasets],
            outputs=[OutputDataset(namespace="file", name=str(model), facets=model_facets(model, name, version))],
            producer=pf.PRODUCER,
        )
    )
    return run_id


def processing_run(log: SignedLog, *, inputs: list[Path], outputs: list[Path], job: str = "churn.features") -> str:
    """A COMPLETE-only data preparation run (reads and writes plain datasets)."""
    run_id = str(generate_new_uuid())
    log.emit(
        RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=log.tick(),
            run=Run(runId=run_id, facets={pf.ENVIRONMENT: environment()}),
            job=_job(job, "FEATURE_ENGINEERING"),
            inputs=[InputDataset(namespace="file", name=str(p), facets=dataset_facets(p)) for p in inputs],
            outputs=[OutputDataset(namespace="file", name=str(p), facets=dataset_facets(p)) for p in outputs],
            producer=pf.PRODUCER,
        )
    )
    return run_id


def inference_run(
    log: SignedLog,
    *,
    model: Path,
    name: str = "churn",
    version: str | None = "1",
    inference_log: Path,
    inputs: list[dict[str, Any]] | None = None,
    job: str = "churn.predict",
    with_model_digest: bool = True,
) -> tuple[str, list[str]]:
    """An inference run that read ``model`` and recorded predictions; returns (run id, inference ids)."""
    run_id = str(generate_new_uuid())
    model_input = model_facets(model, name, version) if with_model_digest else {}
    digest = model_input[pf.MODEL].digest if with_model_digest else None
    recorder = InferenceRecorder(
        inference_log, run_id=run_id, job_namespace=NAMESPACE, job_name=job, model_digest=digest
    )
    ids = [
        recorder.record(features, {"churn": index % 2})
        for index, features in enumerate(inputs or [{"tenure": i} for i in range(5)])
    ]
    sealed = recorder.seal(log.signer, status="COMPLETE")
    log.emit(
        RunEvent(
            eventType=RunState.START,
            eventTime=log.tick(),
            run=Run(runId=run_id, facets={}),
            job=_job(job, "INFERENCE"),
            producer=pf.PRODUCER,
        )
    )
    log.emit(
        RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=log.tick(),
            run=Run(
                runId=run_id,
                facets={
                    pf.INFERENCE: sealed.facet(model_digest=digest, log_path=inference_log, payloads_retained=False)
                },
            ),
            job=_job(job, "INFERENCE"),
            inputs=[InputDataset(namespace="file", name=str(model), facets=model_input)],
            producer=pf.PRODUCER,
        )
    )
    return run_id, ids


def tamper(path: Path, line: int, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in one line (1-based) of a log, as an attacker editing the file would."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert old in lines[line - 1], f"{old!r} is not on line {line}"
    lines[line - 1] = lines[line - 1].replace(old, new)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
