"""Inference records: deterministic ids, a buffered signed log, and proofs that one inference belongs to a run.

**Ids and digests.**  ``canonical(x)`` is the RFC 8785 (JCS) form of ``x`` after provlineage's JSON rule
(:mod:`provlineage._internal.jsonsafe`: ``None`` members dropped, NaN as ``"NaN"``, numpy via ``tolist()``, ...).
Then::

    inputDigest  = "sha256:" + hex(SHA-256(canonical(input)))
    outputDigest = "sha256:" + hex(SHA-256(canonical(output)))
    id           = "inf-" + hex(SHA-256(modelDigest + "\\n" + canonical(input)))[:32]

where ``modelDigest`` is the model's ``sha256:<hex>`` (the empty string when the run logged no model), so the same
input scored by the same model always gets the same id, and by another model another id.  An id given by the caller
replaces the computed one.

**The inference log** is JSON Lines.  Each record is one line, ``{"type": "inference", "runId", "index", "id",
"inputDigest", "outputDigest", "time"}`` (plus ``"input"``/``"output"`` only when the run opted in to keeping
payloads, which may be personal data), written in its canonical form.  Records of a run are numbered from 0; their
leaves are ``canonical(record)`` and the run's RFC 6962 Merkle root (:mod:`provlineage._internal.merkle`) goes into
the ``provlineage_inference`` facet of the run's terminal event.  When the run ends a *seal* record
``{"type": "inferenceSeal", "runId", "count", "merkleRoot", ...}`` is appended, signed like an event
(``PAE(SEAL_PAYLOAD_TYPE, canonical(seal without "signature"))``) when a signer is at hand.  The signed event is what
an auditor trusts; the seal lets the log be checked on its own.

Records are buffered and appended in batches (one ``write`` under the log's ``flock``, as the file backend does), so
several processes may share one log.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provlineage._internal import merkle
from provlineage._internal.canonical import CANONICALIZATION, canonical_bytes, loads, prepare
from provlineage._internal.fdlock import locked_open
from provlineage._internal.jsonsafe import to_json_safe
from provlineage.errors import CanonicalizationError, ProvlineageError
from provlineage.facets import INFERENCE, InferenceRunFacet
from provlineage.keys import Keyring, signature_algorithm
from provlineage.signature_check import verify_signature
from provlineage.signer import Signer
from provlineage.signing import digest_of, pae

log = logging.getLogger(__name__)

LOG_FORMAT = "provlineage-inference-log/1"
SEAL_PAYLOAD_TYPE = "application/vnd.provlineage.inference-seal+json;version=1"
RECORD_TYPE = "inference"
SEAL_TYPE = "inferenceSeal"
DEFAULT_BATCH_SIZE = 4096
LOG_SUFFIX = ".inferences.jsonl"
LOCK_TIMEOUT = 30.0


class InferenceLogError(ProvlineageError):
    """An inference log is missing, unreadable, or does not hold what was asked for."""


# --- canonical JSON, with a fast path for plain small values ------------------------------------------------
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
# Text the C encoder may spell differently from JCS (exponents, integral floats, long integers), or a member the
# JSON rule drops (null), or a key JCS sorts differently (outside the BMP).  A match in a string only costs speed.
_NOT_JCS_SAFE = re.compile(r"[0-9][eE]|\.0(?![0-9])|[0-9]{16}|:null|[\U00010000-\U0010ffff]")


def _string_keyed(value: Any) -> bool:
    """True when every mapping in ``value`` is a dict with ``str`` keys (the C encoder sorts other keys differently)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if type(key) is not str:
                return False
            if isinstance(item, (dict, list, tuple)) and not _string_keyed(item):
                return False
        return True
    if isinstance(value, (list, tuple)):
        return all(_string_keyed(item) for item in value if isinstance(item, (dict, list, tuple)))
    return True


def canonical_json(value: Any) -> bytes:
    """``canonical(value)``: RFC 8785 bytes of ``value`` after the JSON rule.

    Plain dicts/lists of strings, booleans, safe integers and ordinary floats are printed by the C encoder, whose
    output is then byte-identical to JCS; anything else goes through the general converter.
    """
    if _string_keyed(value):
        try:
            text = _ENCODER.encode(value)
        except (TypeError, ValueError):
            text = None
        if text is not None and not _NOT_JCS_SAFE.search(text):
            try:
                return text.encode("utf-8")
            except UnicodeEncodeError:
                pass  # a lone surrogate: let the general path report it
    return canonical_bytes(prepare(to_json_safe(value)))


def inference_id(canonical_input: bytes, model_digest: str | None) -> str:
    """The deterministic id of an input scored by a model (see the module docstring)."""
    return "inf-" + hashlib.sha256((model_digest or "").encode("ascii") + b"\n" + canonical_input).hexdigest()[:32]


