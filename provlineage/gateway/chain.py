"""Judge an arriving event against its stream's stored neighbours, with the verifier's own chain rules.

The gateway does not re-implement chain checking: it hands the stored events at sequence n-1, n and n+1 and the
arriving one to :func:`provlineage.verification.analyze_chains` (the code behind ``provlineage verify``) and maps
its findings: ``duplicate`` -> answered idempotently, ``conflict`` -> a different event at a used sequence
(replay or forgery), ``broken-link`` -> it does not link to its neighbours.  ``gap`` findings are left to the
store, which counts missing events across the whole stream.  An event may arrive before its predecessor (spools
retry); it is accepted and the gap it opens is reported until the predecessor arrives and links up.
"""

from __future__ import annotations

from collections.abc import Sequence

from provlineage.gateway.store import Incoming, Link, Verdict
from provlineage.signature_check import Status
from provlineage.verification import RecordResult, analyze_chains

__all__ = ["judge"]

_STORED, _ARRIVING = "store", "arriving"


def judge(event: Incoming, stream_key_id: str | None, stored: Sequence[Link]) -> Verdict:
    """Accept, recognise a duplicate, or reject with a reason code."""
    if stream_key_id is not None and event.key_id != stream_key_id:
        return Verdict(
            "rejected",
            "stream-key-mismatch",
            f"stream {event.stream} is signed by key {stream_key_id}; this event by {event.key_id}",
        )
    records = [_record(_STORED, link.sequence, link.digest, link.previous_digest, event.stream) for link in stored]
    records.append(_record(_ARRIVING, event.sequence, event.digest, event.previous_digest, event.stream))
    findings, _ = analyze_chains(records, in_log_order=False)
    kinds = {finding.kind: finding.detail for finding in findings}
    if "duplicate" in kinds:
        return Verdict("duplicate", "duplicate", kinds["duplicate"])
    if "conflict" in kinds:
        return Verdict(
            "rejected",
            "sequence-reused",
            f"a different event was already accepted at sequence {event.sequence} of stream {event.stream}",
        )
    if "broken-link" in kinds:
        return Verdict("rejected", "broken-link", kinds["broken-link"])
    return Verdict("accepted")


def _record(
    source: str, sequence: int | None, digest: str | None, previous: str | None, stream: str | None
) -> RecordResult:
    return RecordResult(
        source, sequence or 0, Status.VALID, digest=digest, stream=stream, sequence=sequence, previous_digest=previous
    )
