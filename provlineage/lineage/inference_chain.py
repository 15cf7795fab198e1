"""Find which verified run committed to an inference, and prove the inference against that commitment.

A run that served predictions signs, in its terminal event, the Merkle root and count of its inference records
(``provlineage_inference``) and where the records are (``log``).  The inference log itself is not trusted: the
record is accepted only when its RFC 6962 audit path leads to the root in the *verified* event.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provlineage import facets as pf
from provlineage.errors import ProvlineageError
from provlineage.inference import InferenceLogError, default_log_path, prove_inference, verify_inclusion
from provlineage.lineage.graph import Lineage, Run


@dataclass
class LocatedInference:
    run: Run
    log: str
    proof: dict[str, Any]
    record: dict[str, Any] | None
    verified: bool


def _candidate_logs(lineage: Lineage, run: Run, extra_logs: list[str]) -> list[Path]:
    facet = run.facet(pf.INFERENCE) or {}
    paths: list[Path] = []
    recorded = facet.get("log")
    if isinstance(recorded, str) and "://" not in recorded:
        path = Path(recorded)
        paths.append(path)
        if not path.is_absolute():  # relative to where the job ran: try beside each event log too
            paths += [Path(source).parent / path for source in lineage.sources if "://" not in source]
            paths.append(Path(path.name))
    paths += [Path(p) for p in extra_logs]
    paths += [default_log_path(source) for source in lineage.sources if "://" not in source]
    unique: dict[str, Path] = {}
    for path in paths:
        unique.setdefault(str(path), path)
    return [path for path in unique.values() if path.is_file()]


def locate_inference(lineage: Lineage, inference_id: str, extra_logs: list[str] | None = None) -> LocatedInference:
    """The verified run whose inference log proves ``inference_id``; raises ``LineageNotFound`` otherwise."""
    from provlineage.errors import LineageNotFound

    extra = list(extra_logs or [])
    runs = [run for run in lineage.runs.values() if run.facet(pf.INFERENCE) is not None]
    # A run that names the id as its first or last record is the likeliest; try it first.
    runs.sort(
        key=lambda r: (
            inference_id
            not in ((r.facet(pf.INFERENCE) or {}).get("firstId"), (r.facet(pf.INFERENCE) or {}).get("lastId"))
        )
    )
    problems: list[str] = []
    searched: set[str] = set()
    unproven: LocatedInference | None = None  # found, but its proof fails: kept only if no copy proves it
    for run in runs:
        facet = run.facet(pf.INFERENCE) or {}
        for log in _candidate_logs(lineage, run, extra):
            searched.add(str(log))
            try:
                proof = prove_inference(log, inference_id, run_id=run.run_id)
            except InferenceLogError as error:
                if " is not in " not in error.what:
                    problems.append(str(error))
                continue
            root = facet.get("merkleRoot")
            verified = (
                isinstance(root, str)
                and proof.run_id == run.run_id
                and facet.get("count") == proof.tree_size
                and verify_inclusion(proof, root)
            )
            located = LocatedInference(run, str(log), proof.to_json(), dict(proof.record), bool(verified))
            if verified:
                return located
            unproven = unproven or located
    if unproven is not None:
        return unproven
    for log in extra:  # the id may be in a log whose run did not verify: say so rather than "not found"
        try:
            proof = prove_inference(log, inference_id)
        except (InferenceLogError, ProvlineageError):
            continue
        raise LineageNotFound(
            f"inference {inference_id} is in {log} for run {proof.run_id}, but no verified event of that run commits to it",
            "the run's terminal event is missing or did not verify; run `provlineage verify` on the event log",
        )
    if not runs:
        raise LineageNotFound(
            f"no verified run in {', '.join(lineage.sources)} committed to any inference (no provlineage_inference facet)",
            "log inferences with run.log_inference() inside provlineage.track(kind='inference')",
        )
    where = ", ".join(sorted(searched)) or "no inference log found on this machine"
    detail = f"; problems: {'; '.join(problems)}" if problems else ""
    raise LineageNotFound(
        f"inference {inference_id} is not in the inference logs of the {len(runs)} verified inference run(s) ({where}){detail}",
        "check the id, or pass the inference log with --inference-log PATH if it was moved",
    )
