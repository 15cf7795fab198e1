"""Sign one OpenLineage event and check one signature.

What is signed is ``PAE(payloadType, body)`` (the DSSE pre-authentication encoding, for domain separation), where
``body`` is the RFC 8785 form of::

    {"canonicalization": "provlineage-jcs/1", "algorithm": ..., "keyId": ...,
     "chain": {"stream": ..., "sequence": ..., "previousDigest": ...},   # when the event is chained
     "event": <covered view of the event>}

The covered view is defined in :mod:`provlineage._internal.canonical`.  ``digest`` (SHA-256 of ``body``) is what the
next event of the same stream links to.  The ``provlineage_signature`` facet carries all of this; it is the one
part of the event the signature does not cover, and every field of it that matters is inside ``body``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from enum import Enum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from provlineage._internal.canonical import CANONICALIZATION, SIGNATURE_FACET, canonical_bytes, project_event
from provlineage.errors import CanonicalizationError, SigningError
from provlineage.facets import PRODUCER, schema_url
from provlineage.keys import Keyring, PublicKey, signature_algorithm
from provlineage.signer import Signer

PAYLOAD_TYPE = "application/vnd.provlineage.event+json;version=1"
_SIGNATURE_SCHEMA = schema_url("SignatureRunFacet")
_RSA_PSS_VERIFY = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)


@dataclass(frozen=True)
class ChainLink:
    """Where an event sits in its signing stream."""

    stream: str
    sequence: int
    previous_digest: str | None


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(body), body)


def _body(view: dict[str, Any], algorithm: str, kid: str, chain: ChainLink | None) -> bytes:
    payload: dict[str, Any] = {"canonicalization": CANONICALIZATION, "algorithm": algorithm, "keyId": kid, "event": view}
    if chain is not None:
        link: dict[str, Any] = {"stream": chain.stream, "sequence": chain.sequence}
        if chain.previous_digest is not None:
            link["previousDigest"] = chain.previous_digest
        payload["chain"] = link
    return canonical_bytes(payload)


def digest_of(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def sign_event(event: dict[str, Any], signer: Signer, *, chain: ChainLink | None = None, may_hold_nulls: bool = True) -> str:
    """Add a ``provlineage_signature`` facet to ``event`` in place and return the event's digest.

    ``event`` must hold JSON values prepared by :func:`provlineage._internal.canonical.prepare` or ``loads``.
    """
    run = event.get("run")
    if not isinstance(run, dict):
        raise SigningError("event has no run object", "sign OpenLineage RunEvents only")
    facets = run.get("facets")
    if not isinstance(facets, dict):
        facets = run["facets"] = {}
    facets.pop(SIGNATURE_FACET, None)
    body = _body(project_event(event, may_hold_nulls=may_hold_nulls), signer.algorithm, signer.key_id, chain)
    digest = digest_of(body)
    try:
        signature = signer.sign(pae(PAYLOAD_TYPE, body))
    except Exception as error:  # a remote signer (KMS, HSM) can fail in its own ways
        raise SigningError(f"signer {signer.key_id} failed ({type(error).__name__}: {error})", "check the signing key or service") from error
    facet: dict[str, Any] = {
        "_producer": PRODUCER,
        "_schemaURL": _SIGNATURE_SCHEMA,
        "algorithm": signer.algorithm,
        "keyId": signer.key_id,
        "signature": base64.b64encode(signature).decode("ascii"),
        "canonicalization": CANONICALIZATION,
        "payloadType": PAYLOAD_TYPE,
        "digest": digest,
    }
    if chain is not None:
        facet["stream"] = chain.stream
        facet["sequence"] = chain.sequence
        if chain.previous_digest is not None:
            facet["previousDigest"] = chain.previous_digest
    facets[SIGNATURE_FACET] = facet
    return digest


class Status(str, Enum):
    VALID = "valid"
    FAILED = "failed"
    UNSIGNED = "unsigned"
    UNKNOWN_KEY = "unknown-key"
    MALFORMED = "malformed"
    LEGACY = "legacy"
    TORN = "torn"

    @property
    def verified(self) -> bool:
        return self in (Status.VALID, Status.LEGACY)


@dataclass
class EventCheck:
    """The outcome of checking one event's signature (chains are checked across events, elsewhere)."""

    status: Status
    reason: str = ""
    key_id: str | None = None
    digest: str | None = None
    stream: str | None = None
    sequence: int | None = None
    previous_digest: str | None = None


