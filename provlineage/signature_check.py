"""Check one signed event: its signature facet, its covered view and its signature.

Chains are checked across events in :mod:`provlineage.verification`; this module looks at one event at a time and
hands back an :class:`EventCheck` (or a :class:`PendingCheck` when the signature itself may be vouched for by the
next event of the same stream).
"""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from provlineage._internal.canonical import (
    CANONICALIZATION,
    SIGNATURE_FACET,
    canonical_bytes,
    project_event,
)
from provlineage._internal.commitments import SALTS, committed_view, count_withheld
from provlineage._internal.payload import PAYLOAD_TYPE, digest_of, pae, payload_parts
from provlineage._internal.signature_member import (
    _WITHHELD_KEY,
    split_located_member,
    split_signature_member,
)
from provlineage.errors import CanonicalizationError
from provlineage.keys import Keyring, PublicKey, signature_algorithm

_RSA_PSS_VERIFY = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)


class Status(str, Enum):
    VALID = "valid"
    FAILED = "failed"
    UNSIGNED = "unsigned"
    UNKNOWN_KEY = "unknown-key"
    MALFORMED = "malformed"
    LEGACY = "legacy"
    TORN = "torn"
    WITHHELD = "withheld"
    """Verified, with values withheld after signing (see :mod:`provlineage._internal.commitments`)."""

    @property
    def verified(self) -> bool:
        return self in _VERIFIED

    @property
    def chained(self) -> bool:
        """A verified provlineage event (its content and chain position are authenticated), withheld values or not."""
        return self in _CHAINED


_VERIFIED = frozenset((Status.VALID, Status.LEGACY, Status.WITHHELD))
_CHAINED = frozenset((Status.VALID, Status.WITHHELD))


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
    authenticated_by: str | None = None
    """``signature`` (its own) or ``chain`` (the next event of its stream links to its digest)."""
    withheld: tuple[str, ...] = ()
    """JSON Pointers of the values withheld after signing (status ``withheld``)."""