def default_log_path(event_log: str | os.PathLike[str]) -> Path:
    """``lineage.jsonl`` -> ``lineage.inferences.jsonl``, beside the event log."""
    path = Path(event_log)
    return path.with_name(path.stem + LOG_SUFFIX)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _append(path: Path, text: str) -> None:
    """Append whole lines under the log's lock (as the file backend does), so concurrent writers never interleave."""
    data = text.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    with locked_open(path, os.O_RDWR | os.O_APPEND, timeout=LOCK_TIMEOUT) as fd:
        end = os.lseek(fd, 0, os.SEEK_END)
        if end and os.pread(fd, 1, end - 1) != b"\n":  # a writer crashed mid-line: never glue onto its torn record
            data = b"\n" + data
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        getattr(os, "fdatasync", os.fsync)(fd)


# --- writing ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sealed:
    """What a run committed to: the facet for its terminal event (also written as the signed seal)."""

    count: int
    merkle_root: str
    first_id: str | None
    last_id: str | None

    def facet(self, *, model_digest: str | None, log_path: Path, payloads_retained: bool) -> InferenceRunFacet:
        return InferenceRunFacet(
            count=self.count,
            merkleRoot=self.merkle_root,
            modelDigest=model_digest,
            log=str(log_path),
            firstId=self.first_id,
            lastId=self.last_id,
            payloadsRetained=payloads_retained,
        )


