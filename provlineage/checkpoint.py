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

signed as events are, ``PAE(payloadType, RFC 8785 bytes of "checkpoint")``, but in a role of its own: the payload
type differs from events' (so neither signature can stand for the other) and the key is the auditor's, kept apart
from the event keys.  ``provlineage checkpoint`` refuses to sign with a key that signs events, and ``verify
--checkpoint FILE --checkpoint-key PEM`` trusts the checkpoint key for checkpoints only (never for events) and
rejects a checkpoint signed by one of the event keys: whoever can rewrite the log must not be able to re-sign its
checkpoint.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from provlineage._internal.canonical import canonical_bytes, loads
from provlineage._internal.payload import pae
from provlineage.errors import ProvlineageError, SigningError
from provlineage.keys import Keyring, signature_algorithm
from provlineage.signature_check import verify_signature
from provlineage.signer import Signer
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


def _signature_problem(
    document: dict[str, Any], payload: Any, keyring: Keyring, event_keyring: Keyring | None
) -> str | None:
    signature = document.get("signature")
    if not isinstance(signature, dict):
        return "checkpoint is not signed"
    kid, algorithm = signature.get("keyId"), signature.get("algorithm")
    if isinstance(kid, str) and event_keyring is not None and event_keyring.get(kid) is not None:
        return (
            f"checkpoint is signed by {kid}, a key that signs events: a checkpoint must be signed by the auditor's "
            f"own key (provlineage checkpoint --private-key AUDITOR_KEY), so that the log's writer cannot re-sign it"
        )
    key = keyring.get(kid) if isinstance(kid, str) else None
    if key is None:
        return f"checkpoint is signed by key {kid}, which is not among the trusted checkpoint keys (--checkpoint-key)"
    if signature.get("payloadType") != CHECKPOINT_PAYLOAD_TYPE or signature_algorithm(key) != algorithm:
        return "checkpoint signature has an unknown payload type or the wrong algorithm"
    try:
        raw = base64.b64decode(signature.get("signature", ""), validate=True)
        body = canonical_bytes(payload)
    except (binascii.Error, TypeError, ValueError):
        return "checkpoint signature is not valid base64, or its content cannot be canonicalized"
    if not verify_signature(key, raw, pae(CHECKPOINT_PAYLOAD_TYPE, body)):
        return "checkpoint signature does not match its content: the checkpoint was altered"
    return None


def _malformed(path: str | os.PathLike[str], what: str) -> ProvlineageError:
    return ProvlineageError(
        f"checkpoint {path} is malformed ({what})",
        "pass the unmodified file written by `provlineage checkpoint`, or write a new one",
    )


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _heads(path: str | os.PathLike[str], streams: Any) -> list[StreamHead]:
    if not isinstance(streams, list):
        raise _malformed(path, '"streams" is not a list')
    heads = []
    for index, item in enumerate(streams):
        if not isinstance(item, dict):
            raise _malformed(path, f"stream entry {index} is not an object")
        stream, sequence = item.get("stream"), item.get("lastSequence")
        key, head = item.get("keyId"), item.get("headDigest")
        if not isinstance(stream, str) or not _is_count(sequence) or sequence < 1:
            raise _malformed(path, f"stream entry {index} needs a stream name and a positive lastSequence")
        if not isinstance(key, (str, type(None))) or not isinstance(head, (str, type(None))):
            raise _malformed(path, f"stream entry {index}: keyId and headDigest must be strings")
        heads.append(StreamHead(stream, key, sequence, head))
    return heads


def _logs(path: str | os.PathLike[str], logs: Any) -> list[dict[str, Any]]:
    if logs is None:
        return []
    if not isinstance(logs, list):
        raise _malformed(path, '"logs" is not a list')
    for index, log in enumerate(logs):
        if not isinstance(log, dict) or not isinstance(log.get("path"), str):
            raise _malformed(path, f"log entry {index} needs a path string")
        if log.get("size") is not None and not _is_count(log["size"]):
            raise _malformed(path, f"log entry {index}: size must be a byte count")
    return logs


def checkpoint_keyring(paths: Sequence[str | os.PathLike[str]], event_keyring: Keyring) -> Keyring:
    """The keys trusted for checkpoints (``--checkpoint-key``), none of which may also be an event key."""
    if not paths:
        raise ProvlineageError(
            "--checkpoint needs the public key of the auditor who signed it",
            "add --checkpoint-key AUDITOR_PUBLIC_PEM (event keys, --public-key, are not trusted for checkpoints)",
        )
    keyring = Keyring.from_files(list(paths))
    both = [kid for kid in keyring.key_ids if event_keyring.get(kid) is not None]
    if both:
        raise ProvlineageError(
            f"key {both[0]} is given both as an event key (--public-key) and as a checkpoint key (--checkpoint-key)",
            "a checkpoint must be signed by the auditor's own key, one that signs no events",
        )
    return keyring


def load_checkpoint(
    path: str | os.PathLike[str], keyring: Keyring, *, event_keyring: Keyring | None = None
) -> Checkpoint:
    """Read a checkpoint file and check its signature (a bad signature is reported, not raised).

    ``keyring`` holds the trusted checkpoint keys; ``event_keyring`` the event keys, none of which may have signed
    the checkpoint.  A file that is not a well-formed checkpoint raises a one-line :class:`ProvlineageError`.
    """
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
    if not isinstance(payload, dict) or payload.get("type") != CHECKPOINT_TYPE:
        raise ProvlineageError(
            f"{path} is not a provlineage checkpoint", "pass the file written by `provlineage checkpoint`"
        )
    if payload.get("version") != 1:
        raise _malformed(path, f"version {payload.get('version')!r}; this provlineage reads version 1")
    heads, logs = _heads(path, payload.get("streams")), _logs(path, payload.get("logs"))
    created = payload.get("createdAt", "")
    if not isinstance(created, str):
        raise _malformed(path, '"createdAt" is not a string')
    return Checkpoint(heads, logs, created, _signature_problem(document, payload, keyring, event_keyring))


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
    current = {str(Path(log).resolve()): os.path.getsize(log) for log in logs if os.path.isfile(log)}
    for log in checkpoint.logs:
        size, recorded = current.get(str(log.get("path"))), log.get("size")
        if size is not None and _is_count(recorded) and size < recorded:
            findings.append(
                ChainFinding("(log)", "truncated", f"{log['path']} is {size} bytes, the {when} recorded {recorded}")
            )
    return findings


def apply_checkpoint(report: Report, checkpoint: Checkpoint, *, logs: list[str | os.PathLike[str]] = ()) -> Report:
    """Add the checkpoint's findings to ``report`` (which then fails when there are any)."""
    report.chain.extend(compare_with_checkpoint(report, checkpoint, logs=logs))
    return report
