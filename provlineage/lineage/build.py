"""Build the lineage graph from a verification report: verified events in, runs, datasets and model versions out.

Events are merged per ``runId`` in event-time order (START before COMPLETE at equal times, then log order).
Unverified records are kept aside with what they claim; they never add facts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from provlineage import facets as pf
from provlineage.lineage.graph import (
    Claims,
    DatasetKey,
    DatasetNode,
    DatasetUse,
    EventRef,
    Lineage,
    ModelVersion,
    Run,
    UnverifiedRecord,
    time_key,
)
from provlineage.signature_check import Status
from provlineage.verification import RecordResult, Report

#: START first, COMPLETE/FAIL/ABORT last, when two events of a run share a timestamp.
_TYPE_RANK = {"START": 0, "RUNNING": 1, "OTHER": 2, "COMPLETE": 3, "FAIL": 3, "ABORT": 3}


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
    for version in versions.values():
        _collect_aliases(lineage, version)
    return sorted(versions.values(), key=lambda v: (v.name, v.dataset, lineage_first_time(lineage, v)))


def _collect_aliases(lineage: Lineage, version: ModelVersion) -> None:
    uses = [lineage.runs[r].outputs.get(version.dataset) for r in version.training_runs]
    uses += [lineage.runs[r].inputs.get(version.dataset) for r in [*version.consumer_runs, *version.unpinned_consumers]]
    for use in uses:
        name = use.model.get("name") if use is not None and use.model is not None else None
        if isinstance(name, str) and name != version.name and name not in version.aliases:
            version.aliases.append(name)


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