class InferenceRecorder:
    """Builds a run's inference records, buffers their lines and folds them into the Merkle root.

    Thread-safe: a model server may call :meth:`record` from several threads.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        run_id: str,
        job_namespace: str,
        job_name: str,
        model_digest: str | None,
        retain_payloads: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self.path = Path(path)
        self.run_id = run_id
        self.job = {"namespace": job_namespace, "name": job_name}
        self.model_digest = model_digest
        self.retain_payloads = retain_payloads
        self._batch_size = max(1, batch_size)
        self._model_prefix = (model_digest or "").encode("ascii") + b"\n"
        self._tail = f',"runId":"{run_id}","time":"'
        self._pending: list[str] = []
        self._tree = merkle.MerkleAccumulator()
        self._first_id: str | None = None
        self._last_id: str | None = None
        self._lock = threading.Lock()
        self._sealed: Sealed | None = None

    @property
    def count(self) -> int:
        return self._tree.size

    def record(self, input: Any, output: Any, *, id: str | None = None) -> str:
        """Add one inference; returns its id."""
        canonical_input = canonical_json(input)
        canonical_output = canonical_json(output)
        if id is None:
            record_id = "inf-" + hashlib.sha256(self._model_prefix + canonical_input).hexdigest()[:32]
            id_json = record_id
        else:
            record_id = str(id)
            id_json = canonical_json(record_id).decode("utf-8")[1:-1]  # JCS escaping; a lone surrogate is refused
        input_digest = hashlib.sha256(canonical_input).hexdigest()
        output_digest = hashlib.sha256(canonical_output).hexdigest()
        stamp = _now()
        with self._lock:
            if self._sealed is not None:
                raise InferenceLogError(f"run {self.run_id} has ended", "log inferences inside the track() block")
            index = self._tree.size
            # Keys in JCS order; every string here needs no escaping, so this is the record's canonical form.
            if self.retain_payloads:
                line = (
                    f'{{"id":"{id_json}","index":{index},"input":{canonical_input.decode()},'
                    f'"inputDigest":"sha256:{input_digest}","output":{canonical_output.decode()},'
                    f'"outputDigest":"sha256:{output_digest}"{self._tail}{stamp}","type":"{RECORD_TYPE}"}}'
                )
            else:
                line = (
                    f'{{"id":"{id_json}","index":{index},"inputDigest":"sha256:{input_digest}",'
                    f'"outputDigest":"sha256:{output_digest}"{self._tail}{stamp}","type":"{RECORD_TYPE}"}}'
                )
            self._tree.append(merkle.leaf_hash(line.encode("utf-8")))
            self._pending.append(line)
            if self._first_id is None:
                self._first_id = record_id
            self._last_id = record_id
            if len(self._pending) >= self._batch_size:
                self._flush_locked()
        return record_id

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not self._pending:
            return
        _append(self.path, "\n".join(self._pending) + "\n")
        self._pending = []  # only once written: a failed append is retried with the next batch

    def summary(self) -> Sealed:
        """What the records so far commit to (the root is computed in memory, whatever reached the file)."""
        return Sealed(self._tree.size, "sha256:" + self._tree.root().hex(), self._first_id, self._last_id)

    def seal(self, signer: Signer | None, *, status: str) -> Sealed:
        """Write the remaining records and the seal; returns what the run's terminal event must carry.

        No record is accepted afterwards.  If writing fails the error propagates, and :meth:`summary` still gives
        the root for the event (the log on disk will then not match it, which verification reports).
        """
        with self._lock:
            if self._sealed is not None:
                return self._sealed
            sealed = self._sealed = self.summary()
            self._flush_locked()
            seal = {
                "type": SEAL_TYPE,
                "format": LOG_FORMAT,
                "runId": self.run_id,
                "job": self.job,
                "status": status,
                "count": sealed.count,
                "merkleRoot": sealed.merkle_root,
                "treeAlgorithm": merkle.TREE_ALGORITHM,
                "modelDigest": self.model_digest,
                "firstId": sealed.first_id,
                "lastId": sealed.last_id,
                "payloadsRetained": self.retain_payloads,
                "time": _now(),
            }
            seal = {key: value for key, value in seal.items() if value is not None}
            if signer is not None:
                seal["signature"] = sign_seal(seal, signer)
            _append(self.path, canonical_bytes(prepare(seal)).decode("utf-8") + "\n")
            return sealed


def _seal_body(seal: Mapping[str, Any]) -> bytes:
    return canonical_bytes(prepare({key: value for key, value in seal.items() if key != "signature"}))


def sign_seal(seal: Mapping[str, Any], signer: Signer) -> dict[str, Any]:
    """The ``signature`` member of a seal: the same PAE-over-JCS scheme as events, with its own payload type."""
    body = _seal_body(seal)
    return {
        "algorithm": signer.algorithm,
        "keyId": signer.key_id,
        "signature": base64.b64encode(signer.sign(pae(SEAL_PAYLOAD_TYPE, body))).decode("ascii"),
        "canonicalization": CANONICALIZATION,
        "payloadType": SEAL_PAYLOAD_TYPE,
        "digest": digest_of(body),
    }


def check_seal(seal: Mapping[str, Any], keyring: Keyring) -> tuple[str, str]:
    """``("valid" | "unsigned" | "unknown-key" | "failed", reason)`` for one seal record."""
    signature = seal.get("signature")
    if not isinstance(signature, dict):
        return "unsigned", "seal is not signed (the run's transport had no signer); trust the signed event's root"
    kid = signature.get("keyId")
    key = keyring.get(kid) if isinstance(kid, str) else None
    if key is None:
        return "unknown-key", f"seal signed by key {kid}, which is not among the trusted public keys"
    if signature.get("payloadType") != SEAL_PAYLOAD_TYPE or signature.get("canonicalization") != CANONICALIZATION:
        return "failed", "seal uses a payload type or canonical form this version does not know"
    if signature.get("algorithm") != signature_algorithm(key):
        return "failed", f"seal algorithm {signature.get('algorithm')!r} does not match key {kid}"
    try:
        raw = base64.b64decode(signature.get("signature", ""), validate=True)
        body = _seal_body(seal)
    except (binascii.Error, TypeError, ValueError, CanonicalizationError) as error:
        return "failed", f"seal cannot be checked ({error})"
    if not verify_signature(key, raw, pae(SEAL_PAYLOAD_TYPE, body)):
        return "failed", "seal signature does not match: its count, root or run id was altered"
    return "valid", ""


# --- reading, proving, checking -----------------------------------------------------------------------------
@dataclass
class RunInferences:
    """A run's records as found in a log: leaves by index, and its seal if present."""

    run_id: str
    leaves: dict[int, bytes] = field(default_factory=dict)
    records: dict[int, dict[str, Any]] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    seal: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)

    def leaf_list(self) -> list[bytes]:
        return [self.leaves[i] for i in range(len(self.leaves))] if self.contiguous else []

    @property
    def contiguous(self) -> bool:
        return all(i in self.leaves for i in range(len(self.leaves)))

    def root(self) -> str:
        return "sha256:" + merkle.root(self.leaf_list()).hex()


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape", newline="\n") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    yield number, line
    except FileNotFoundError:
        raise InferenceLogError(
            f"inference log {path} does not exist", "pass the *.inferences.jsonl file the run wrote"
        ) from None
    except OSError as error:
        raise InferenceLogError(
            f"inference log {path} cannot be read ({error.strerror})", "check its permissions"
        ) from None


