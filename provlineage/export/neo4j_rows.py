"""The Neo4j graph model: which nodes and relationships a verified :class:`Lineage` becomes, as plain rows.

No driver here: this module only decides the shape (documented in the README, "Neo4j export"), so it can be read
and tested without a database.  Neo4j properties hold no maps, so nested values (hyperparameters, environment,
metrics) are stored as JSON strings with sorted keys; lists of strings (key ids, paths) are native lists.

Identities follow the older importer: a Dataset is its content ``hash``, a Model is ``(name, commit)`` where
``commit`` is the artifact digest of the model version (the training code's git commit is ``gitCommit``: two
trainings at one code commit are two models), an Inference is its ``id``.  Runs are ``runId``, Jobs ``(namespace,
name)``.  A dataset without a recorded digest gets ``hash = "unhashed:<namespace>/<name>"`` and no ``digest``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from provlineage import facets as pf
from provlineage.lineage.graph import DatasetUse, Lineage, ModelVersion, Run, time_key
from provlineage.lineage.views import environment_summary, git_summary, metric_datasets, role_of, strip_meta

Row = dict[str, Any]


def as_json(value: Any) -> str | None:
    """A nested value as a JSON string (sorted keys, so re-imports write byte-identical properties)."""
    return None if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def dataset_hash(use: DatasetUse) -> str:
    return use.digest or f"unhashed:{use.key[0]}/{use.key[1]}"


def model_commit(version: ModelVersion) -> str:
    return version.digest or f"undigested:{version.dataset[0]}/{version.dataset[1]}"


@dataclass
class GraphRows:
    """Everything one import writes from the event log, grouped by the Cypher statement that writes it.

    Inference records come from the inference logs instead (:mod:`provlineage.export.neo4j_inferences`)."""

    jobs: list[Row] = field(default_factory=list)
    runs: list[Row] = field(default_factory=list)
    parents: list[Row] = field(default_factory=list)
    environments: list[Row] = field(default_factory=list)
    datasets: list[Row] = field(default_factory=list)
    models: list[Row] = field(default_factory=list)
    run_datasets: list[Row] = field(default_factory=list)
    run_models: list[Row] = field(default_factory=list)
    used_in: list[Row] = field(default_factory=list)
    evaluated_on: list[Row] = field(default_factory=list)
    metrics: list[Row] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.__dict__.items()}


def _time(value: str | None) -> str | None:
    return value or None


def _is_model(lineage: Lineage, key: tuple[str, str], use: DatasetUse) -> bool:
    return use.model is not None or lineage.datasets[key].is_model


def _description(use: DatasetUse, lineage: Lineage) -> str | None:
    for facets in (use.facets, lineage.datasets[use.key].facets):
        documentation = facets.get("documentation")
        if isinstance(documentation, dict) and isinstance(documentation.get("description"), str):
            return documentation["description"]
    return None


def dataset_row(lineage: Lineage, use: DatasetUse, run: Run) -> Row:
    facet = use.hash_facet or {}
    manifest = facet.get("manifest")
    root_method = facet.get("rootDigestMethod") if isinstance(facet.get("rootDigestMethod"), str) else None
    return {
        "hash": dataset_hash(use),
        "props": {
            "digest": use.digest,
            "namespace": use.key[0],
            "name": use.key[1],
            "description": _description(use, lineage),
            "algorithm": facet.get("algorithm"),
            "kind": facet.get("kind"),
            "size": facet.get("size"),
            "fileCount": facet.get("fileCount"),
            "uri": facet.get("uri"),
            "manifestRoot": use.digest if root_method else None,
            "rootDigestMethod": root_method,
            "manifestEntries": len(manifest) if isinstance(manifest, list) else None,
            "manifestOmitted": facet.get("manifestOmitted"),
            "verified": True,
        },
        "path": use.key[1],
        "timestamp": _time(run.started_at),
        "keyIds": run.key_ids,
    }


def model_row(lineage: Lineage, version: ModelVersion) -> Row:
    """The version's latest training run gives hyperparameters and environment; without one, its first reader dates it."""
    training = max((lineage.runs[r] for r in version.training_runs), key=lambda run: run.end_key, default=None)
    parameters = (training.facet(pf.HYPERPARAMETERS) or {}) if training else {}
    readers = [lineage.runs[r] for r in [*version.consumer_runs, *version.unpinned_consumers]]
    dated = training or min(readers, key=lambda run: run.start_key, default=None)
    git = git_summary(training) if training else None
    key_ids = sorted({k for run in ([training] if training else readers) for k in run.key_ids})
    facet = version.facet
    return {
        "name": version.name,
        "commit": model_commit(version),
        "props": {
            "digest": version.digest,
            "version": version.version,
            "framework": facet.get("framework") if isinstance(facet.get("framework"), str) else None,
            "format": facet.get("format") if isinstance(facet.get("format"), str) else None,
            "namespace": version.dataset[0],
            "path": version.dataset[1],
            "hyperparameters": as_json(parameters.get("parameters")) if training else None,
            "environment": as_json(environment_summary(training.facet(pf.ENVIRONMENT))) if training else None,
            "gitCommit": str(git["commit"]) if git else None,
            "timestamp": (dated.ended_at or dated.started_at) if dated else None,
            "trainingRunId": training.run_id if training else None,
            "verified": True,
        },
        "keyIds": key_ids,
    }


