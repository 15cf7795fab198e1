"""The lineage graph of a verified record: runs, jobs, datasets and model versions.

Only events whose signature verified go into the graph; everything else is kept aside, with what it *claims*
(run id, job, datasets) so answers can say "an unverified record claims to belong to this run" without using it.

Joining follows OpenLineage and Marquez: a run is every event with the same ``runId`` (START, RUNNING, COMPLETE,
FAIL, ... merged in event-time order, later facets replacing earlier ones of the same key), and runs meet through
datasets identified by ``(namespace, name)``.  A *model* is a dataset carrying the ``provlineage_model`` facet;
each distinct artifact digest written to it is one :class:`ModelVersion`, so retraining into the same path keeps
the versions apart and an inference run is tied to the version whose digest it recorded.

This module holds the graph's parts; :mod:`.build` makes the graph from a verification report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from provlineage import facets as pf
from provlineage._internal.instants import normalize_instant
from provlineage.verification import ChainFinding, RecordResult, StreamSummary

DatasetKey = tuple[str, str]
"""``(namespace, name)``: how OpenLineage and Marquez identify a dataset (and a job)."""

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
        """Marked by ``provlineage_model``, or by OpenLineage's ``datasetType`` facet alone (a model logged unread)."""
        dataset_type = self.facets.get("datasetType")
        return isinstance(self.facets.get(pf.MODEL), dict) or (
            isinstance(dataset_type, dict) and dataset_type.get("datasetType") == "MODEL"
        )


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
    aliases: list[str] = field(default_factory=list)
    """Other names runs gave this artifact in their ``provlineage_model`` facets (an inference task may name the
    model after its file while training named it explicitly): shown once as :attr:`name`, all found by ``--model``."""

    @property
    def name(self) -> str:
        """The one name shown: the training run's, else the first reader's, else the dataset name."""
        name = self.facet.get("name")
        return name if isinstance(name, str) else self.dataset[1]

    @property
    def names(self) -> list[str]:
        return [self.name, *(alias for alias in self.aliases if alias != self.name)]

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

    def line(self) -> str:
        """``STATUS  source:line  reason  (claims ...)``: how every report lists a record kept out of the graph."""
        record, claims = self.record, self.claims
        claim = ""
        if claims.run_id or claims.job:
            job = f"{claims.job[0]}/{claims.job[1]}" if claims.job else "?"
            claim = f"  (claims {claims.event_type or 'event'} of run {claims.run_id or '?'}, job {job})"
        return f"{record.status.value.upper():11} {record.source}:{record.line}  {record.reason}{claim}"


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
