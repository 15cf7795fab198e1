"""Check inference logs against the Merkle roots that verified events signed (``verify --inference-log/--inference``)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provlineage.facets import INFERENCE
from provlineage.inference.canonical_values import canonical_json
from provlineage.inference.digest_key import DigestKey
from provlineage.inference.proofs import InclusionProof, _proof_of, read_inference_log, verify_inclusion
from provlineage.inference.records import InferenceLogError, default_log_path
from provlineage.inference.seals import check_seal
from provlineage.keys import Keyring


@dataclass(frozen=True)
class Commitment:
    """What a verified event of a run signed about its inferences."""

    run_id: str
    count: int
    merkle_root: str
    log: str | None
    source: str
    line: int
    model_digest: str | None = None


def commitments(events: Iterable[tuple[str, int, dict[str, Any]]]) -> dict[str, Commitment]:
    """Run id -> the ``provlineage_inference`` facet of its latest verified event, from ``(source, line, event)``."""
    found: dict[str, Commitment] = {}
    for source, line, event in events:
        run = event.get("run") or {}
        facet = (run.get("facets") or {}).get(INFERENCE) if isinstance(run, dict) else None
        if not isinstance(facet, dict) or not isinstance(run.get("runId"), str):
            continue
        count, root, where = facet.get("count"), facet.get("merkleRoot"), facet.get("log")
        if isinstance(count, int) and isinstance(root, str):
            model = facet.get("modelDigest")
            found[run["runId"]] = Commitment(
                run["runId"],
                count,
                root,
                where if isinstance(where, str) else None,
                source,
                line,
                model if isinstance(model, str) else None,
            )
    return found


@dataclass
class InferenceRunCheck:
    """One run of an inference log compared with what its verified event committed to."""

    run_id: str
    log: str
    status: str
    """``ok``, ``uncommitted``, ``count-mismatch``, ``root-mismatch``, ``missing``, ``malformed`` or ``bad-seal``."""
    records: int = 0
    detail: str = ""
    seal: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value not in ("", None)}

    def line(self) -> str:
        text = f"{'INFERENCES':11} run {self.run_id or '?'} in {self.log}: {self.records} records, {self.status}"
        return f"{text}  ({self.detail})" if self.detail else text


def check_inference_log(
    path: str | os.PathLike[str], committed: Mapping[str, Commitment], keyring: Keyring
) -> list[InferenceRunCheck]:
    """Check every run in an inference log: complete, unaltered, and committed to by a verified event."""
    source = str(path)
    runs = read_inference_log(path)
    checks = []
    for run in runs.values():
        check = InferenceRunCheck(run.run_id, source, "ok", len(run.leaves))
        commitment, seal_reason = committed.get(run.run_id), ""
        if run.seal is not None:
            check.seal, seal_reason = check_seal(run.seal, keyring)
        if run.problems or not run.contiguous:
            check.status, check.detail = (
                "malformed",
                "; ".join(run.problems) or "record indices have gaps (records were deleted)",
            )
        elif commitment is None:
            check.status, check.detail = "uncommitted", "no verified event of this run carries its Merkle root"
        elif commitment.count != len(run.leaves):
            check.status = "count-mismatch"
            check.detail = f"the signed event commits to {commitment.count} records (records were deleted or added)"
        elif commitment.merkle_root != run.root():
            check.status, check.detail = "root-mismatch", "a record differs from what the signed event committed to"
        elif check.seal == "failed":
            check.status, check.detail = "bad-seal", seal_reason
        else:
            check.detail = f"root matches the event at {commitment.source}:{commitment.line}"
        checks.append(check)
    resolved = Path(path).resolve()
    for commitment in committed.values():
        if (
            commitment.run_id not in runs
            and commitment.log
            and Path(commitment.log).resolve() == resolved
            and commitment.count
        ):
            checks.append(
                InferenceRunCheck(
                    commitment.run_id,
                    source,
                    "missing",
                    0,
                    f"the signed event commits to {commitment.count} records here",
                )
            )
    return checks


def candidate_logs(committed: Mapping[str, Commitment], event_logs: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Inference logs to search: those named by verified events, and ``<log>.inferences.jsonl`` beside each event log."""
    paths = [Path(c.log) for c in committed.values() if c.log and "://" not in c.log]
    paths += [default_log_path(log) for log in event_logs]
    unique: dict[str, Path] = {}
    for path in paths:
        unique.setdefault(str(path.resolve()), path)
    return [path for path in unique.values() if path.is_file()]


