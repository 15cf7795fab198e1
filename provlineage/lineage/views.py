"""Plain views of runs and datasets, the building blocks every answer is made of.

A view copies out of the graph exactly what an auditor reads: for a run its job, state, times, inputs and outputs
with their digests, hyperparameters, environment, git commit, metrics, inference commitment, signer keys and how
well its record verified (with the caveats that qualify it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provlineage import facets as pf
from provlineage.lineage.graph import DatasetKey, DatasetUse, EventRef, Lineage, ModelVersion, Run
from provlineage.lineage.summaries import environment_summary, git_summary

__all__ = [  # environment_summary and git_summary are re-exported: the Neo4j export imports them from here
    "NO_DIGEST",
    "Caveat",
    "DatasetRef",
    "ModelView",
    "RunView",
    "dataset_ref",
    "environment_summary",
    "git_summary",
    "metric_datasets",
    "model_label",
    "model_view",
    "role_of",
    "run_caveats",
    "run_view",
    "strip_meta",
]

_FACET_META = ("_producer", "_schemaURL", "_deleted")
NO_DIGEST = (
    "no artifact digest was recorded (the file could not be read when it was logged): "
    "which bytes this model is cannot be checked"
)


@dataclass(frozen=True)
class Caveat:
    """Something that qualifies an answer: an unverified record that claims to belong to it, a chain gap, ..."""

    kind: str
    message: str
    source: str = ""
    line: int = 0


@dataclass
class DatasetRef:
    """A dataset as a run used it: identity, recorded digest, and the verified runs that wrote that content."""

    namespace: str
    name: str
    digest: str | None
    kind: str | None = None
    size: int | None = None
    file_count: int | None = None
    model: dict[str, Any] | None = None
    produced_by: list[str] = field(default_factory=list)
    hash_facet: dict[str, Any] | None = field(default=None, repr=False)
    model_label: str | None = None
    """``NAME[@VERSION]`` of the model version this is, as its MODEL line shows it (one name per model)."""

    @property
    def key(self) -> DatasetKey:
        return (self.namespace, self.name)


@dataclass
class RunView:
    run_id: str
    job_namespace: str
    job_name: str
    role: str
    """``training``, ``inference``, ``evaluation`` or ``other``."""
    state: str
    started_at: str | None
    ended_at: str | None
    parent_run_id: str | None
    parent_job: tuple[str, str] | None
    inputs: list[DatasetRef]
    outputs: list[DatasetRef]
    hyperparameters: dict[str, Any] | None
    environment: dict[str, Any] | None
    git: dict[str, Any] | None
    metrics: dict[str, Any] | None
    inference: dict[str, Any] | None
    key_ids: list[str]
    producers: list[str]
    events: list[EventRef]
    caveats: list[Caveat]

    @property
    def status(self) -> str:
        return "verified-with-caveats" if self.caveats else "verified"


def strip_meta(facet: dict[str, Any] | None) -> dict[str, Any] | None:
    """A facet without its ``_producer``/``_schemaURL`` bookkeeping."""
    if facet is None:
        return None
    return {key: value for key, value in facet.items() if key not in _FACET_META}


def _job_type(run: Run) -> str:
    facet = run.job_facets.get("jobType")
    return str(facet.get("jobType") or "").upper() if isinstance(facet, dict) else ""


def role_of(lineage: Lineage, run: Run) -> str:
    """What a run did: wrote a model (training), scored with one (inference), measured one (evaluation).

    The ``jobType`` facet (``provlineage.track(kind=...)``) and the inference facet decide when present; otherwise
    the run's shape does: a run that reads a model and writes data without recording metrics is batch scoring,
    as an Airflow prediction task is.
    """
    if any(use.model is not None or lineage.datasets[key].is_model for key, use in run.outputs.items()):
        return "training"
    job_type = _job_type(run)
    if run.facet(pf.INFERENCE) is not None or job_type in ("INFERENCE", "PREDICTION", "PREDICT", "SCORING"):
        return "inference"
    if job_type in ("EVALUATION", "VALIDATION"):
        return "evaluation"
    if job_type == "TRAINING":
        return "training"
    if any(lineage.datasets[key].is_model for key in run.inputs):
        if run.facet(pf.METRICS) is not None:
            return "evaluation"
        if run.outputs:
            return "inference"
    return "other"


def dataset_ref(lineage: Lineage, use: DatasetUse, producers: list[Run]) -> DatasetRef:
    facet = use.hash_facet or {}
    return DatasetRef(
        namespace=use.key[0],
        name=use.key[1],
        digest=use.digest,
        kind=facet.get("kind") if isinstance(facet.get("kind"), str) else None,
        size=facet.get("size") if isinstance(facet.get("size"), int) else None,
        file_count=facet.get("fileCount") if isinstance(facet.get("fileCount"), int) else None,
        model=strip_meta(use.model),
        produced_by=[run.run_id for run in producers],
        hash_facet=use.hash_facet,
        model_label=model_label(lineage, use),
    )


def model_label(lineage: Lineage, use: DatasetUse) -> str | None:
    """The label of the model version ``use`` is (same digest, or the only version), else its own facet's."""
    versions = lineage.models_of(use.key)
    same = [v for v in versions if v.digest == use.digest] or (versions if len(versions) == 1 else [])
    if same:
        return same[0].label
    if use.model is None:
        return None
    name, version = use.model.get("name"), use.model.get("version")
    return f"{name}@{version}" if version else str(name)


