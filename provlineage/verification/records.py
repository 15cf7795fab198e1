"""Check records one by one, then authenticate each stream's records along its chain (signature or successor link)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from provlineage._internal.canonical import loads
from provlineage.errors import ProvlineageError
from provlineage.keys import Keyring
from provlineage.legacy import check_legacy, is_legacy_envelope
from provlineage.signature_check import EventCheck, PendingCheck, Status, inspect_event, inspect_located_line
from provlineage.verification.results import RecordResult
from provlineage.verification.salted import committed_line_view
from provlineage.verification.shape import decode_facet, event_problem, read_line
from provlineage.verification.torn import is_json_object_prefix


def _is_torn(line: str) -> bool:
    """A line cut off mid-write: the start of a JSON object that stops before it closes, wherever the cut falls."""
    return is_json_object_prefix(line.removesuffix("\n").removesuffix("\r"))


@dataclass
class Inspected:
    """A record after parsing and before authentication; ``retry`` gives its full inspection after a quick one."""

    record: RecordResult
    pending: PendingCheck | None = None
    retry: Callable[[], Inspected] | None = None


def _result(source: str, number: int, check: EventCheck, value: Any, keep_event: bool) -> RecordResult:
    return RecordResult(
        source,
        number,
        check.status,
        check.reason,
        check.key_id,
        check.digest,
        check.stream,
        check.sequence,
        check.previous_digest,
        check.authenticated_by,
        value if keep_event and isinstance(value, dict) else None,
        check.withheld,
    )


def _unreadable(source: str, number: int, error: BaseException) -> Inspected:
    """The one-line finding for a record that made the checker itself fail (hostile input must not stop verify)."""
    reason = f"record cannot be checked ({type(error).__name__}: {str(error)[:200]}); it is not a well-formed event"
    return Inspected(RecordResult(source, number, Status.MALFORMED, reason))


def inspect_line(source: str, number: int, line: str, keyring: Keyring, keep_event: bool) -> Inspected:
    """Check everything but authenticity.

    A line provlineage wrote takes the quick path: one typed msgspec decode checks its OpenLineage shape and
    locates the signature facet, whose member is cut out to give the signed text (the event is never built).  Any
    other line, or one whose quick check fails, is parsed strictly and checked in full.  Whatever the input, the
    record gets a finding: an exception inside the checker becomes a ``malformed`` result, not a traceback.
    """
    try:
        if not keep_event:
            problem, facet_text = read_line(line)
            quick = None
            if problem is None and facet_text is not None:
                quick = inspect_located_line(line, facet_text, keyring, commit=committed_line_view, decode=decode_facet)
            if quick is not None:
                record = _result(source, number, quick.check, None, False)
                return Inspected(
                    record, quick, lambda: _inspect_line_guarded(source, number, line, keyring, keep_event)
                )
        return _inspect_line_fully(source, number, line, keyring, keep_event)
    except Exception as error:
        return _unreadable(source, number, error)


def _inspect_line_guarded(source: str, number: int, line: str, keyring: Keyring, keep_event: bool) -> Inspected:
    try:
        return _inspect_line_fully(source, number, line, keyring, keep_event)
    except Exception as error:
        return _unreadable(source, number, error)


def _inspect_line_fully(source: str, number: int, line: str, keyring: Keyring, keep_event: bool) -> Inspected:
    try:
        value = loads(line)
    except json.JSONDecodeError as error:
        if _is_torn(line):
            reason = "record cut off mid-write (the writer crashed or the disk filled); it was never complete"
            return Inspected(RecordResult(source, number, Status.TORN, reason))
        reason = f"not JSON ({error.msg} at character {error.pos}); each line must be one OpenLineage event"
        return Inspected(RecordResult(source, number, Status.MALFORMED, reason))
    except (ValueError, ProvlineageError) as error:
        return Inspected(RecordResult(source, number, Status.MALFORMED, f"not acceptable JSON ({error})"))
    return _inspect(source, number, value, keyring, keep_event, line=line, may_hold_nulls="null" in line)


def _inspect(
    source: str, number: int, value: Any, keyring: Keyring, keep_event: bool, *, line: str | None, may_hold_nulls: bool
) -> Inspected:
    try:
        return _inspect_value(source, number, value, keyring, keep_event, line=line, may_hold_nulls=may_hold_nulls)
    except Exception as error:
        return _unreadable(source, number, error)


def _inspect_value(
    source: str, number: int, value: Any, keyring: Keyring, keep_event: bool, *, line: str | None, may_hold_nulls: bool
) -> Inspected:
    if is_legacy_envelope(value):
        return Inspected(_result(source, number, check_legacy(value, keyring), value, keep_event))
    inspected = inspect_event(value, keyring, line=line, may_hold_nulls=may_hold_nulls)
    if isinstance(inspected, EventCheck):
        return Inspected(_result(source, number, inspected, value, keep_event))
    problem = event_problem(value)  # signed, so it could verify: it must also read the same everywhere
    if problem is not None:
        check = inspected.check
        check.status, check.reason = Status.MALFORMED, f"signed, but not a valid OpenLineage event: {problem}"
        return Inspected(_result(source, number, check, value, keep_event))
    return Inspected(_result(source, number, inspected.check, value, keep_event), inspected)


def _authenticate_one(pending: PendingCheck, voucher: tuple[int, str | None, str | None] | None) -> EventCheck:
    check = pending.check
    try:
        if voucher is not None and voucher[0] == check.sequence + 1 and voucher[2] == check.key_id and voucher[1]:  # type: ignore[operator]
            return pending.by_successor(voucher[1])
        return pending.by_signature()
    except Exception as error:
        check.status = Status.MALFORMED
        check.reason = f"record cannot be checked ({type(error).__name__}: {str(error)[:200]})"
        return check


def authenticate(items: list[Inspected], *, every_signature: bool = False) -> list[RecordResult]:
    """Authenticate inspected records, in stream order, last first.

    The last record of each stream (and any record whose successor does not vouch for it) has its signature
    checked; every other record is authenticated by its successor's signed link to its digest.  Same assurance,
    one signature check per stream instead of one per record.  ``every_signature`` checks each record's own.
    """
    vouchers: dict[str, tuple[int, str | None, str | None]] = {}
    results: list[RecordResult] = []
    for item in reversed(items):
        record, pending = item.record, item.pending
        if pending is not None:
            stream = pending.check.stream
            voucher = None if every_signature or stream is None else vouchers.get(stream)
            check = _authenticate_one(pending, voucher)
            if not check.status.chained and item.retry is not None:
                full = item.retry()
                record, pending = full.record, full.pending
                if pending is not None:
                    check = _authenticate_one(pending, voucher)
            if pending is not None:
                record.status, record.reason = check.status, check.reason
                record.digest, record.authenticated_by = check.digest, check.authenticated_by
                record.withheld = check.withheld
                if check.stream is not None:
                    if check.status.chained:
                        vouchers[check.stream] = (check.sequence, check.previous_digest, check.key_id)  # type: ignore[assignment]
                    else:
                        vouchers.pop(check.stream, None)
        results.append(record)
    results.reverse()
    return results
