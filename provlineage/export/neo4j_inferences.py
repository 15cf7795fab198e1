"""Inference records for the graph: only those of runs whose verified event signed their Merkle root.

The inference logs are checked as ``provlineage verify --inference-log`` checks them
(:func:`provlineage.inference.check_inference_log`): a run's records are imported only when they are complete and
their Merkle root equals the one in the run's verified event; any other outcome is reported and nothing of that
run is imported.  ``input``/``output`` hold the payload as JSON when the run kept payloads, else its digest.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from provlineage import facets as pf
from provlineage import inference
from provlineage.export.neo4j_rows import Row, as_json, model_commit
from provlineage.keys import Keyring
from provlineage.lineage.graph import Lineage


@dataclass
class InferenceRows:
    rows: list[Row] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    """One line per run whose inference records were not imported, with why."""


def _committed(lineage: Lineage) -> dict[str, inference.Commitment]:
    """The Merkle roots the verified events signed, latest event of each run winning."""
    events = []
    for run in lineage.runs.values():
        facet = run.facet(pf.INFERENCE)
        if facet is not None:
            last = run.events[-1]
            events.append((last.source, last.line, {"run": {"runId": run.run_id, "facets": {pf.INFERENCE: facet}}}))
    return inference.commitments(events)


def _payload(record: dict[str, object], name: str) -> str | None:
    if name in record:
        return as_json(record[name])
    digest = record.get(f"{name}Digest")
    return digest if isinstance(digest, str) else None


def inference_rows(
    lineage: Lineage,
    scope: Iterable[str],
    keyring: Keyring,
    event_logs: Sequence[str | os.PathLike[str]] = (),
    extra_logs: Sequence[str | os.PathLike[str]] = (),
) -> InferenceRows:
    wanted = set(scope)
    committed = {run_id: c for run_id, c in _committed(lineage).items() if run_id in wanted}
    result = InferenceRows()
    if not committed:
        return result
    logs: dict[str, Path] = {}
    for path in [*map(Path, extra_logs), *inference.candidate_logs(committed, event_logs)]:
        logs.setdefault(str(path.resolve()), path)
    imported: set[str] = set()
    for log in logs.values():
        checks = {check.run_id: check for check in inference.check_inference_log(log, committed, keyring)}
        runs = inference.read_inference_log(log, keep_records=True)
        for run_id, check in checks.items():
            if run_id not in committed or run_id in imported:
                continue
            if not check.ok:
                result.left_out.append(check.line())
                continue
            imported.add(run_id)
            result.rows += _rows_of(lineage, run_id, runs[run_id].records.values())
    for run_id, commitment in committed.items():
        if run_id not in imported and commitment.count and not any(run_id in line for line in result.left_out):
            where = commitment.log or "beside the event log"
            result.left_out.append(
                f"{'INFERENCES':11} run {run_id}: its {commitment.count} records were not found ({where}); "
                "pass the log with --inference-log PATH"
            )
    return result


def _rows_of(lineage: Lineage, run_id: str, records: Iterable[dict[str, object]]) -> list[Row]:
    run = lineage.runs[run_id]
    versions = [v for v in lineage.models if run_id in v.consumer_runs or run_id in v.unpinned_consumers]
    models = [{"name": v.name, "commit": model_commit(v)} for v in versions]
    rows = []
    for record in records:
        rows.append(
            {
                "id": str(record.get("id")),
                "runId": run_id,
                "models": models,
                "props": {
                    "input": _payload(record, "input"),
                    "output": _payload(record, "output"),
                    "inputDigest": record.get("inputDigest"),
                    "outputDigest": record.get("outputDigest"),
                    "timestamp": record.get("time") if isinstance(record.get("time"), str) else None,
                    "index": record.get("index"),
                    "payloadsRetained": "input" in record or "output" in record,
                    "verified": True,
                },
                "keyIds": run.key_ids,
            }
        )
    return rows
