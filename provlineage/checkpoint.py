"""Signed checkpoints: what a log held at one moment, so that later truncation is detected.

A hash chain catches deletion, reordering and replay, but not the removal of the *last* events of a stream: the
shorter log is still a valid chain.  A checkpoint records, per stream, the last sequence number and the digest of
that event (the head), signed.  Kept where the log's writer cannot rewrite it (another machine, a ticket, a WORM
bucket), it makes ``provlineage verify LOG --checkpoint FILE`` fail when the log now ends earlier (*truncated*)
or holds a different event at the recorded head (*disagrees*).

The file is JSON::

    {"checkpoint": {"type": "provlineage-checkpoint", "version": 1, "createdAt": ..., "records": N,
                    "logs": [{"path": ..., "size": ...}],
                    "streams": [{"stream": ..., "keyId": ..., "lastSequence": ..., "headDigest": ...}]},
     "signature": {"algorithm": ..., "keyId": ..., "payloadType": CHECKPOINT_PAYLOAD_TYPE, "signature": <base64>}}

signed as events are: ``PAE(payloadType, RFC 8785 bytes of "checkpoint")``, verified with the same keyring.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from provlineage._internal.canonical import canonical_bytes, loads
from provlineage.errors import ProvlineageError, SigningError
from provlineage.keys import Keyring, signature_algorithm
from provlineage.signature_check import verify_signature
from provlineage.signer import Signer
from provlineage.signing import pae
from provlineage.verification import ChainFinding, Report

CHECKPOINT_PAYLOAD_TYPE = "application/vnd.provlineage.checkpoint+json;version=1"
CHECKPOINT_TYPE = "provlineage-checkpoint"


@dataclass(frozen=True)
class StreamHead:
    stream: str
    key_id: str | None
    last_sequence: int
    head_digest: str | None


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint whose signature was checked (``problem`` says why it cannot be trusted, if it cannot)."""

    heads: list[StreamHead]
    logs: list[dict[str, Any]]
    created_at: str
    problem: str | None = None


def build_checkpoint(report: Report, logs: list[str | os.PathLike[str]]) -> dict[str, Any]:
    """The unsigned checkpoint payload of a verified ``report`` of ``logs``."""
    sizes = []
    for log in logs:
        try:
            size: int | None = os.path.getsize(log)
        except OSError:
            size = None
        sizes.append({"path": str(Path(log).resolve()), "size": size})
    return {
        "type": CHECKPOINT_TYPE,
        "version": 1,
        "createdAt": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "records": len(report.records),
        "logs": sizes,
        "streams": [
            {"stream": s.stream, "keyId": s.key_id, "lastSequence": s.last_sequence, "headDigest": s.head_digest}
            for s in sorted(report.streams.values(), key=lambda summary: summary.stream)
        ],
    }


def sign_checkpoint(payload: dict[str, Any], signer: Signer) -> dict[str, Any]:
    """The checkpoint document: the payload and its signature."""
    body = canonical_bytes(loads(json.dumps(payload)))
    try:
        signature = signer.sign(pae(CHECKPOINT_PAYLOAD_TYPE, body))
    except Exception as error:
        raise SigningError(f"signer {signer.key_id} failed ({error})", "check the signing key") from error
    return {
        "checkpoint": payload,
        "signature": {
            "algorithm": signer.algorithm,
            "keyId": signer.key_id,
            "payloadType": CHECKPOINT_PAYLOAD_TYPE,
            "signature": base64.b64encode(signature).decode("ascii"),
        },
    }


