"""Sign and check the seal record that ends a run's records in the inference log."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from provlineage._internal.canonical import CANONICALIZATION, canonical_bytes, prepare
from provlineage._internal.payload import digest_of, pae
from provlineage.errors import CanonicalizationError
from provlineage.inference.records import SEAL_PAYLOAD_TYPE
from provlineage.keys import Keyring, signature_algorithm
from provlineage.signature_check import verify_signature
from provlineage.signer import Signer


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