def run_caveats(lineage: Lineage, run: Run) -> list[Caveat]:
    caveats = [
        Caveat(
            "unverified-record",
            f"an unverified record ({item.record.status.value}: {item.record.reason}) claims to be "
            f"{item.claims.event_type or 'an'} event of this run; it was kept out",
            item.record.source,
            item.record.line,
        )
        for item in lineage.unverified_claiming_run(run.run_id)
    ]
    caveats += [
        Caveat(
            "chain",
            f"stream {finding.stream} of this run's signer: {finding.kind}: {finding.detail}",
            finding.source,
            finding.line,
        )
        for finding in lineage.findings_for_streams(run.streams)
    ]
    if not run.streams:
        caveats.append(
            Caveat("unchained", "the run's events carry no hash-chain position: deletions cannot be detected")
        )
    if run.state not in ("COMPLETE", "FAIL", "ABORT"):
        caveats.append(
            Caveat("incomplete", f"no verified COMPLETE/FAIL event for this run (last verified event: {run.state})")
        )
    elif run.state != "COMPLETE":
        caveats.append(Caveat("failed", f"the run ended with {run.state}"))
    return caveats


def run_view(lineage: Lineage, run: Run, role: str | None = None) -> RunView:
    hyperparameters = strip_meta(run.facet(pf.HYPERPARAMETERS))
    metrics = strip_meta(run.facet(pf.METRICS))
    inference = strip_meta(run.facet(pf.INFERENCE))
    inputs = [dataset_ref(lineage, use, lineage.writers_before(use, run)) for use in run.inputs.values()]
    outputs = [dataset_ref(lineage, use, [run]) for use in run.outputs.values()]
    caveats = run_caveats(lineage, run)
    if role in (None, "training"):
        missing = [ref for ref in inputs if ref.digest is None]
        caveats += [
            Caveat("no-digest", f"input {ref.namespace}/{ref.name} has no recorded content digest") for ref in missing
        ]
    return RunView(
        run_id=run.run_id,
        job_namespace=run.job[0],
        job_name=run.job[1],
        role=role or role_of(lineage, run),
        state=run.state,
        started_at=run.started_at,
        ended_at=run.ended_at,
        parent_run_id=run.parent_run_id,
        parent_job=run.parent_job,
        inputs=inputs,
        outputs=outputs,
        hyperparameters=hyperparameters,
        environment=environment_summary(run.facet(pf.ENVIRONMENT)),
        git=git_summary(run),
        metrics=metrics,
        inference=inference,
        key_ids=run.key_ids,
        producers=run.producers,
        events=list(run.events),
        caveats=caveats,
    )


@dataclass
class ModelView:
    """One model version: what trained it and what read it."""

    name: str
    version: str | None
    namespace: str
    dataset_name: str
    digest: str | None
    framework: str | None
    format: str | None
    training: list[RunView]
    consumers: list[RunView]
    """Runs that read this version (role ``inference``, ``evaluation`` or ``other``)."""
    upstream: list[DatasetRef]
    """Datasets upstream of the training inputs (what produced them), nearest first."""
    caveats: list[Caveat]

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}" if self.version else self.name

    @property
    def has_dataset_provenance(self) -> bool:
        return not any(c.kind in ("no-training-run", "no-dataset-provenance") for c in self.caveats)

    @property
    def training_datasets(self) -> list[DatasetRef]:
        """Distinct non-model inputs of the training runs, except those their metrics say they were evaluated on."""
        return self._inputs(evaluated=False)

    @property
    def evaluation_datasets(self) -> list[DatasetRef]:
        """Inputs of the training runs that the runs' own metrics name as the evaluated (holdout) dataset."""
        return self._inputs(evaluated=True)

    def _inputs(self, *, evaluated: bool) -> list[DatasetRef]:
        seen: dict[tuple[str, str, str | None], DatasetRef] = {}
        for run in self.training:
            held_out = metric_datasets(run.metrics)
            for ref in run.inputs:
                if ref.model is None and (ref.key in held_out) == evaluated:
                    seen.setdefault((ref.namespace, ref.name, ref.digest), ref)
        return list(seen.values())