def _verify_raw(key: PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, _RSA_PSS_VERIFY, hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _chain_of(facet: dict[str, Any]) -> tuple[ChainLink | None, str]:
    stream, sequence, previous = facet.get("stream"), facet.get("sequence"), facet.get("previousDigest")
    if stream is None and sequence is None:
        return (None, "") if previous is None else (None, "previousDigest without stream and sequence")
    if not isinstance(stream, str) or not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
        return None, "chain fields stream/sequence are not a string and a positive integer"
    if previous is not None and not isinstance(previous, str):
        return None, "previousDigest is not a string"
    return ChainLink(stream, sequence, previous), ""


def check_event(event: Any, keyring: Keyring, *, may_hold_nulls: bool = True) -> EventCheck:
    """Check the signature of one parsed event (values from ``canonical.loads``)."""
    if not isinstance(event, dict) or not isinstance(event.get("run"), dict) or not isinstance(event.get("job"), dict):
        return EventCheck(Status.MALFORMED, "not an OpenLineage run event (a JSON object with run and job is expected)")
    facets = event["run"].get("facets")
    if not isinstance(facets, dict) or not facets:
        return EventCheck(
            Status.UNSIGNED,
            "event has no run facets, so no provlineage_signature; emit it through provlineage.transport.SigningTransport",
        )
    facet = facets.get(SIGNATURE_FACET)
    if facet is None:
        return EventCheck(Status.UNSIGNED, "event has no provlineage_signature facet; emit it through SigningTransport")
    if not isinstance(facet, dict):
        return EventCheck(Status.MALFORMED, "provlineage_signature is not an object")
    kid, algorithm = facet.get("keyId"), facet.get("algorithm")
    chain, chain_problem = _chain_of(facet)
    result = EventCheck(Status.FAILED, key_id=kid if isinstance(kid, str) else None)
    if chain is not None:
        result.stream, result.sequence, result.previous_digest = chain.stream, chain.sequence, chain.previous_digest
    if chain_problem:
        result.reason = chain_problem
        return result
    if facet.get("canonicalization") != CANONICALIZATION or facet.get("payloadType") != PAYLOAD_TYPE:
        result.reason = (
            f"signed with canonicalization {facet.get('canonicalization')!r} / payload type {facet.get('payloadType')!r}, "
            f"which this version does not know; upgrade provlineage"
        )
        return result
    if not isinstance(kid, str) or not isinstance(algorithm, str):
        result.reason = "provlineage_signature lacks keyId or algorithm"
        return result
    key = keyring.get(kid)
    if key is None:
        return EventCheck(
            Status.UNKNOWN_KEY,
            f"signed by key {kid}, which is not among the trusted public keys; pass it with --public-key",
            key_id=kid,
            stream=result.stream,
            sequence=result.sequence,
            previous_digest=result.previous_digest,
        )
    if signature_algorithm(key) != algorithm:
        result.reason = f"algorithm {algorithm!r} does not match the {signature_algorithm(key)} key {kid}"
        return result
    try:
        signature = base64.b64decode(facet.get("signature", ""), validate=True)
    except (binascii.Error, TypeError, ValueError):
        result.reason = "signature is not valid base64"
        return result
    try:
        body = _body(project_event(event, may_hold_nulls=may_hold_nulls), algorithm, kid, chain)
    except CanonicalizationError as error:
        return EventCheck(Status.MALFORMED, f"cannot canonicalize the event: {error}", key_id=kid)
    result.digest = digest_of(body)
    if not _verify_raw(key, signature, pae(PAYLOAD_TYPE, body)):
        result.reason = "signature does not match the event: the event or its chain position was altered"
        return result
    if facet.get("digest") != result.digest:
        result.reason = "the digest field was altered (the signed content is intact)"
        return result
    result.status = Status.VALID
    return result
