"""The lineage graph of a verified record: runs, jobs, datasets and model versions.

Only events whose signature verified go into the graph; everything else is kept aside, with what it *claims*
(run id, job, datasets) so answers can say "an unverified record claims to belong to this run" without using it.

Joining follows OpenLineage and Marquez: a run is every event with the same ``runId`` (START, RUNNING, COMPLETE,
FAIL, ... merged in event-time order, later facets replacing earlier ones of the same key), and runs meet through
datasets identified by ``(namespace, name)``.  A *model* is a dataset carrying the ``provlineage_model`` facet;
each distinct artifact digest written to it is one :class:`ModelVersion`, so retraining into the same path keeps
the versions apart and an inference run is tied to the version whose digest it recorded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from provlineage import facets as pf
from provlineage._internal.instants import normalize_instant
from provlineage.signature_check import Status
from provlineage.verification import ChainFinding, RecordResult, Report, StreamSummary

DatasetKey = tuple[str, str]
"""``(namespace, name)``: how OpenLineage and Marquez identify a dataset (and a job)."""

#: START first, COMPLETE/FAIL/ABORT last, when two events of a run share a timestamp.
_TYPE_RANK = {"START": 0, "RUNNING": 1, "OTHER": 2, "COMPLETE": 3, "FAIL": 3, "ABORT": 3}
_INSTANT = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$")


def time_key(value: object) -> str:
    """A string that sorts ISO 8601 instants chronologically whatever their offset or fraction spelling."""
    normal = normalize_instant(value)
    if not isinstance(normal, str):
        return ""
    match = _INSTANT.match(normal)
    if match is None:
        return normal
    return f"{match.group(1)}.{(match.group(2) or '').ljust(9, '0')}Z"


def prefixed_digest(facet: Any) -> str | None:
    """``sha256:<hex>`` of a ``provlineage_datasetHash`` facet (which keeps the algorithm apart)."""
    if not isinstance(facet, dict) or not isinstance(facet.get("digest"), str):
        return None
    digest, algorithm = facet["digest"], facet.get("algorithm") or "sha256"
    return digest if ":" in digest else f"{algorithm}:{digest}"


@dataclass(frozen=True)
class EventRef:
    """Where one verified event of a run is, and who signed it."""

    source: str
    line: int
    event_type: str
    event_time: str
    key_id: str | None
    digest: str | None
    stream: str | None
    sequence: int | None
    producer: str | None


@dataclass
class DatasetUse:
    """A dataset as one run read or wrote it, with the facets that run recorded for it."""

    key: DatasetKey
    facets: dict[str, Any] = field(default_factory=dict)
    io_facets: dict[str, Any] = field(default_factory=dict)
    """``inputFacets`` or ``outputFacets``."""

    @property
    def hash_facet(self) -> dict[str, Any] | None:
        facet = self.facets.get(pf.DATASET_HASH)
        return facet if isinstance(facet, dict) else None

    @property
    def model(self) -> dict[str, Any] | None:
        facet = self.facets.get(pf.MODEL)
        return facet if isinstance(facet, dict) else None

    @property
    def digest(self) -> str | None:
        """The content digest recorded for this use: the dataset hash, else the model facet's digest."""
        digest = prefixed_digest(self.hash_facet)
        if digest is None and self.model is not None and isinstance(self.model.get("digest"), str):
            digest = self.model["digest"]
        return digest


