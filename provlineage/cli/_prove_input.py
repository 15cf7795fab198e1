"""``verify --inference-input FILE [--inference-digest-key KEY]``: prove that one input was scored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from provlineage.errors import ProvlineageError
from provlineage.verification import Report


def prove_input_lines(
    report: Report,
    event_logs: tuple[str, ...],
    inference_logs: tuple[str, ...],
    input_path: str,
    digest_key_file: str | None,
) -> tuple[list[str], dict[str, Any], bool]:
    """The report lines, JSON and outcome of proving the input held in ``input_path``."""
    from provlineage import inference

    input_file = Path(input_path)
    try:
        value = json.loads(input_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProvlineageError(f"input file {input_file} does not exist", "check the path") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ProvlineageError(
            f"input file {input_file} is not readable JSON ({error})",
            "write the input exactly as passed to log_inference, as JSON",
        ) from None
    key = inference.load_digest_key(digest_key_file) if digest_key_file else None
    events = [(record.source, record.line, event) for record, event in report.verified_events()]
    committed = inference.commitments(events)
    logs = [Path(p) for p in inference_logs] or inference.candidate_logs(committed, event_logs)
    try:
        inference_id, proof, commitment = inference.prove_input(value, committed, logs, key)
    except inference.InferenceLogError as error:
        return [f"{'INPUT':11} {input_file}: {error}"], {"proven": False, "reason": str(error)}, False
    line = (
        f"{'INPUT':11} {input_file}: scored as {inference_id}, record {proof.index} of {proof.tree_size} in run "
        f"{proof.run_id}, proven against the Merkle root signed at {commitment.source}:{commitment.line}"
    )
    return [line], {"proven": True, "id": inference_id, "proof": proof.to_json()}, True