def environment_row(run: Run) -> Row | None:
    facet = strip_meta(run.facet(pf.ENVIRONMENT))
    if not facet:
        return None
    text = as_json(facet) or ""
    summary = environment_summary(facet) or {}
    git = git_summary(run)
    return {
        "id": "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "runId": run.run_id,
        "props": {
            "python": summary.get("python"),
            "os": summary.get("os"),
            "architecture": summary.get("architecture"),
            "hostname": summary.get("hostname"),
            "containerImage": summary.get("containerImage"),
            "distributionsDigest": summary.get("distributionsDigest"),
            "keyPackages": as_json(summary.get("keyPackages")),
            "gitCommit": str(git["commit"]) if git else None,
            "facet": text,
            "verified": True,
        },
    }


def run_row(lineage: Lineage, run: Run) -> Row:
    parameters = run.facet(pf.HYPERPARAMETERS)
    metrics = run.facet(pf.METRICS)
    inference = run.facet(pf.INFERENCE) or {}
    git = git_summary(run)
    return {
        "runId": run.run_id,
        "jobNamespace": run.job[0],
        "jobName": run.job[1],
        "props": {
            "state": run.state,
            "role": role_of(lineage, run),
            "startedAt": _time(run.started_at),
            "endedAt": _time(run.ended_at),
            "hyperparameters": as_json(parameters.get("parameters")) if parameters else None,
            "metrics": as_json(metrics.get("metrics")) if metrics else None,
            "gitCommit": str(git["commit"]) if git else None,
            "inferenceCount": inference.get("count"),
            "merkleRoot": inference.get("merkleRoot"),
            "eventCount": len(run.events),
            "keyIds": run.key_ids,
            "streams": run.streams,
            "producers": run.producers,
            "verified": True,
        },
    }


def _metric_value(value: Any) -> Any:
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return value
    return as_json(value)