@dataclass
class Run:
    """All verified events of one ``runId``, merged."""

    run_id: str
    job: DatasetKey
    events: list[EventRef] = field(default_factory=list)
    facets: dict[str, Any] = field(default_factory=dict)
    """Run facets, later events winning; the signature facet is left out (it is per event)."""
    job_facets: dict[str, Any] = field(default_factory=dict)
    inputs: dict[DatasetKey, DatasetUse] = field(default_factory=dict)
    outputs: dict[DatasetKey, DatasetUse] = field(default_factory=dict)
    _times: list[str] = field(default_factory=list, repr=False)

    @property
    def state(self) -> str:
        return self.events[-1].event_type if self.events else "UNKNOWN"

    @property
    def started_at(self) -> str | None:
        return self.events[0].event_time if self.events else None

    @property
    def ended_at(self) -> str | None:
        last = self.events[-1] if self.events else None
        return last.event_time if last is not None and last.event_type in ("COMPLETE", "FAIL", "ABORT") else None

    @property
    def start_key(self) -> str:
        return self._times[0] if self._times else ""

    @property
    def end_key(self) -> str:
        return self._times[-1] if self._times else ""

    @property
    def parent_run_id(self) -> str | None:
        parent = self.facets.get("parent")
        run = parent.get("run") if isinstance(parent, dict) else None
        return run.get("runId") if isinstance(run, dict) and isinstance(run.get("runId"), str) else None

    @property
    def parent_job(self) -> DatasetKey | None:
        parent = self.facets.get("parent")
        job = parent.get("job") if isinstance(parent, dict) else None
        if isinstance(job, dict) and isinstance(job.get("namespace"), str) and isinstance(job.get("name"), str):
            return (job["namespace"], job["name"])
        return None

    @property
    def key_ids(self) -> list[str]:
        return sorted({event.key_id for event in self.events if event.key_id})

    @property
    def streams(self) -> list[str]:
        return sorted({event.stream for event in self.events if event.stream})

    @property
    def producers(self) -> list[str]:
        return sorted({event.producer for event in self.events if event.producer})

    def facet(self, key: str) -> dict[str, Any] | None:
        value = self.facets.get(key)
        return value if isinstance(value, dict) else None


@dataclass
class DatasetNode:
    """A dataset across the record: its latest facets and the runs that read and wrote it."""

    key: DatasetKey
    facets: dict[str, Any] = field(default_factory=dict)
    readers: list[str] = field(default_factory=list)
    writers: list[str] = field(default_factory=list)

    @property
    def is_model(self) -> bool:
        return isinstance(self.facets.get(pf.MODEL), dict)


@dataclass
class ModelVersion:
    """One artifact written to (or read from) a model dataset, identified by its digest."""

    dataset: DatasetKey
    digest: str | None
    facet: dict[str, Any]
    training_runs: list[str] = field(default_factory=list)
    consumer_runs: list[str] = field(default_factory=list)
    unpinned_consumers: list[str] = field(default_factory=list)
    """Runs that read the model dataset without recording which artifact (no digest): any version may apply."""

    @property
    def name(self) -> str:
        name = self.facet.get("name")
        return name if isinstance(name, str) else self.dataset[1]

    @property
    def version(self) -> str | None:
        version = self.facet.get("version")
        return version if isinstance(version, str) else None

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}" if self.version else self.name


@dataclass(frozen=True)
class Claims:
    """What an unverified record says about itself, read only to point at it, never to answer."""

    run_id: str | None = None
    job: DatasetKey | None = None
    event_type: str | None = None
    datasets: tuple[DatasetKey, ...] = ()
    models: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnverifiedRecord:
    record: RecordResult
    claims: Claims


@dataclass
class Lineage:
    """The graph built from the verified events of a :class:`~provlineage.verification.Report`."""

    sources: list[str]
    runs: dict[str, Run] = field(default_factory=dict)
    datasets: dict[DatasetKey, DatasetNode] = field(default_factory=dict)
    jobs: dict[DatasetKey, list[str]] = field(default_factory=dict)
    models: list[ModelVersion] = field(default_factory=list)
    unverified: list[UnverifiedRecord] = field(default_factory=list)
    legacy: list[RecordResult] = field(default_factory=list)
    chain: list[ChainFinding] = field(default_factory=list)
    streams: dict[str, StreamSummary] = field(default_factory=dict)
    record_count: int = 0
    verified_count: int = 0

    def children_of(self, run_id: str) -> list[Run]:
        return [run for run in self.runs.values() if run.parent_run_id == run_id]

    def models_of(self, key: DatasetKey) -> list[ModelVersion]:
        return [model for model in self.models if model.dataset == key]

    def version_read_by(self, run: Run, key: DatasetKey) -> list[ModelVersion]:
        """The model versions ``run`` read from ``key`` (all of them when it recorded no digest)."""
        return [m for m in self.models_of(key) if run.run_id in m.consumer_runs or run.run_id in m.unpinned_consumers]

    def writers_before(self, use: DatasetUse, reader: Run) -> list[Run]:
        """Runs that wrote the dataset ``reader`` read: the same digest when both recorded one, else earlier runs."""
        return self._linked_runs(use, reader, writers=True)

    def readers_after(self, use: DatasetUse, writer: Run) -> list[Run]:
        """Runs that read what ``writer`` wrote (same rule as :meth:`writers_before`, reversed)."""
        return self._linked_runs(use, writer, writers=False)

    def _linked_runs(self, use: DatasetUse, run: Run, *, writers: bool) -> list[Run]:
        node = self.datasets.get(use.key)
        if node is None:
            return []
        found = []
        for run_id in node.writers if writers else node.readers:
            other = self.runs[run_id]
            if other.run_id == run.run_id:
                continue
            recorded = (other.outputs if writers else other.inputs)[use.key].digest
            if use.digest is not None and recorded is not None:
                if recorded == use.digest:
                    found.append(other)
                continue
            writer, reader = (other, run) if writers else (run, other)
            if writer.start_key <= reader.end_key:
                found.append(other)
        return found

    def unverified_claiming_run(self, run_id: str) -> list[UnverifiedRecord]:
        return [u for u in self.unverified if u.claims.run_id == run_id]

    def unverified_claiming_dataset(self, key: DatasetKey) -> list[UnverifiedRecord]:
        return [u for u in self.unverified if key in u.claims.datasets]

    def findings_for_streams(self, streams: Iterable[str]) -> list[ChainFinding]:
        wanted = set(streams)
        return [finding for finding in self.chain if finding.stream in wanted]