def read_inference_log(
    path: str | os.PathLike[str], *, run_id: str | None = None, keep_records: bool = False
) -> dict[str, RunInferences]:
    """Every run of an inference log (or only ``run_id``), with each record's leaf hash recomputed."""
    runs: dict[str, RunInferences] = {}
    source = Path(path)
    for number, line in _lines(source):
        if run_id is not None and run_id not in line:
            continue
        try:
            value = loads(line)
        except (ValueError, ProvlineageError):
            runs.setdefault("", RunInferences("")).problems.append(f"line {number}: not a JSON record")
            continue
        if not isinstance(value, dict) or not isinstance(value.get("runId"), str):
            runs.setdefault("", RunInferences("")).problems.append(f"line {number}: record without a runId")
            continue
        if run_id is not None and value["runId"] != run_id:
            continue
        run = runs.setdefault(value["runId"], RunInferences(value["runId"]))
        if value.get("type") == SEAL_TYPE:
            if run.seal is not None:
                run.problems.append(f"line {number}: a second seal for the run")
            run.seal = value
            continue
        index = value.get("index")
        if value.get("type") != RECORD_TYPE or not isinstance(index, int) or isinstance(index, bool) or index < 0:
            run.problems.append(f"line {number}: not an inference record (type and a non-negative index are required)")
            continue
        if index in run.leaves:
            run.problems.append(f"line {number}: index {index} appears twice")
            continue
        run.leaves[index] = merkle.leaf_hash(canonical_bytes(value))
        run.ids.setdefault(str(value.get("id")), index)
        if keep_records:
            run.records[index] = value
    return runs


@dataclass(frozen=True)
class InclusionProof:
    """An RFC 6962 audit path from one inference record to its run's Merkle root."""

    run_id: str
    inference_id: str
    index: int
    tree_size: int
    record: dict[str, Any]
    path: list[str]
    """Sibling hashes, hex, from the leaf up."""
    merkle_root: str
    """The root the log's records give (``sha256:<hex>``); compare it with the one in the signed event."""

    def to_json(self) -> dict[str, Any]:
        return {
            "runId": self.run_id,
            "inferenceId": self.inference_id,
            "index": self.index,
            "treeSize": self.tree_size,
            "treeAlgorithm": merkle.TREE_ALGORITHM,
            "merkleRoot": self.merkle_root,
            "path": self.path,
            "record": self.record,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InclusionProof:
        return cls(
            data["runId"],
            data["inferenceId"],
            data["index"],
            data["treeSize"],
            dict(data["record"]),
            list(data["path"]),
            data["merkleRoot"],
        )


def _proof_of(run: RunInferences, inference_id: str, source: str) -> InclusionProof:
    if not run.contiguous:
        raise InferenceLogError(
            f"records of run {run.run_id} in {source} have gaps",
            "the log was truncated or edited; no proof is possible",
        )
    leaves = run.leaf_list()
    if run.seal is not None and run.seal.get("count") != len(leaves):
        raise InferenceLogError(
            f"run {run.run_id} sealed {run.seal.get('count')} records but {source} holds {len(leaves)}",
            "the log was truncated or extended after the run; compare it with the signed event",
        )
    index = run.ids[inference_id]
    path = [sibling.hex() for sibling in merkle.audit_path(index, leaves)]
    return InclusionProof(
        run.run_id, inference_id, index, len(leaves), run.records[index], path, "sha256:" + merkle.root(leaves).hex()
    )


def prove_inference(
    inference_log: str | os.PathLike[str], inference_id: str, *, run_id: str | None = None
) -> InclusionProof:
    """The inclusion proof of the first record with ``inference_id`` (in ``run_id`` if given)."""
    runs = read_inference_log(inference_log, run_id=run_id, keep_records=True)
    for run in runs.values():
        if inference_id in run.ids:
            return _proof_of(run, inference_id, str(inference_log))
    where = f" for run {run_id}" if run_id else ""
    raise InferenceLogError(
        f"inference {inference_id} is not in {inference_log}{where}", "check the id and the log path"
    )


def _root_bytes(root: str) -> bytes | None:
    try:
        return bytes.fromhex(root.removeprefix("sha256:"))
    except (AttributeError, ValueError):
        return None


def verify_inclusion(proof: InclusionProof, merkle_root: str) -> bool:
    """True when ``proof.record`` is leaf ``proof.index`` of the ``proof.tree_size``-leaf tree with ``merkle_root``.

    ``merkle_root`` must come from a source you trust: the ``provlineage_inference`` facet of the run's *verified*
    event (or a valid seal), never from the proof itself.
    """
    record = proof.record
    if (
        record.get("id") != proof.inference_id
        or record.get("index") != proof.index
        or record.get("runId") != proof.run_id
    ):
        return False
    expected = _root_bytes(merkle_root)
    try:
        leaf = merkle.leaf_hash(canonical_bytes(prepare(record)))
        path = [bytes.fromhex(sibling) for sibling in proof.path]
    except (ValueError, TypeError, ProvlineageError):
        return False
    return expected is not None and merkle.verify_path(leaf, proof.index, proof.tree_size, path, expected)


# --- checking logs against verified events (``provlineage verify --inference-log / --inference``) -------------
@dataclass(frozen=True)
class Commitment:
    """What a verified event of a run signed about its inferences."""

    run_id: str
    count: int
    merkle_root: str
    log: str | None
    source: str
    line: int


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
            found[run["runId"]] = Commitment(
                run["runId"], count, root, where if isinstance(where, str) else None, source, line
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
