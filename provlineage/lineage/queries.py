"""The auditor's questions, answered from the verified lineage graph.

* :func:`ask_model`: which datasets trained this model, with what code, configuration and environment, with what
  metrics, signed by whom, and which runs used it.
* :func:`ask_dataset`: every run that read or wrote a dataset, and every model downstream of it.
* :func:`ask_inference`: one prediction back to the data: inference -> run -> model -> training run -> datasets,
  with the Merkle inclusion proof tying the prediction to its run's signed commitment.
* :func:`ask_run`: one run in full, with its neighbours.
* :func:`ask_report`: what an audit flags: models trained on several datasets, models without dataset
  provenance, inputs without digests, and (with the CLI) unverified records and changed files.

Every answer carries the record-wide caveats (unverified records, chain findings) so that nothing unverified is
mixed in silently: unverified records never contribute facts, they are only pointed at.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provlineage import facets as pf
from provlineage.errors import ProvlineageError
from provlineage.lineage.filecheck import FileCheck
from provlineage.lineage.graph import DatasetKey, Lineage, ModelVersion, Run
from provlineage.lineage.views import (
    Caveat,
    DatasetRef,
    ModelView,
    RunView,
    dataset_ref,
    model_view,
    run_view,
)
from provlineage.naming import dataset_identity


class LineageNotFound(ProvlineageError):
    """The model, dataset, run or inference asked about is not in the verified record."""


@dataclass
class ModelAnswer:
    models: list[ModelView]


@dataclass
class DownstreamModel:
    """A model reached from a dataset, with the runs in between (job names, nearest first)."""

    model: ModelView
    path: list[str]


@dataclass
class DatasetView:
    namespace: str
    name: str
    is_model: bool
    digests: list[str]
    """Distinct content digests recorded for it, oldest first."""
    writers: list[RunView]
    readers: list[RunView]
    downstream_models: list[DownstreamModel]


@dataclass
class DatasetAnswer:
    datasets: list[DatasetView]


@dataclass
class InferenceView:
    inference_id: str
    run: RunView
    record: dict[str, Any] | None
    """The inference record from the inference log, as proven (when the log holds it)."""
    proof: dict[str, Any]
    merkle_root: str | None
    proof_verified: bool
    log: str
    models: list[ModelView]


@dataclass
class InferenceAnswer:
    inference: InferenceView


@dataclass
class RunAnswer:
    run: RunView
    parent: RunView | None
    children: list[RunView]
    upstream: list[RunView]
    """Verified runs that wrote what this run read."""
    downstream: list[RunView]
    """Verified runs that read what this run wrote."""
    models: list[ModelView]


@dataclass
class ReportAnswer:
    models: list[ModelView]
    multi_dataset: list[ModelView]
    without_provenance: list[ModelView]
    inputs_without_digest: list[tuple[RunView, DatasetRef]]
    run_count: int
    dataset_count: int


Body = ModelAnswer | DatasetAnswer | InferenceAnswer | RunAnswer | ReportAnswer


@dataclass
class Answer:
    """An answer, with everything that qualifies it."""

    kind: str
    query: str
    lineage: Lineage
    body: Body
    scope: set[str]
    """Run ids the answer involves (for graph and PROV export)."""
    caveats: list[Caveat] = field(default_factory=list)
    file_checks: list[FileCheck] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """Why this answer cannot be taken at face value (empty when the whole record verified and files match)."""
        found = []
        if self.lineage.unverified:
            found.append(f"{len(self.lineage.unverified)} unverified record(s)")
        if self.lineage.chain:
            found.append(f"{len(self.lineage.chain)} chain finding(s)")
        changed = [check for check in self.file_checks if check.status not in ("match", "not-local")]
        if changed:
            found.append(f"{len(changed)} dataset(s) no longer match their recorded digest")
        if isinstance(self.body, InferenceAnswer) and not self.body.inference.proof_verified:
            found.append("the inference's inclusion proof does not match its run's signed Merkle root")
        if isinstance(self.body, ReportAnswer) and self.body.without_provenance:
            found.append(f"{len(self.body.without_provenance)} model(s) without dataset provenance")
        return found

    def dataset_refs(self) -> list[DatasetRef]:
        """Every dataset reference in the answer (what ``--check-files`` re-hashes)."""
        refs: list[DatasetRef] = []
        for view in self.run_views():
            refs += [*view.inputs, *view.outputs]
        for model in _models_of(self.body):
            refs += model.upstream
        return refs

    def run_views(self) -> list[RunView]:
        body = self.body
        views: list[RunView] = []
        for model in _models_of(body):
            views += [*model.training, *model.consumers]
        if isinstance(body, DatasetAnswer):
            for dataset in body.datasets:
                views += [*dataset.writers, *dataset.readers]
        elif isinstance(body, InferenceAnswer):
            views.append(body.inference.run)
        elif isinstance(body, RunAnswer):
            views += [
                body.run,
                *([body.parent] if body.parent else []),
                *body.children,
                *body.upstream,
                *body.downstream,
            ]
        return views


def _models_of(body: Body) -> list[ModelView]:
    if isinstance(body, (ModelAnswer, ReportAnswer)):
        return body.models
    if isinstance(body, DatasetAnswer):
        return [d.model for dataset in body.datasets for d in dataset.downstream_models]
    if isinstance(body, InferenceAnswer):
        return body.inference.models
    if isinstance(body, RunAnswer):
        return body.models
    return []


# --- record-wide caveats ---------------------------------------------------------------------------------------
def record_caveats(lineage: Lineage) -> list[Caveat]:
    caveats = []
    if lineage.unverified:
        caveats.append(
            Caveat(
                "unverified-records",
                f"{len(lineage.unverified)} of {lineage.record_count} records did not verify; they are listed "
                "separately and nothing in them was used for this answer",
            )
        )
    present: dict[str, list[str]] = {}  # sequence numbers whose record is in the log but did not verify
    for item in lineage.unverified:
        record = item.record
        if record.stream is not None and record.sequence is not None:
            present.setdefault(record.stream, []).append(f"{record.sequence} at {record.source}:{record.line}")
    by_kind: dict[str, list[str]] = {}
    for finding in lineage.chain:
        detail = f"stream {finding.stream}: {finding.detail}"
        if finding.kind == "gap" and finding.stream in present:
            detail += f" (present but unverified: {', '.join(present[finding.stream])})"
        by_kind.setdefault(finding.kind, []).append(detail)
    for kind, details in by_kind.items():
        plural = {"gap": "gaps", "duplicate": "duplicates", "conflict": "conflicts"}.get(kind, f"{kind} findings")
        caveats.append(Caveat("chain", f"the record has {plural}: " + "; ".join(details)))
    if lineage.legacy:
        caveats.append(
            Caveat(
                "legacy-records",
                f"{len(lineage.legacy)} authentic records in the old ProvenanceTracker format are not OpenLineage "
                "events and were not used",
            )
        )
    return caveats


def _answer(kind: str, query: str, lineage: Lineage, body: Body, scope: set[str]) -> Answer:
    return Answer(kind, query, lineage, body, scope, record_caveats(lineage))


# --- model ---------------------------------------------------------------------------------------------------
def _split_model_query(query: str) -> tuple[str, str | None]:
    name, at, version = query.rpartition("@")
    if at and name and "/" not in version:
        return name, version
    return query, None


def _path_key(text: str) -> DatasetKey | None:
    looks_like_path = "/" in text or os.sep in text or "://" in text or Path(text).exists()
    if not looks_like_path:
        return None
    try:
        return dataset_identity(text)
    except (ValueError, OSError):
        return None


def find_models(lineage: Lineage, query: str) -> list[ModelVersion]:
    """Model versions matching ``NAME[@VERSION]``: the model facet's name, the dataset name, or a path.

    ``VERSION`` matches the model facet's version or a prefix of the artifact digest (``@sha256:3fa2``).
    """
    name, version = _split_model_query(query)
    path_key = _path_key(name)
    matches = [
        model for model in lineage.models if model.name == name or model.dataset[1] == name or model.dataset == path_key
    ]
    if version is not None:
        matches = [
            model
            for model in matches
            if model.version == version
            or (model.digest is not None and len(version) >= 8 and model.digest.startswith(version))
        ]
    return matches


def _not_found(lineage: Lineage, what: str, query: str, known: list[str], claimed: list[str]) -> LineageNotFound:
    sources = ", ".join(lineage.sources)
    where = f"the {lineage.verified_count} verified events of {sources}"
    if claimed:
        return LineageNotFound(
            f"{what} {query!r} appears only in unverified records ({', '.join(claimed[:5])}) of {sources}",
            "those records failed verification and cannot answer; run `provlineage verify` on the log to see why",
        )
    listing = f" (known: {', '.join(known[:8])}{', ...' if len(known) > 8 else ''})" if known else ""
    return LineageNotFound(
        f"no {what} {query!r} in {where}{listing}",
        "run `provlineage lineage ... --report` to list models, or check the spelling",
    )


def _claimed_lines(lineage: Lineage, matches: Any) -> list[str]:
    return [
        f"{item.record.source}:{item.record.line} {item.record.status.value}"
        for item in lineage.unverified
        if matches(item.claims)
    ]


def ask_model(lineage: Lineage, query: str) -> Answer:
    versions = find_models(lineage, query)
    if not versions:
        name, _ = _split_model_query(query)
        path_key = _path_key(name)
        claimed = _claimed_lines(
            lineage, lambda c: name in c.models or any(k[1] == name or k == path_key for k in c.datasets)
        )
        raise _not_found(lineage, "model", query, sorted({m.label for m in lineage.models}), claimed)
    views = [model_view(lineage, version) for version in versions]
    return _answer("model", query, lineage, ModelAnswer(views), _model_scope(lineage, versions))


def _model_scope(lineage: Lineage, versions: list[ModelVersion]) -> set[str]:
    scope: set[str] = set()
    for version in versions:
        scope.update(version.training_runs, version.consumer_runs, version.unpinned_consumers)
        scope.update(_upstream_runs(lineage, [lineage.runs[r] for r in version.training_runs]))
    return scope


def _upstream_runs(lineage: Lineage, runs: list[Run]) -> set[str]:
    seen: set[str] = set()
    frontier = list(runs)
    while frontier:
        reader = frontier.pop()
        for use in reader.inputs.values():
            for writer in lineage.writers_before(use, reader):
                if writer.run_id not in seen:
                    seen.add(writer.run_id)
                    frontier.append(writer)
    return seen


# --- dataset -------------------------------------------------------------------------------------------------
def find_datasets(lineage: Lineage, query: str) -> list[DatasetKey]:
    """Datasets named ``query`` (in any namespace), or identified by it as a path or URI."""
    matches = [key for key in lineage.datasets if key[1] == query or f"{key[0]}/{key[1]}" == query]
    path_key = _path_key(query)
    if path_key is not None and path_key in lineage.datasets and path_key not in matches:
        matches.append(path_key)
    return matches


def _downstream_models(lineage: Lineage, key: DatasetKey) -> list[DownstreamModel]:
    """Models reachable from ``key`` through reader runs and what they wrote (content-matched when digests exist)."""
    results: dict[tuple[DatasetKey, str | None], DownstreamModel] = {}
    node = lineage.datasets[key]
    frontier: list[tuple[Run, list[str]]] = [(lineage.runs[r], []) for r in node.readers]
    seen: set[str] = set()
    while frontier:
        run, path = frontier.pop(0)
        if run.run_id in seen:
            continue
        seen.add(run.run_id)
        here = [*path, f"{run.job[1]} (run {run.run_id})"]
        for out_key, use in run.outputs.items():
            for version in lineage.models_of(out_key):
                if run.run_id in version.training_runs and (out_key, version.digest) not in results:
                    results[(out_key, version.digest)] = DownstreamModel(model_view(lineage, version), here)
            frontier += [(reader, here) for reader in lineage.readers_after(use, run)]
    return list(results.values())


def _dataset_view(lineage: Lineage, key: DatasetKey) -> DatasetView:
    node = lineage.datasets[key]
    writers = [run_view(lineage, lineage.runs[r]) for r in node.writers]
    readers = [run_view(lineage, lineage.runs[r]) for r in node.readers]
    digests: list[str] = []
    for run_id in sorted([*node.writers, *node.readers], key=lambda r: lineage.runs[r].start_key):
        run = lineage.runs[run_id]
        use = run.outputs.get(key) or run.inputs.get(key)
        if use is not None and use.digest is not None and use.digest not in digests:
            digests.append(use.digest)
    return DatasetView(key[0], key[1], node.is_model, digests, writers, readers, _downstream_models(lineage, key))


def ask_dataset(lineage: Lineage, query: str) -> Answer:
    keys = find_datasets(lineage, query)
    if not keys:
        path_key = _path_key(query)
        claimed = _claimed_lines(lineage, lambda c: any(k[1] == query or k == path_key for k in c.datasets))
        raise _not_found(lineage, "dataset", query, sorted({k[1] for k in lineage.datasets}), claimed)
    views = [_dataset_view(lineage, key) for key in keys]
    scope: set[str] = set()
    for view in views:
        scope.update(run.run_id for run in [*view.writers, *view.readers])
        for downstream in view.downstream_models:
            scope.update(run.run_id for run in downstream.model.training)
    return _answer("dataset", query, lineage, DatasetAnswer(views), scope)


# --- run -----------------------------------------------------------------------------------------------------
def find_run(lineage: Lineage, query: str) -> Run | None:
    """A run by its id, or by a unique prefix of at least 8 characters."""
    if query in lineage.runs:
        return lineage.runs[query]
    matches = [run for run_id, run in lineage.runs.items() if len(query) >= 8 and run_id.startswith(query)]
    return matches[0] if len(matches) == 1 else None


def ask_run(lineage: Lineage, query: str) -> Answer:
    run = find_run(lineage, query)
    if run is None:
        claimed = _claimed_lines(lineage, lambda c: c.run_id is not None and c.run_id.startswith(query))
        raise _not_found(lineage, "run", query, [], claimed)
    parent = lineage.runs.get(run.parent_run_id or "")
    upstream = {w.run_id: w for use in run.inputs.values() for w in lineage.writers_before(use, run)}
    downstream = {r.run_id: r for use in run.outputs.values() for r in lineage.readers_after(use, run)}
    versions = [
        m
        for m in lineage.models
        if run.run_id in m.training_runs or run.run_id in m.consumer_runs or run.run_id in m.unpinned_consumers
    ]
    children = lineage.children_of(run.run_id)
    body = RunAnswer(
        run_view(lineage, run),
        run_view(lineage, parent) if parent else None,
        [run_view(lineage, child) for child in children],
        [run_view(lineage, w) for w in upstream.values()],
        [run_view(lineage, r) for r in downstream.values()],
        [model_view(lineage, m) for m in versions],
    )
    scope = {run.run_id, *upstream, *downstream, *(c.run_id for c in children), *([parent.run_id] if parent else [])}
    return _answer("run", query, lineage, body, scope)


# --- inference -----------------------------------------------------------------------------------------------
def ask_inference(lineage: Lineage, inference_id: str, extra_logs: list[str] | None = None) -> Answer:
    """Find the verified run whose inference log holds ``inference_id`` and prove it against the signed root.

    ``extra_logs`` are inference logs to search besides the ones the runs' facets name (e.g. moved copies).
    """
    from provlineage.lineage.inference_chain import locate_inference

    located = locate_inference(lineage, inference_id, extra_logs)
    run = located.run
    versions = [m for key in run.inputs for m in lineage.version_read_by(run, key)]
    models = [model_view(lineage, version) for version in versions]
    facet = run.facet(pf.INFERENCE) or {}
    view = InferenceView(
        inference_id=inference_id,
        run=run_view(lineage, run, "inference"),
        record=located.record,
        proof=located.proof,
        merkle_root=facet.get("merkleRoot") if isinstance(facet.get("merkleRoot"), str) else None,
        proof_verified=located.verified,
        log=located.log,
        models=models,
    )
    scope = {run.run_id, *_model_scope(lineage, versions)}
    answer = _answer("inference", inference_id, lineage, InferenceAnswer(view), scope)
    if not located.verified:
        answer.caveats.insert(
            0,
            Caveat(
                "inclusion-proof", f"the inclusion proof of {inference_id} does not match the run's signed Merkle root"
            ),
        )
    return answer


# --- report --------------------------------------------------------------------------------------------------
def ask_report(lineage: Lineage) -> Answer:
    models = [model_view(lineage, version) for version in lineage.models]
    multi = [model for model in models if len({ref.key for ref in model.training_datasets}) > 1]
    without = [model for model in models if not model.has_dataset_provenance]
    missing_digest: list[tuple[RunView, DatasetRef]] = []
    for run in lineage.runs.values():
        view = run_view(lineage, run)
        missing_digest += [(view, ref) for ref in view.inputs if ref.digest is None]
    body = ReportAnswer(models, multi, without, missing_digest, len(lineage.runs), len(lineage.datasets))
    return _answer("report", "", lineage, body, set(lineage.runs))


def latest_recorded(lineage: Lineage) -> list[DatasetRef]:
    """Each dataset's most recently recorded digest (what ``--report --check-files`` compares with the disk)."""
    latest: dict[DatasetKey, tuple[str, DatasetRef]] = {}
    for run in lineage.runs.values():
        for use in [*run.inputs.values(), *run.outputs.values()]:
            previous = latest.get(use.key)
            if use.digest is not None and (previous is None or previous[0] <= run.end_key):
                latest[use.key] = (run.end_key, dataset_ref(lineage, use, []))
    return [ref for _, ref in latest.values()]