# --- building ----------------------------------------------------------------------------------------------------
def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _datasets(event: dict[str, Any], side: str) -> Iterator[tuple[DatasetKey, dict[str, Any], dict[str, Any]]]:
    io_key = "inputFacets" if side == "inputs" else "outputFacets"
    for dataset in event.get(side) or []:
        if (
            isinstance(dataset, dict)
            and isinstance(dataset.get("namespace"), str)
            and isinstance(dataset.get("name"), str)
        ):
            yield (dataset["namespace"], dataset["name"]), _dict(dataset.get("facets")), _dict(dataset.get(io_key))


def claims_of(event: Any) -> Claims:
    """The identity an (unverified) event claims, tolerating any shape."""
    if not isinstance(event, dict):
        return Claims()
    run, job = _dict(event.get("run")), _dict(event.get("job"))
    run_id = run.get("runId") if isinstance(run.get("runId"), str) else None
    job_key = (
        (job["namespace"], job["name"])
        if isinstance(job.get("namespace"), str) and isinstance(job.get("name"), str)
        else None
    )
    keys: list[DatasetKey] = []
    models: list[str] = []
    for side in ("inputs", "outputs"):
        for key, facets, _ in _datasets(event, side):
            keys.append(key)
            model = facets.get(pf.MODEL)
            if isinstance(model, dict) and isinstance(model.get("name"), str):
                models.append(model["name"])
    event_type = event.get("eventType") if isinstance(event.get("eventType"), str) else None
    return Claims(run_id, job_key, event_type, tuple(keys), tuple(models))


def _ordered(report: Report) -> list[tuple[str, RecordResult, dict[str, Any]]]:
    """Verified events in event-time order (START before COMPLETE at equal times, then log order), with time keys."""
    keyed = [
        (
            time_key(event.get("eventTime")),
            _TYPE_RANK.get(str(event.get("eventType") or "OTHER"), 2),
            index,
            record,
            event,
        )
        for index, (record, event) in enumerate(report.verified_events())
    ]
    keyed.sort(key=lambda item: item[:3])
    return [(key, record, event) for key, _, _, record, event in keyed]


def _merge_use(
    uses: dict[DatasetKey, DatasetUse], key: DatasetKey, facets: dict[str, Any], io_facets: dict[str, Any]
) -> None:
    use = uses.get(key)
    if use is None:
        use = uses[key] = DatasetUse(key)
    use.facets.update(facets)
    use.io_facets.update(io_facets)


