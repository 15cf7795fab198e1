"""What every answer is made of: the answer shapes, the record-wide caveats, and the shared "not found" error.

Every answer carries the record-wide caveats (unverified records, chain findings) so that nothing unverified is
mixed in silently: unverified records never contribute facts, they are only pointed at.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provlineage.errors import LineageNotFound
from provlineage.lineage.filecheck import FileCheck
from provlineage.lineage.graph import DatasetKey, Lineage
from provlineage.lineage.views import Caveat, DatasetRef, ModelView, RunView
from provlineage.naming import dataset_identity


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
    without_digest: list[ModelView] = field(default_factory=list)
    """Model versions whose artifact digest was never recorded (the file could not be read when logged)."""


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
        if isinstance(self.body, ReportAnswer) and self.body.without_digest:
            found.append(f"{len(self.body.without_digest)} model(s) without an artifact digest")
        return found

    def dataset_refs(self) -> list[DatasetRef]:
        """Every dataset reference in the answer (what ``--check-files`` re-hashes)."""
        refs: list[DatasetRef] = []
        for view in self.run_views():
            refs += [*view.inputs, *view.outputs]
        for model in models_of(self.body):
            refs += model.upstream
        return refs

    def run_views(self) -> list[RunView]:
        body = self.body
        views: list[RunView] = []
        for model in models_of(body):
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


def models_of(body: Body) -> list[ModelView]:
    if isinstance(body, (ModelAnswer, ReportAnswer)):
        return body.models
    if isinstance(body, DatasetAnswer):
        return [d.model for dataset in body.datasets for d in dataset.downstream_models]
    if isinstance(body, InferenceAnswer):
        return body.inference.models
    if isinstance(body, RunAnswer):
        return body.models
    return []


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


def make_answer(kind: str, query: str, lineage: Lineage, body: Body, scope: set[str]) -> Answer:
    return Answer(kind, query, lineage, body, scope, record_caveats(lineage))


def as_dataset_key(text: str) -> DatasetKey | None:
    looks_like_path = "/" in text or os.sep in text or "://" in text or Path(text).exists()
    if not looks_like_path:
        return None
    try:
        return dataset_identity(text)
    except (ValueError, OSError):
        return None


MODEL_FIX = "run `provlineage lineage ... --report` to list models, or check the spelling"


def not_found(
    lineage: Lineage,
    what: str,
    query: str,
    known: list[str],
    claimed: list[str],
    *,
    fix: str = MODEL_FIX,
    limit: int = 8,
) -> LineageNotFound:
    """One line: what was searched where, the first ``limit`` of what is there, and ``fix``."""
    sources = ", ".join(lineage.sources)
    where = f"the {lineage.verified_count} verified events of {sources}"
    if claimed:
        return LineageNotFound(
            f"{what} {query!r} appears only in unverified records ({', '.join(claimed[:5])}) of {sources}",
            "those records failed verification and cannot answer; run `provlineage verify` on the log to see why",
        )
    listing = f" (known: {', '.join(known[:limit])}{', ...' if len(known) > limit else ''})" if known else ""
    return LineageNotFound(f"no {what} {query!r} in {where}{listing}", fix)


def claimed_lines(lineage: Lineage, matches: Any) -> list[str]:
    return [
        f"{item.record.source}:{item.record.line} {item.record.status.value}"
        for item in lineage.unverified
        if matches(item.claims)
    ]