def verify_signature(key: PublicKey, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is ``key``'s signature of ``message`` under the key's own algorithm."""
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


def _chain_of(facet: dict[str, Any]) -> tuple[tuple[str, int, str | None] | None, str]:
    """``((stream, sequence, previousDigest) or None, problem)`` of a signature facet (a plain tuple: per record)."""
    stream, sequence, previous = facet.get("stream"), facet.get("sequence"), facet.get("previousDigest")
    if stream is None and sequence is None:
        return (None, "") if previous is None else (None, "previousDigest without stream and sequence")
    if type(stream) is not str or type(sequence) is not int or sequence < 1:
        return None, "chain fields stream/sequence are not a string and a positive integer"
    if previous is not None and type(previous) is not str:
        return None, "previousDigest is not a string"
    return (stream, sequence, previous), ""


class PendingCheck:
    """A signed event whose bytes are identified but not yet authenticated.

    It is authenticated either by its own signature, or by the next event of its stream: that event's signed body
    holds this event's digest, so once that event is authenticated, SHA-256 fixes this one too.  Candidate bodies:
    the stored line with the signature member cut out (no parsing: works for lines provlineage wrote) and the full
    canonical form of the parsed event (works for any honest re-serialization, e.g. Marquez's).  A *quick* check
    (from :func:`inspect_signed_line`) has only the first; when it fails, the caller inspects the record fully.
    A quick check hashes that body at once and keeps only its digest (``view_digest``) and a way to rebuild it
    (``view_source``): a log's records are all inspected before the first is authenticated, and holding every
    record's body until then would triple the memory a verify takes.
    """

    __slots__ = (
        "_bodies",
        "_event",
        "_full_done",
        "_java_doubles",
        "_line_view",
        "_may_hold_nulls",
        "_parts",
        "_view_source",
        "algorithm",
        "check",
        "facet_digest",
        "key",
        "quick",
        "signature",
        "view_digest",
        "withheld",
    )

    def __init__(
        self,
        check: EventCheck,
        key: PublicKey,
        algorithm: str,
        signature: bytes,
        facet_digest: Any,
        *,
        event: Any = None,
        line_view: str | None = None,
        may_hold_nulls: bool = True,
        view_digest: str | None = None,
        view_source: Callable[[], str | None] | None = None,
    ) -> None:
        self.check, self.key, self.algorithm, self.signature = check, key, algorithm, signature
        self.facet_digest = facet_digest
        self._event, self._line_view, self._may_hold_nulls = event, line_view, may_hold_nulls
        self.view_digest, self._view_source = view_digest, view_source
        self.quick = event is None
        self._bodies: list[bytes] | None = None
        self._parts: tuple[bytes, bytes] = (b"", b"")
        self._full_done = self.quick
        self._java_doubles: tuple[bytes, list[str]] | None = None
        self.withheld: list[str] = []
        """Pointers of withheld values, found by a quick check (a full one counts them in the event)."""

    def _first_bodies(self) -> list[bytes]:
        """The payload parts, and the body with the stored line's view when there is one (built once)."""
        if self._bodies is None:
            check = self.check
            self._parts = payload_parts(
                self.algorithm, check.key_id, check.stream, check.sequence, check.previous_digest
            )  # type: ignore[arg-type]
            self._bodies = []
            view = self._line_view if self._view_source is None else self._view_source()
            if view is not None:
                self._bodies.append(self._parts[0] + view.encode("utf-8", "surrogatepass") + self._parts[1])
        return self._bodies

    def _candidate_bodies(self) -> Iterator[bytes]:
        yield from list(self._first_bodies())
        if self._full_done:
            return
        self._full_done = True
        try:
            full = self._body_of(self._event)
        except (CanonicalizationError, ValueError) as error:
            self.check.reason = f"cannot canonicalize the event: {error}"
            return
        if full not in self._bodies:
            self._bodies.append(full)
            yield full
        yield from self._java_double_body()

    def _body_of(self, event: Any) -> bytes:
        view = project_event(event, may_hold_nulls=self._may_hold_nulls)
        view = committed_view(view, _salts_of(event))
        return self._parts[0] + canonical_bytes(view) + self._parts[1]

    def _java_double_body(self) -> Iterator[bytes]:
        """Bodies with numbers a Java store re-printed read as their doubles (:mod:`._internal.java_doubles`)."""
        from provlineage._internal.java_doubles import double_readings  # only for events no other body matched

        for event, pointers in double_readings(self._event):
            try:
                body = self._body_of(event)
            except (CanonicalizationError, ValueError):
                continue
            self._java_doubles = (body, pointers)
            yield body

    def _accept(self, digest: str, how: str, body: bytes | None = None) -> EventCheck:
        self.check.digest = digest
        if self.facet_digest != digest:
            self.check.reason = "the digest field was altered (the signed content is intact)"
            return self.check
        self.check.status, self.check.reason, self.check.authenticated_by = Status.VALID, "", how
        if self._java_doubles is not None and body == self._java_doubles[0]:
            pointers = self._java_doubles[1]
            self.check.reason = (
                f"verified with {len(pointers)} number(s) read as doubles (a Java store re-printed them as other "
                f"decimals of the same double): {', '.join(pointers)}"
            )
        withheld = count_withheld(self._event) if self._event is not None else self.withheld
        if withheld:
            self.check.status, self.check.withheld = Status.WITHHELD, tuple(withheld)
            noted = f"; {self.check.reason}" if self.check.reason else ""
            self.check.reason = f"verified, with {len(withheld)} value(s) withheld: {', '.join(withheld)}{noted}"
        return self.check

    def by_signature(self) -> EventCheck:
        for body in self._candidate_bodies():
            if verify_signature(self.key, self.signature, pae(PAYLOAD_TYPE, body)):
                return self._accept(digest_of(body), "signature", body)
        if not self.check.reason:
            self.check.reason = "signature does not match the event: the event or its chain position was altered"
        return self.check

    def by_successor(self, linked_digest: str) -> EventCheck:
        """Authenticated through the next event's verified ``previousDigest``; falls back to the own signature."""
        if self.view_digest == linked_digest:  # the stored line's view, the body of nearly every record
            return self._accept(linked_digest, "chain")
        for body in self._candidate_bodies():
            digest = digest_of(body)
            if digest == linked_digest:
                return self._accept(digest, "chain", body)
        return self.by_signature()


#: key id -> its signature algorithm (a key id is a digest of the key, so the answer never changes).
_KEY_ALGORITHMS: dict[str, str] = {}


def _inspect_facet(facet: Any, keyring: Keyring) -> EventCheck | tuple[EventCheck, PublicKey, str, bytes]:
    if not isinstance(facet, dict):
        return EventCheck(Status.MALFORMED, "provlineage_signature is not an object")
    kid, algorithm = facet.get("keyId"), facet.get("algorithm")
    chain, chain_problem = _chain_of(facet)
    result = EventCheck(Status.FAILED, key_id=kid if isinstance(kid, str) else None)
    if chain is not None:
        result.stream, result.sequence, result.previous_digest = chain
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
        result.status = Status.UNKNOWN_KEY
        result.reason = f"signed by key {kid}, which is not among the trusted public keys; pass it with --public-key"
        return result
    key_algorithm = _KEY_ALGORITHMS.get(kid) or _KEY_ALGORITHMS.setdefault(kid, signature_algorithm(key))
    if key_algorithm != algorithm:
        result.reason = f"algorithm {algorithm!r} does not match the {key_algorithm} key {kid}"
        return result
    try:
        signature = binascii.a2b_base64(facet.get("signature", ""), strict_mode=True)
    except (binascii.Error, TypeError, ValueError):
        result.reason = "signature is not valid base64"
        return result
    return result, key, algorithm, signature


def _salts_of(event: Any) -> Any:
    facet = event.get("run", {}).get("facets", {}).get(SIGNATURE_FACET) if isinstance(event, dict) else None
    return facet.get(SALTS) if isinstance(facet, dict) else None


#: ``commit(line, view_text, salts)`` -> the signed view text and the withheld pointers, or ``None``.
CommitLine = Callable[[str, str, Any], "tuple[str, list[str]] | None"]


def inspect_signed_line(line: str, keyring: Keyring, *, commit: CommitLine | None = None) -> PendingCheck | None:
    """A quick check of a stored line without parsing the event; ``None`` when the line needs a full inspection.

    ``commit`` rebuilds the signed view of a line with salted values (without it, such lines need the full path).
    """
    split = split_signature_member(line, in_run_facets=True)
    if split is None:
        return None
    again = lambda: split_signature_member(line, in_run_facets=True)  # noqa: E731
    return _pending_of_line(line, split, keyring, commit=commit, split_again=again)


def inspect_located_line(
    line: str,
    facet_text: str,
    keyring: Keyring,
    *,
    commit: CommitLine | None = None,
    decode: Callable[[str], Any] | None = None,
) -> PendingCheck | None:
    """:func:`inspect_signed_line` for a line a JSON parser has read, finding ``facet_text`` at ``run.facets``.

    See :func:`provlineage._internal.signature_member.split_located_member`; ``decode`` parses the facet's text as
    strict JSON (raising ``ValueError``).
    """
    split = split_located_member(line, facet_text, decode)
    if split is None:
        return None
    again = lambda: split_located_member(line, facet_text, decode)  # noqa: E731
    return _pending_of_line(line, split, keyring, commit=commit, split_again=again)


def _signed_view(line: str, facet: Any, view_text: str, commit: CommitLine | None) -> tuple[str, list[str]] | None:
    """(signed view text, withheld pointers) of a split line: salted values make the two differ."""
    if (isinstance(facet, dict) and SALTS in facet) or _WITHHELD_KEY in view_text:
        return commit(line, view_text, facet.get(SALTS)) if commit is not None else None
    return view_text, []


def _pending_of_line(
    line: str,
    split: tuple[Any, str],
    keyring: Keyring,
    *,
    commit: CommitLine | None,
    split_again: Callable[[], tuple[Any, str] | None],
) -> PendingCheck | None:
    """The quick check of a line split into (signature facet, view text); ``split_again`` repeats the split when
    the body is needed once more (only its digest is kept)."""
    facet, view_text = split
    signed = _signed_view(line, facet, view_text, commit)
    if signed is None:
        return None
    inspected = _inspect_facet(facet, keyring)
    if isinstance(inspected, EventCheck):
        return None
    check, key, algorithm, signature = inspected
    prefix, suffix = payload_parts(algorithm, check.key_id, check.stream, check.sequence, check.previous_digest)  # type: ignore[arg-type]
    hasher = hashlib.sha256(prefix)
    hasher.update(signed[0].encode("utf-8", "surrogatepass"))
    hasher.update(suffix)

    def view_again() -> str | None:
        split = split_again()
        again = None if split is None else _signed_view(line, *split, commit)
        return None if again is None else again[0]

    pending = PendingCheck(
        check,
        key,
        algorithm,
        signature,
        facet.get("digest"),
        view_digest="sha256:" + hasher.hexdigest(),
        view_source=view_again,
    )
    pending.withheld = signed[1]
    return pending


def inspect_event(
    event: Any, keyring: Keyring, *, line: str | None = None, may_hold_nulls: bool = True
) -> EventCheck | PendingCheck:
    """Everything short of the cryptographic check: a final result for bad records, else a :class:`PendingCheck`.

    ``event`` comes from ``canonical.loads``; ``line`` is its stored text when it comes from a log.
    """
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
    inspected = _inspect_facet(facet, keyring)
    if isinstance(inspected, EventCheck):
        return inspected
    check, key, algorithm, signature = inspected
    split = split_signature_member(line) if line is not None and SALTS not in facet else None
    return PendingCheck(
        check,
        key,
        algorithm,
        signature,
        facet.get("digest"),
        event=event,
        line_view=split[1] if split else None,
        may_hold_nulls=may_hold_nulls,
    )


def check_event(event: Any, keyring: Keyring, *, may_hold_nulls: bool = True) -> EventCheck:
    """Check the signature of one parsed event (values from ``canonical.loads``)."""
    inspected = inspect_event(event, keyring, may_hold_nulls=may_hold_nulls)
    return inspected if isinstance(inspected, EventCheck) else inspected.by_signature()