def prove_committed(
    inference_id: str,
    committed: Mapping[str, Commitment],
    logs: Iterable[str | os.PathLike[str]],
    *,
    run_id: str | None = None,
) -> tuple[InclusionProof, Commitment]:
    """Prove ``inference_id`` against the root a verified event signed; raises :class:`InferenceLogError` otherwise.

    The same input scored by the same model has the same id in every run; the first run (in ``run_id`` if given)
    whose verified event commits to the record is the one proven.
    """
    searched, unproven = [], []
    for log_path in logs:
        searched.append(str(log_path))
        try:
            runs = read_inference_log(log_path, run_id=run_id, keep_records=True)
        except InferenceLogError as error:
            unproven.append(str(error))
            continue
        for run in runs.values():
            if inference_id not in run.ids:
                continue
            commitment = committed.get(run.run_id)
            try:
                proof = _proof_of(run, inference_id, str(log_path))
            except InferenceLogError as error:
                unproven.append(str(error))
                continue
            if commitment is None:
                unproven.append(f"{log_path}: run {run.run_id} has no verified event committing to its inferences")
            elif commitment.count != proof.tree_size or not verify_inclusion(proof, commitment.merkle_root):
                unproven.append(
                    f"{log_path}: the record does not lead to the root signed at {commitment.source}:{commitment.line}"
                )
            else:
                return proof, commitment
    if unproven:
        raise InferenceLogError(
            f"inference {inference_id} cannot be proven: {'; '.join(unproven)}",
            "the inference log was altered, or its run's event did not verify",
        )
    raise InferenceLogError(
        f"inference {inference_id} is in none of the inference logs searched ({', '.join(searched) or 'none found'})",
        "check the id, or pass the log with --inference-log PATH",
    )


def prove_input(
    input_value: Any,
    committed: Mapping[str, Commitment],
    logs: Iterable[str | os.PathLike[str]],
    digest_key: DigestKey | None = None,
) -> tuple[str, InclusionProof, Commitment]:
    """Prove that ``input_value`` was scored: its id under each committed model, proven, with a matching digest.

    With keyed digests only the holder of ``digest_key`` can do this; a reader of the log cannot.
    """
    canonical_input = canonical_json(input_value)
    if digest_key is None:
        expected = "sha256:" + hashlib.sha256(canonical_input).hexdigest()
        make_id = lambda data: "inf-" + hashlib.sha256(data).hexdigest()[:32]  # noqa: E731
    else:
        expected = "hmac-sha256:" + digest_key.hexdigest(canonical_input)
        make_id = lambda data: "inf-" + digest_key.hexdigest(data)[:32]  # noqa: E731
    models = dict.fromkeys([commitment.model_digest or "" for commitment in committed.values()] or [""])
    ids = [make_id(model.encode("ascii") + b"\n" + canonical_input) for model in models]
    logs = list(logs)
    reasons = []
    for candidate in ids:
        try:
            proof, commitment = prove_committed(candidate, committed, logs)
        except InferenceLogError:
            continue  # not scored under this model (or not provable): the next candidate may be
        if proof.record.get("inputDigest") != expected:
            reasons.append(f"record {candidate} holds another input digest")
            continue
        return candidate, proof, commitment
    keyed = "with the digest key given" if digest_key is not None else "with plain SHA-256 digests"
    raise InferenceLogError(
        f"no verified run scored this input ({keyed}; {len(ids)} candidate id(s) tried"
        + (f"; {'; '.join(reasons)}" if reasons else "")
        + ")",
        "check the input (exactly as passed to log_inference); if the run used keyed digests "
        "(its provlineage_inference facet has digestKeyId), pass --inference-digest-key",
    )