def _add_event(lineage: Lineage, record: RecordResult, event: dict[str, Any], when: str) -> None:
    run_part, job_part = _dict(event.get("run")), _dict(event.get("job"))
    job: DatasetKey = (str(job_part.get("namespace", "")), str(job_part.get("name", "")))
    run_id = (
        run_part.get("runId") if isinstance(run_part.get("runId"), str) else f"(no runId) {record.source}:{record.line}"
    )
    run = lineage.runs.get(run_id)
    if run is None:
        run = lineage.runs[run_id] = Run(run_id, job)
        lineage.jobs.setdefault(job, []).append(run_id)
    event_time = event.get("eventTime")
    producer = event.get("producer")
    run.events.append(
        EventRef(
            record.source,
            record.line,
            str(event.get("eventType") or "OTHER"),
            str(event_time) if event_time is not None else "",
            record.key_id,
            record.digest,
            record.stream,
            record.sequence,
            producer if isinstance(producer, str) else None,
        )
    )
    run._times.append(when)
    run_facets = {k: v for k, v in _dict(run_part.get("facets")).items() if k != pf.SIGNATURE}
    _keep_distributions(run.facets, run_facets)
    run.facets.update(run_facets)
    run.job_facets.update(_dict(job_part.get("facets")))
    for side, uses in (("inputs", run.inputs), ("outputs", run.outputs)):
        for key, facets, io_facets in _datasets(event, side):
            _merge_use(uses, key, facets, io_facets)
            node = lineage.datasets.get(key)
            if node is None:
                node = lineage.datasets[key] = DatasetNode(key)
            node.facets.update(facets)
            members = node.readers if side == "inputs" else node.writers
            # A run's events are usually adjacent in time order, so the last member settles most checks.
            if (not members or members[-1] != run_id) and run_id not in members:
                members.append(run_id)


def _model_versions(lineage: Lineage) -> list[ModelVersion]:
    """Versions from what training runs wrote, then from what consumers read (a version nobody wrote verifiably)."""
    versions: dict[tuple[DatasetKey, str | None], ModelVersion] = {}
    for run in lineage.runs.values():
        for key, use in run.outputs.items():
            if use.model is not None or lineage.datasets[key].is_model:
                version = versions.setdefault((key, use.digest), ModelVersion(key, use.digest, use.model or {}))
                version.facet = use.model or version.facet
                version.training_runs.append(run.run_id)
    unpinned: list[tuple[DatasetKey, str]] = []
    for run in lineage.runs.values():
        inference = run.facet(pf.INFERENCE) or {}
        for key, use in run.inputs.items():
            if use.model is None and not lineage.datasets[key].is_model:
                continue
            digest = use.digest
            if (
                digest is None
                and isinstance(inference.get("modelDigest"), str)
                and len([k for k in run.inputs if lineage.datasets[k].is_model]) == 1
            ):
                digest = inference["modelDigest"]
            if digest is None:
                unpinned.append((key, run.run_id))
                continue
            version = versions.setdefault((key, digest), ModelVersion(key, digest, use.model or {}))
            if not version.facet and use.model:
                version.facet = use.model
            version.consumer_runs.append(run.run_id)
    for key, run_id in unpinned:
        candidates = [v for (k, _), v in versions.items() if k == key]
        if not candidates:
            node = lineage.datasets[key]
            candidates = [versions.setdefault((key, None), ModelVersion(key, None, _dict(node.facets.get(pf.MODEL))))]
        for version in candidates:
            version.unpinned_consumers.append(run_id)
    return sorted(versions.values(), key=lambda v: (v.name, v.dataset, lineage_first_time(lineage, v)))


def lineage_first_time(lineage: Lineage, version: ModelVersion) -> str:
    times = [lineage.runs[r].end_key for r in version.training_runs] or [
        lineage.runs[r].start_key for r in version.consumer_runs
    ]
    return min(times, default="")


def build_lineage(report: Report, sources: list[str]) -> Lineage:
    """The graph of ``report``'s verified events (the report must have been made with ``keep_events=True``)."""
    lineage = Lineage(sources, chain=list(report.chain), streams=dict(report.streams), record_count=len(report.records))
    for record in report.records:
        if record.status.chained and record.event is None:
            raise ValueError("build_lineage needs a report made with keep_events=True")
        if record.status is Status.LEGACY:
            lineage.legacy.append(record)
        elif not record.status.chained or record.event is None:
            lineage.unverified.append(UnverifiedRecord(record, claims_of(record.event)))
    ordered = _ordered(report)
    lineage.verified_count = len(ordered)
    for when, record, event in ordered:
        _add_event(lineage, record, event, when)
    lineage.models = _model_versions(lineage)
    return lineage


def _keep_distributions(known: dict[str, Any], new: dict[str, Any]) -> None:
    """Keep the distribution list of a run's START when a later event carries only its digest (same digest)."""
    before, after = known.get(pf.ENVIRONMENT), new.get(pf.ENVIRONMENT)
    if not (isinstance(before, dict) and isinstance(after, dict)) or "distributions" in after:
        return
    if isinstance(before.get("distributions"), dict) and before.get("distributionsDigest") == after.get(
        "distributionsDigest"
    ):
        new[pf.ENVIRONMENT] = {**after, "distributions": before["distributions"]}
