"""Write a run's inference records in batches and fold them into its Merkle root; seal the run at its end."""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provlineage._internal import merkle
from provlineage._internal.canonical import canonical_bytes, prepare
from provlineage.facets import InferenceRunFacet
from provlineage.inference.canonical_values import canonical_json
from provlineage.inference.digest_key import DigestKey
from provlineage.inference.records import (
    DEFAULT_BATCH_SIZE,
    LOG_FORMAT,
    RECORD_TYPE,
    SEAL_TYPE,
    InferenceLogError,
    _append,
    _now,
)
from provlineage.inference.seals import sign_seal
from provlineage.signer import Signer


@dataclass(frozen=True)
class Sealed:
    """What a run committed to: the facet for its terminal event (also written as the signed seal)."""

    count: int
    merkle_root: str
    first_id: str | None
    last_id: str | None

    def facet(
        self, *, model_digest: str | None, log_path: Path, payloads_retained: bool, digest_key_id: str | None = None
    ) -> InferenceRunFacet:
        return InferenceRunFacet(
            count=self.count,
            merkleRoot=self.merkle_root,
            modelDigest=model_digest,
            log=str(log_path),
            firstId=self.first_id,
            lastId=self.last_id,
            payloadsRetained=payloads_retained,
            digestKeyId=digest_key_id,
        )


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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
        digest_key: DigestKey | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self.path = Path(path)
        self.run_id = run_id
        self.job = {"namespace": job_namespace, "name": job_name}
        self.model_digest = model_digest
        self.retain_payloads = retain_payloads
        self._batch_size = max(1, batch_size)
        self._model_prefix = (model_digest or "").encode("ascii") + b"\n"
        self.digest_key = digest_key
        self._hexdigest = digest_key.hexdigester() if digest_key is not None else _sha256_hex
        self._digest_prefix = "hmac-sha256:" if digest_key is not None else "sha256:"
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
            record_id = "inf-" + self._hexdigest(self._model_prefix + canonical_input)[:32]
            id_json = record_id
        else:
            record_id = str(id)
            id_json = canonical_json(record_id).decode("utf-8")[1:-1]  # JCS escaping; a lone surrogate is refused
        input_digest = self._digest_prefix + self._hexdigest(canonical_input)
        output_digest = self._digest_prefix + self._hexdigest(canonical_output)
        stamp = _now()
        with self._lock:
            if self._sealed is not None:
                raise InferenceLogError(f"run {self.run_id} has ended", "log inferences inside the track() block")
            index = self._tree.size
            # Keys in JCS order; every string here needs no escaping, so this is the record's canonical form.
            if self.retain_payloads:
                line = (
                    f'{{"id":"{id_json}","index":{index},"input":{canonical_input.decode()},'
                    f'"inputDigest":"{input_digest}","output":{canonical_output.decode()},'
                    f'"outputDigest":"{output_digest}"{self._tail}{stamp}","type":"{RECORD_TYPE}"}}'
                )
            else:
                line = (
                    f'{{"id":"{id_json}","index":{index},"inputDigest":"{input_digest}",'
                    f'"outputDigest":"{output_digest}"{self._tail}{stamp}","type":"{RECORD_TYPE}"}}'
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
                "digestKeyId": self.digest_key.key_id if self.digest_key is not None else None,
                "time": _now(),
            }
            seal = {key: value for key, value in seal.items() if value is not None}
            if signer is not None:
                seal["signature"] = sign_seal(seal, signer)
            _append(self.path, canonical_bytes(prepare(seal)).decode("utf-8") + "\n")
            return sealed
