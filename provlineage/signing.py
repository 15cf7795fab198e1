"""Sign one OpenLineage event (checking lives in :mod:`provlineage.signature_check`).

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
import json
import os
import re
import secrets
from dataclasses import dataclass
from json.encoder import c_make_encoder  # type: ignore[attr-defined]
from json.encoder import encode_basestring as _ENCODE_STRING
from typing import Any

from provlineage._internal.canonical import (
    CANONICALIZATION,
    SIGNATURE_FACET,
    canonical_bytes,
    project_event,
)
from provlineage._internal.commitments import (
    SALT_BYTES,
    SALTS,
    WITHHELD,
    WITHHOLDABLE_ROOTS,
    marker_digest,
)
from provlineage._internal.constants import PRODUCER, schema_url
from provlineage._internal.payload import PAYLOAD_TYPE, digest_of, pae, payload_parts, split_member
from provlineage.errors import SigningError
from provlineage.signer import Signer

_SIGNATURE_SCHEMA = schema_url("SignatureRunFacet")


@dataclass(frozen=True)
class ChainLink:
    """Where an event sits in its signing stream."""

    stream: str
    sequence: int
    previous_digest: str | None


def _payload_parts(algorithm: str, kid: str, chain: ChainLink | None) -> tuple[bytes, bytes]:
    """The canonical payload around the event: ``body = prefix + canonical(event view) + suffix``.

    Members sort as algorithm < canonicalization < chain < event < keyId (and previousDigest < sequence < stream
    inside chain), so the event sits between two short parts and a verifier can splice the event text of a
    canonical log line in without re-serializing it.  ``tests/test_signing.py`` checks it against
    ``canonical_bytes`` of the same document.
    """
    if chain is None:
        return payload_parts(algorithm, kid, None, None, None)
    return payload_parts(algorithm, kid, chain.stream, chain.sequence, chain.previous_digest)


@dataclass(frozen=True)
class SignedLine:
    """A signed event's digest and the exact line to store: the event's canonical JSON, facet included."""

    digest: str
    text: str


# Stands in for the signature facet while the event is serialized once for both the signed body and the line.
# ASCII, so that an ASCII event keeps the canonical serializer on its fast path; unique per process (and checked)
_PLACEHOLDER = f"provlineage-signature-placeholder-{secrets.token_hex(12)}"
_PLACEHOLDER_MEMBER = f'"{SIGNATURE_FACET}":"{_PLACEHOLDER}"'


def sign_event_line(
    event: dict[str, Any], signer: Signer, *, chain: ChainLink | None = None, may_hold_nulls: bool = True
) -> SignedLine:
    """Normalize ``event`` in place to its covered view, add the ``provlineage_signature`` facet, return the line.

    ``event`` must hold JSON values prepared by :func:`provlineage._internal.canonical.prepare` or ``loads``.  The
    normalization (times as UTC instants, nulls and Marquez-dropped parent-link members removed) changes no meaning;
    it makes the stored event equal to what is signed, so verifiers can check stored lines without re-serializing.
    """
    run = event.get("run")
    if not isinstance(run, dict):
        raise SigningError("event has no run object", "sign OpenLineage RunEvents only")
    if not isinstance(run.get("facets"), dict):
        run["facets"] = {}
    run["facets"].pop(SIGNATURE_FACET, None)
    view = project_event(event, may_hold_nulls=may_hold_nulls)
    event.clear()
    event.update(view)
    facets = event["run"]["facets"]
    # withholdable values are signed as salted commitments (provlineage._internal.commitments): the signed view
    # holds their markers, the stored line their values
    salts, signed_view, value_texts = _commit_withholdable(event)
    signed_facets = signed_view["run"]["facets"]
    signed_facets[SIGNATURE_FACET] = _PLACEHOLDER
    text = _canonical_text(signed_view)
    del signed_facets[SIGNATURE_FACET]
    split = split_member(text, text.find(_PLACEHOLDER_MEMBER), len(_PLACEHOLDER_MEMBER))
    if text.count(_PLACEHOLDER_MEMBER) != 1 or split is None:  # the marker occurs in the data: serialize twice
        view_text, text = canonical_bytes(signed_view).decode("utf-8"), ""
    else:
        view_text = split
        if salts:
            text = _values_for_markers(text, value_texts)
    prefix, suffix = _payload_parts(signer.algorithm, signer.key_id, chain)
    body = prefix + view_text.encode("utf-8") + suffix
    digest = digest_of(body)
    try:
        signature = signer.sign(pae(PAYLOAD_TYPE, body))
    except Exception as error:  # a remote signer (KMS, HSM) can fail in its own ways
        raise SigningError(
            f"signer {signer.key_id} failed ({type(error).__name__}: {error})", "check the signing key or service"
        ) from error
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
    if salts:
        facet[SALTS] = salts
    if chain is not None:
        facet["stream"] = chain.stream
        facet["sequence"] = chain.sequence
        if chain.previous_digest is not None:
            facet["previousDigest"] = chain.previous_digest
    facets[SIGNATURE_FACET] = facet
    if text:
        text = text.replace(_PLACEHOLDER_MEMBER, f'"{SIGNATURE_FACET}":' + _canonical_text(facet))
    else:
        text = canonical_bytes(event).decode("utf-8")
    return SignedLine(digest, text)


def _commit_withholdable(event: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any], dict[str, str]]:
    """``(salts, signed view, marker digest -> value text)``: ``committed_view`` of ``event`` under fresh salts, one per withholdable leaf.

    One walk of each withholdable subtree, building its committed copy as it goes (pointers grow as the walk
    descends; each value is serialized once; randomness is read once per event).  The rest of the view is shared,
    with copies only along the paths to the subtrees.  ``tests/test_transport_signing.py`` checks the result
    against :mod:`provlineage._internal.commitments`, which verifiers use.
    """
    found: list[tuple[tuple[str, ...], Any]] = []
    for root in WITHHOLDABLE_ROOTS:
        value: Any = event
        for key in root:
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None:
            found.append((root, value))
    if not found:
        return {}, event, {}
    walk = _CommitWalk()
    view = dict(event)
    copied = {id(view)}
    for root, value in found:
        committed = walk.commit(value, "/" + "/".join(_escape_token(token) for token in root))
        node: Any = view
        for key in root[:-1]:
            child = node[key]
            if id(child) not in copied:
                child = dict(child)
                copied.add(id(child))
                node[key] = child
            node = child
        node[root[-1]] = committed
    return walk.salts, view, walk.texts


def _escape_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class _CommitWalk:
    """Replaces each leaf of a withholdable subtree by its salted marker, recording salts and value texts."""

    def __init__(self) -> None:
        self.salts: dict[str, str] = {}
        self.texts: dict[str, str] = {}
        self._random = b""

    def commit(self, value: Any, pointer: str) -> Any:
        if isinstance(value, dict):
            if len(value) == 1 and isinstance(value.get(WITHHELD), str):
                return value  # already a marker
            return {key: self.commit(item, pointer + "/" + _escape_token(key)) for key, item in value.items()}
        if isinstance(value, list):
            return [self.commit(item, f"{pointer}/{index}") for index, item in enumerate(value)]
        if value is None:
            return None
        if len(self._random) < SALT_BYTES:
            self._random = os.urandom(SALT_BYTES * 16)
        raw, self._random = self._random[:SALT_BYTES], self._random[SALT_BYTES:]
        text = _value_text(value)
        digest = marker_digest(pointer, raw, text.encode("utf-8"))
        self.salts[pointer] = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
        self.texts[digest] = text
        return {WITHHELD: digest}


def _reject(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} needs the canonical serializer")


# The C encoder with canonical_bytes' settings (sorted keys, compact, no ASCII escaping, no NaN), made once
_ENCODE = c_make_encoder(None, _reject, _ENCODE_STRING, None, ":", ",", True, False, False) if c_make_encoder else None
_NON_BMP = re.compile("[\U00010000-\U0010ffff]")


def _canonical_text(value: Any) -> str:
    """``canonical_bytes(value)`` as text, through one encoder made once (the event is serialized per emit).

    Plain JSON values (what the signing transport's fast path produces) come out exactly as ``canonical_bytes``
    writes them: same encoder settings.  Anything else (a canonical number wrapper, a key outside the Basic
    Multilingual Plane, whose JCS order differs, a lone surrogate) goes to ``canonical_bytes`` itself.
    """
    if _ENCODE is not None:
        try:
            text = "".join(_ENCODE(value, 0))
        except (TypeError, ValueError, RecursionError):
            pass
        else:
            if text.isascii() or not _NON_BMP.search(text):
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    pass
                else:
                    return text
    return canonical_bytes(value).decode("utf-8")


def _value_text(value: Any) -> str:
    """The canonical text of a withholdable leaf (a JSON scalar)."""
    kind = value.__class__
    if kind is str:
        return _ENCODE_STRING(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int and -(2**53) < value < 2**53:
        return str(value)
    return canonical_bytes(value).decode("utf-8")


def _values_for_markers(text: str, value_texts: dict[str, str]) -> str:
    """``text`` (of the signed view) with each marker swapped back for its value's text: the text of the event.

    RFC 8785 is compositional (a member's text does not depend on its siblings' values), so swapping each marker's
    text for the value's text gives exactly ``canonical_bytes(event)`` without serializing the event again.  Markers
    hold a salted SHA-256, so each occurs once; returns ``""`` (serialize the event instead) if one does not.
    """
    swapped = 0

    def swap(match: re.Match[str]) -> str:
        nonlocal swapped
        value = value_texts.get(match.group(1))
        if value is None:
            return match.group(0)  # a marker that was in the data already
        swapped += 1
        return value

    text = _MARKER_TEXT.sub(swap, text)
    return text if swapped == len(value_texts) else ""


_MARKER_TEXT = re.compile("\\{" + re.escape(json.dumps(WITHHELD)) + ':"(sha256:[0-9a-f]{64})"\\}')


def sign_event(
    event: dict[str, Any], signer: Signer, *, chain: ChainLink | None = None, may_hold_nulls: bool = True
) -> str:
    """:func:`sign_event_line` for callers that need only the digest (``event`` is signed in place)."""
    return sign_event_line(event, signer, chain=chain, may_hold_nulls=may_hold_nulls).digest


def signed_event_text(event: dict[str, Any]) -> str:
    """The line to store for a signed event: its canonical JSON, which verifiers can check without re-serializing."""
    return canonical_bytes(event).decode("utf-8")
