"""Verify records of the older "ProvenanceTracker" log so its users can migrate.

Its lines are ``{"schema_version": "1.1", "signed_data": "<json>", "signature": "<base64>"}`` signed with
RSA-PSS (MGF1-SHA256, maximum salt) over the UTF-8 bytes of ``signed_data``.  The format has no key id, so every
RSA key in the keyring is tried.  Such records are reported as ``legacy``: authentic, but without chain protection.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from provlineage.keys import Keyring, key_id
from provlineage.signature_check import EventCheck, Status

LEGACY_SCHEMA_VERSIONS = ("1.0", "1.1")
LEGACY_RECORD_TYPES = ("dataset", "model", "inference")
_PSS_ANY_SALT = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)


def is_legacy_envelope(value: Any) -> bool:
    return isinstance(value, dict) and "signed_data" in value and "signature" in value and "eventType" not in value


def legacy_record(envelope: dict[str, Any]) -> dict[str, Any] | None:
    """The signed record inside an envelope, or ``None`` when ``signed_data`` is not a JSON object."""
    try:
        record = json.loads(envelope["signed_data"])
    except (TypeError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def check_legacy(envelope: dict[str, Any], keyring: Keyring) -> EventCheck:
    signed_data, signature_text = envelope.get("signed_data"), envelope.get("signature")
    if not isinstance(signed_data, str) or not isinstance(signature_text, str):
        return EventCheck(Status.MALFORMED, "legacy envelope: signed_data and signature must be strings")
    try:
        signature = base64.b64decode(signature_text, validate=True)
    except (binascii.Error, ValueError):
        return EventCheck(Status.FAILED, "legacy envelope: signature is not valid base64")
    rsa_keys = keyring.rsa_keys()
    if not rsa_keys:
        return EventCheck(
            Status.UNKNOWN_KEY, "legacy envelope needs the old tool's RSA public key; pass it with --public-key"
        )
    data = signed_data.encode("utf-8")
    for key in rsa_keys:
        try:
            key.verify(signature, data, _PSS_ANY_SALT, hashes.SHA256())
        except InvalidSignature:
            continue
        record = legacy_record(envelope)
        kid = key_id(key)
        if record is None:
            return EventCheck(Status.FAILED, "legacy envelope: signed_data is not a JSON object", key_id=kid)
        version = envelope.get("schema_version")
        if version not in LEGACY_SCHEMA_VERSIONS or record.get("type") not in LEGACY_RECORD_TYPES:
            return EventCheck(
                Status.FAILED,
                f"legacy schema mismatch (schema_version {version!r}, type {record.get('type')!r})",
                key_id=kid,
            )
        return EventCheck(Status.LEGACY, "legacy record: authentic, but not chained", key_id=kid)
    return EventCheck(Status.FAILED, "legacy envelope: signature does not match signed_data under any trusted RSA key")
