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

from provlineage.inference.canonical_values import canonical_json
from provlineage.inference.checks import (
    Commitment,
    InferenceRunCheck,
    candidate_logs,
    check_inference_log,
    commitments,
    prove_committed,
    prove_input,
)
from provlineage.inference.digest_key import DigestKey, load_digest_key, write_digest_key
from provlineage.inference.proofs import (
    InclusionProof,
    RunInferences,
    prove_inference,
    read_inference_log,
    verify_inclusion,
)
from provlineage.inference.recorder import InferenceRecorder, Sealed
from provlineage.inference.records import (
    DEFAULT_BATCH_SIZE,
    LOG_FORMAT,
    LOG_SUFFIX,
    RECORD_TYPE,
    SEAL_PAYLOAD_TYPE,
    SEAL_TYPE,
    InferenceLogError,
    default_log_path,
    inference_id,
)
from provlineage.inference.seals import check_seal, sign_seal

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "LOG_FORMAT",
    "LOG_SUFFIX",
    "RECORD_TYPE",
    "SEAL_PAYLOAD_TYPE",
    "SEAL_TYPE",
    "Commitment",
    "DigestKey",
    "InclusionProof",
    "InferenceLogError",
    "InferenceRecorder",
    "InferenceRunCheck",
    "RunInferences",
    "Sealed",
    "candidate_logs",
    "canonical_json",
    "check_inference_log",
    "check_seal",
    "commitments",
    "default_log_path",
    "inference_id",
    "load_digest_key",
    "prove_committed",
    "prove_inference",
    "prove_input",
    "read_inference_log",
    "sign_seal",
    "verify_inclusion",
    "write_digest_key",
]