def metric_rows(run: Run) -> list[Row]:
    """One row per (run, slice, metric); the whole-dataset metrics have ``slice`` null."""
    facet = run.facet(pf.METRICS)
    if facet is None:
        return []
    holders = [(None, facet)] + [
        (str(s.get("name")), s) for s in facet.get("slices") or [] if isinstance(s, dict) and s.get("name") is not None
    ]
    rows = []
    for slice_name, holder in holders:
        dataset = holder.get("dataset") if isinstance(holder.get("dataset"), dict) else None
        if dataset is None and slice_name is not None and isinstance(facet.get("dataset"), dict):
            dataset = facet["dataset"]
        key = (dataset.get("namespace"), dataset.get("name")) if dataset else None
        use = run.inputs.get(key) if key else None  # type: ignore[arg-type]
        values = holder.get("metrics") if isinstance(holder.get("metrics"), dict) else {}
        for name, value in sorted(values.items()):
            rows.append(
                {
                    "id": f"{run.run_id}|{slice_name or ''}|{name}",
                    "runId": run.run_id,
                    "datasetHash": dataset_hash(use) if use else None,
                    "props": {
                        "name": name,
                        "value": _metric_value(value),
                        "slice": slice_name,
                        "dataset": f"{key[0]}/{key[1]}" if key else None,
                        "verified": True,
                    },
                }
            )
    return rows


def _merge_dataset(datasets: dict[str, Row], row: Row) -> None:
    """One row per content hash: later uses win the properties, paths and key ids are unions, the time the earliest."""
    seen = datasets.get(row["hash"])
    if seen is None:
        datasets[row["hash"]] = {**row, "paths": [row["path"]]}
        return
    seen["props"] = row["props"]
    seen["paths"] += [] if row["path"] in seen["paths"] else [row["path"]]
    seen["keyIds"] = sorted({*seen["keyIds"], *row["keyIds"]})
    times = [t for t in (seen["timestamp"], row["timestamp"]) if t]
    seen["timestamp"] = min(times, key=time_key) if times else None


def _versions_touched(lineage: Lineage, scope: set[str]) -> list[ModelVersion]:
    return [
        version
        for version in lineage.models
        if scope.intersection([*version.training_runs, *version.consumer_runs, *version.unpinned_consumers])
    ]


def graph_rows(lineage: Lineage, scope: Iterable[str]) -> GraphRows:
    """The rows for the runs in ``scope`` (every run for a full import) and whatever they touch."""
    runs = [lineage.runs[run_id] for run_id in scope]
    wanted = {run.run_id for run in runs}
    rows = GraphRows()
    jobs = {run.job for run in runs}
    rows.jobs = [{"namespace": ns, "name": name} for ns, name in sorted(jobs)]
    environments: dict[str, Row] = {}
    datasets: dict[str, Row] = {}
    for run in runs:
        rows.runs.append(run_row(lineage, run))
        if run.parent_run_id and run.parent_run_id in lineage.runs:
            rows.parents.append({"runId": run.run_id, "parentRunId": run.parent_run_id})
        environment = environment_row(run)
        if environment:
            environments.setdefault(environment["id"], {**environment, "runIds": []})["runIds"].append(run.run_id)
        rows.metrics += metric_rows(run)
        for relation, uses in (("READ", run.inputs), ("WROTE", run.outputs)):
            for key, use in uses.items():
                if _is_model(lineage, key, use):
                    continue
                _merge_dataset(datasets, dataset_row(lineage, use, run))
                rows.run_datasets.append({"runId": run.run_id, "hash": dataset_hash(use), "relation": relation})
    rows.environments = [{key: v for key, v in row.items() if key != "runId"} for row in environments.values()]
    rows.datasets = list(datasets.values())
    for version in _versions_touched(lineage, wanted):
        rows.models.append(model_row(lineage, version))
        ident = {"name": version.name, "commit": model_commit(version)}
        for run_id in version.training_runs:
            run = lineage.runs[run_id]
            rows.run_models.append({**ident, "runId": run_id, "relation": "WROTE"})
            held_out = metric_datasets(run.facet(pf.METRICS))
            for key, use in run.inputs.items():
                if _is_model(lineage, key, use):
                    continue
                target = rows.evaluated_on if key in held_out else rows.used_in
                target.append({**ident, "hash": dataset_hash(use)})
        for run_id in [*version.consumer_runs, *version.unpinned_consumers]:
            rows.run_models.append({**ident, "runId": run_id, "relation": "READ"})
    return rows
