"""The signed payload: its DSSE pre-authentication encoding, its canonical body around the event, its digest.

Shared by the signer (:mod:`provlineage.signing`) and the checker (:mod:`provlineage.signature_check`), which
rebuilds it for every record verified, without the signer's imports.
"""

from __future__ import annotations

import functools
import hashlib
import json
from json.encoder import encode_basestring as _ENCODE_STRING

from provlineage._internal.canonical import CANONICALIZATION
from provlineage.errors import SigningError

PAYLOAD_TYPE = "application/vnd.provlineage.event+json;version=1"
_CANONICALIZATION_JSON = json.dumps(CANONICALIZATION)


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(body), body)


def payload_parts(
    algorithm: str, kid: str, stream: str | None, sequence: int | None, previous: str | None
) -> tuple[bytes, bytes]:
    """The canonical body around the event (``body = prefix + canonical(event view) + suffix``) from the chain's
    fields; built by hand, as it runs for every record verified."""
    head, tail, suffix = _fixed_parts(algorithm, kid, stream)
    if stream is None:
        return head, suffix
    if isinstance(sequence, bool) or not isinstance(sequence, int):
        raise SigningError(f"chain sequence {sequence!r} is not an integer", "use a positive integer")
    linked = (
        b"" if previous is None else b'"previousDigest":%b,' % _ENCODE_STRING(previous).encode("utf-8", "surrogatepass")
    )
    return b'%b%b"sequence":%d%b' % (head, linked, sequence, tail), suffix


@functools.lru_cache(maxsize=256)
def _fixed_parts(algorithm: str, kid: str, stream: str | None) -> tuple[bytes, bytes, bytes]:
    """(start, end of the chain member and start of the event, suffix): the parts one stream's records share."""
    head = f'{{"algorithm":{_ENCODE_STRING(algorithm)},"canonicalization":{_CANONICALIZATION_JSON}'
    # surrogatepass: a lone surrogate (which canonical_bytes refuses to sign) only makes the signature mismatch
    suffix = f',"keyId":{_ENCODE_STRING(kid)}}}'.encode("utf-8", "surrogatepass")
    if stream is None:
        return (head + ',"event":').encode("utf-8", "surrogatepass"), b"", suffix
    tail = f',"stream":{_ENCODE_STRING(stream)}}},"event":'
    return (head + ',"chain":{').encode("utf-8", "surrogatepass"), tail.encode("utf-8", "surrogatepass"), suffix


def digest_of(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def split_member(text: str, start: int, length: int) -> str | None:
    """``text`` without the object member at ``start`` (``length`` characters) and its separating comma."""
    if start < 0:
        return None
    end = start + length
    if text[end : end + 1] == ",":
        return text[:start] + text[end + 1 :]
    if text[start - 1 : start] == ",":
        return text[: start - 1] + text[end:]
    return text[:start] + text[end:]
