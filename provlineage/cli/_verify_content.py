"""``verify --datasets / --inference-log / --inference``: what the verified events say about data and inference
logs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from provlineage.keys import Keyring
from provlineage.verification import Report


def content_checks(
    report: Report,
    keyring: Keyring,
    event_logs: tuple[str, ...],
    *,
    recheck_datasets: bool,
    inference_logs: tuple[str, ...],
    inference_id: str | None,
) -> tuple[list[str], dict[str, Any], bool]:
    lines: list[str] = []
    data: dict[str, Any] = {}
    ok = True
    if recheck_datasets:
        from provlineage.datasets_check import check_datasets, summary_line

        checks = check_datasets(report)
        lines += [check.line() for check in checks if not check.ok]
        lines.append(summary_line(checks))
        data["datasets"] = [check.to_json() for check in checks]
        ok = ok and all(check.ok for check in checks)
    if inference_logs or inference_id is not None:
        from provlineage import inference

        events = [(record.source, record.line, event) for record, event in report.verified_events()]
        committed = inference.commitments(events)
        if inference_logs:
            runs = [
                check for path in inference_logs for check in inference.check_inference_log(path, committed, keyring)
            ]
            lines += [run.line() for run in runs]
            data["inferenceLogs"] = [run.to_json() for run in runs]
            ok = ok and bool(runs) and all(run.ok for run in runs)
        if inference_id is not None:
            logs = [Path(p) for p in inference_logs] or inference.candidate_logs(committed, event_logs)
            try:
                proof, commitment = inference.prove_committed(inference_id, committed, logs)
            except inference.InferenceLogError as error:
                lines.append(f"{'INFERENCE':11} {error}")
                data["inference"] = {"id": inference_id, "proven": False, "reason": str(error)}
                ok = False
            else:
                lines.append(
                    f"{'INFERENCE':11} {inference_id}: record {proof.index} of {proof.tree_size} in run {proof.run_id}, "
                    f"proven against the Merkle root signed at {commitment.source}:{commitment.line}"
                )
                data["inference"] = {
                    "id": inference_id,
                    "proven": True,
                    "signedAt": f"{commitment.source}:{commitment.line}",
                    "proof": proof.to_json(),
                }
    return lines, data, ok