def write_checkpoint(path: Path, document: dict[str, Any]) -> None:
    """Write atomically (a reader never sees half a checkpoint)."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError as error:
        raise ProvlineageError(
            f"checkpoint file {path} cannot be written ({error.strerror or error})",
            "choose an --out path in a writable directory",
        ) from None


def _signature_problem(document: dict[str, Any], payload: Any, keyring: Keyring) -> str | None:
    signature = document.get("signature")
    if not isinstance(signature, dict):
        return "checkpoint is not signed"
    kid, algorithm = signature.get("keyId"), signature.get("algorithm")
    key = keyring.get(kid) if isinstance(kid, str) else None
    if key is None:
        return f"checkpoint is signed by key {kid}, which is not among the trusted public keys"
    if signature.get("payloadType") != CHECKPOINT_PAYLOAD_TYPE or signature_algorithm(key) != algorithm:
        return "checkpoint signature has an unknown payload type or the wrong algorithm"
    try:
        raw = base64.b64decode(signature.get("signature", ""), validate=True)
    except (binascii.Error, TypeError, ValueError):
        return "checkpoint signature is not valid base64"
    if not verify_signature(key, raw, pae(CHECKPOINT_PAYLOAD_TYPE, canonical_bytes(payload))):
        return "checkpoint signature does not match its content: the checkpoint was altered"
    return None


def load_checkpoint(path: str | os.PathLike[str], keyring: Keyring) -> Checkpoint:
    """Read a checkpoint file and check its signature (a bad signature is reported, not raised)."""
    try:
        document = loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProvlineageError(
            f"checkpoint file {path} does not exist", "pass the file written by `provlineage checkpoint`"
        ) from None
    except (OSError, ValueError, ProvlineageError) as error:
        raise ProvlineageError(
            f"checkpoint file {path} cannot be read ({error})", "pass the file written by `provlineage checkpoint`"
        ) from None
    payload = document.get("checkpoint") if isinstance(document, dict) else None
    if (
        not isinstance(payload, dict)
        or payload.get("type") != CHECKPOINT_TYPE
        or not isinstance(payload.get("streams"), list)
    ):
        raise ProvlineageError(
            f"{path} is not a provlineage checkpoint", "pass the file written by `provlineage checkpoint`"
        )
    heads = []
    for item in payload["streams"]:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("stream"), str)
            or not isinstance(item.get("lastSequence"), int)
        ):
            raise ProvlineageError(f"checkpoint {path} has a malformed stream entry", "write a new checkpoint")
        heads.append(StreamHead(item["stream"], item.get("keyId"), item["lastSequence"], item.get("headDigest")))
    logs = [log for log in payload.get("logs", []) if isinstance(log, dict)]
    return Checkpoint(heads, logs, str(payload.get("createdAt", "")), _signature_problem(document, payload, keyring))


def compare_with_checkpoint(
    report: Report, checkpoint: Checkpoint, *, logs: list[str | os.PathLike[str]] = ()
) -> list[ChainFinding]:
    """Findings where the verified log falls short of, or disagrees with, the checkpoint."""
    if checkpoint.problem is not None:
        return [ChainFinding("(checkpoint)", "checkpoint-invalid", checkpoint.problem)]
    findings: list[ChainFinding] = []
    valid: dict[tuple[str, int], list[str | None]] = {}
    for record in report.records:
        if record.status.chained and record.stream is not None and record.sequence is not None:
            valid.setdefault((record.stream, record.sequence), []).append(record.digest)
    when = f"checkpoint of {checkpoint.created_at}"
    for head in checkpoint.heads:
        summary = report.streams.get(head.stream)
        if summary is None:
            findings.append(
                ChainFinding(
                    head.stream,
                    "truncated",
                    f"no verified event of this stream remains; the {when} recorded sequence {head.last_sequence}",
                )
            )
        elif summary.last_sequence < head.last_sequence:
            findings.append(
                ChainFinding(
                    head.stream,
                    "truncated",
                    f"the log ends at sequence {summary.last_sequence}, the {when} recorded {head.last_sequence} "
                    f"(events {summary.last_sequence + 1}..{head.last_sequence} were removed)",
                )
            )
        elif head.head_digest not in valid.get((head.stream, head.last_sequence), []):
            findings.append(
                ChainFinding(
                    head.stream,
                    "disagrees",
                    f"the event at sequence {head.last_sequence} is missing or differs from the {when} (head {head.head_digest}): "
                    f"the log was rewritten",
                )
            )
    current = {str(Path(log).resolve()): os.path.getsize(log) for log in logs if os.path.exists(log)}
    for log in checkpoint.logs:
        size, recorded = current.get(str(log.get("path"))), log.get("size")
        if size is not None and isinstance(recorded, int) and size < recorded:
            findings.append(
                ChainFinding("(log)", "truncated", f"{log['path']} is {size} bytes, the {when} recorded {recorded}")
            )
    return findings


def apply_checkpoint(report: Report, checkpoint: Checkpoint, *, logs: list[str | os.PathLike[str]] = ()) -> Report:
    """Add the checkpoint's findings to ``report`` (which then fails when there are any)."""
    report.chain.extend(compare_with_checkpoint(report, checkpoint, logs=logs))
    return report