def metric_datasets(metrics: dict[str, Any] | None) -> set[DatasetKey]:
    """The datasets a metrics facet says were evaluated (its ``dataset`` and each slice's)."""
    found: set[DatasetKey] = set()
    for holder in [metrics or {}, *((metrics or {}).get("slices") or [])]:
        dataset = holder.get("dataset") if isinstance(holder, dict) else None
        if (
            isinstance(dataset, dict)
            and isinstance(dataset.get("namespace"), str)
            and isinstance(dataset.get("name"), str)
        ):
            found.add((dataset["namespace"], dataset["name"]))
    return found


def _upstream(lineage: Lineage, training: list[Run], limit: int = 200) -> list[DatasetRef]:
    """Breadth-first over writer runs of the training inputs, each dataset content once."""
    found: list[DatasetRef] = []
    seen: set[tuple[DatasetKey, str | None]] = set()
    frontier = list(training)
    visited_runs = {run.run_id for run in training}
    while frontier and len(found) < limit:
        next_frontier: list[Run] = []
        for reader in frontier:
            for use in reader.inputs.values():
                for writer in lineage.writers_before(use, reader):
                    if writer.run_id in visited_runs:
                        continue
                    visited_runs.add(writer.run_id)
                    next_frontier.append(writer)
                    for source in writer.inputs.values():
                        if (source.key, source.digest) not in seen:
                            seen.add((source.key, source.digest))
                            found.append(dataset_ref(lineage, source, lineage.writers_before(source, writer)))
        frontier = next_frontier
    return found


def model_view(lineage: Lineage, version: ModelVersion) -> ModelView:
    training = [lineage.runs[run_id] for run_id in version.training_runs]
    training_views = [run_view(lineage, run, "training") for run in training]
    consumers = []
    for run_id in [*version.consumer_runs, *version.unpinned_consumers]:
        view = run_view(lineage, lineage.runs[run_id])
        if run_id in version.unpinned_consumers:
            view.caveats.append(
                Caveat(
                    "unpinned-model",
                    f"this run did not record which artifact of {version.dataset[1]} it read (no digest)",
                )
            )
        consumers.append(view)
    caveats: list[Caveat] = []
    if version.digest is None:
        caveats.append(Caveat("no-artifact-digest", NO_DIGEST))
    if not training:
        caveats.append(
            Caveat("no-training-run", "no verified run wrote this model version: its dataset provenance is unknown")
        )
    else:
        datasets = [
            ref
            for run in training_views
            for ref in run.inputs
            if ref.model is None and ref.key not in metric_datasets(run.metrics)
        ]
        if not datasets:
            caveats.append(Caveat("no-dataset-provenance", "its training runs recorded no input datasets"))
        elif all(ref.digest is None for ref in datasets):
            caveats.append(
                Caveat(
                    "no-dataset-provenance",
                    "none of its training datasets has a recorded content digest: what it was trained on cannot be checked",
                )
            )
    caveats += [
        Caveat(
            "unverified-record",
            f"an unverified record ({item.record.status.value}) names this model's dataset; it was kept out",
            item.record.source,
            item.record.line,
        )
        for item in lineage.unverified_claiming_dataset(version.dataset)
        if item.claims.run_id not in version.training_runs + version.consumer_runs + version.unpinned_consumers
    ]
    facet = version.facet
    return ModelView(
        name=version.name,
        version=version.version,
        namespace=version.dataset[0],
        dataset_name=version.dataset[1],
        digest=version.digest,
        framework=facet.get("framework") if isinstance(facet.get("framework"), str) else None,
        format=facet.get("format") if isinstance(facet.get("format"), str) else None,
        training=training_views,
        consumers=consumers,
        upstream=_upstream(lineage, training),
        caveats=caveats,
    )
