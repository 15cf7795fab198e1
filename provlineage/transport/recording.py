"""Record one signed event in every destination of its stream, under the stream's lock; finish what a crash left.

Runs under the chain lock (:mod:`provlineage._internal.chain_state`), so only local, bounded work happens here:
file logs are appended to directly (one ``write`` under the log's lock); every other backend's
:class:`~provlineage.transport.delivery.Delivery` is handed the event (``Delivery.emit``, which must only store it
locally, e.g. in its spool; sending over the network happens after the chain lock is released).  A file log that
still has spooled events, or whose write fails (disk full), also goes through its ``Delivery``, which spools the
event and keeps the order.

Each step is written into the stream's reservation before it happens (see ``chain_state``), so
:func:`reconcile` can tell, after a ``kill -9`` at any point, whether anyone holds the event: then it is
completed in the destinations that lack it and committed; else the reservation is dropped and the sequence number
is used again.  A file log holds the event when the complete line with its digest is at the reserved offset
(two ``pread`` calls); a backend the event was handed to may hold it, so it is handed over again from the
journal (at least once: a second copy is possible, a lost or conflicting one is not).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from openlineage.client.transport.transport import Transport

from provlineage._internal.chain_state import DONE, HANDED_OVER, StreamCursor
from provlineage._internal.signed_event import SignedEvent
from provlineage.errors import DeliveryError
from provlineage.signing import ChainLink
from provlineage.transport.delivery import Delivery, Outcome
from provlineage.transport.file_log import FileLogTransport, destination_of_path

log = logging.getLogger("provlineage.transport.signing")


def leaf_destination(leaf: Transport) -> str:
    """Where a backend delivers, as bound into stream ids: a file URI with the host, a URL, or kind and name."""
    if isinstance(leaf, FileLogTransport):
        return leaf.destination
    config = getattr(leaf, "config", None)
    path = getattr(config, "log_file_path", None)
    if isinstance(path, str) and path:
        return destination_of_path(Path(path).expanduser())
    url = getattr(config, "url", None)
    if isinstance(url, str) and url:
        parts = urlsplit(url.rstrip("/") + "/" + str(getattr(config, "endpoint", "") or "").lstrip("/"))
        netloc = parts.hostname or ""
        netloc += f":{parts.port}" if parts.port else ""
        return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    topic = getattr(config, "topic", None)
    if isinstance(topic, str) and topic:
        return f"kafka:{topic}"
    kind = getattr(leaf, "kind", None) or type(leaf).__name__
    return f"{kind}:{leaf.name or ''}"


def destination_of(deliveries: Sequence[Delivery]) -> str:
    """The destination a signing transport's stream is bound to: its backends' destinations, sorted."""
    return " ".join(sorted({leaf_destination(delivery.leaf) for delivery in deliveries}))


def _line(signed: SignedEvent) -> bytes:
    return signed.json_text.encode("utf-8") + b"\n"


def record_event(
    cursor: StreamCursor, deliveries: Sequence[Delivery], link: ChainLink, signed: SignedEvent, outcomes: list[Outcome]
) -> None:
    """Store ``signed`` (at ``link``) in every destination and commit it; drop it when no destination took it."""
    data = _line(signed)
    probe = (signed.digest or "").encode()
    cursor.reserve(link, signed.digest or "", len(data), data.rfind(probe))
    recorded = 0
    for index, delivery in enumerate(deliveries):
        recorded += _store(cursor, index, delivery, signed, data, outcomes=outcomes)
    if recorded:
        cursor.commit()
        return
    cursor.drop()
    raise DeliveryError(
        f"event {signed.describe()} could not be stored anywhere ({_reasons(outcomes)}); its sequence number is "
        "used again by the next event",
        "make a destination or its spool directory writable (see the errors above)",
    )


def _has_spooled(delivery: Delivery) -> bool:
    """Whether events wait in the backend's spool (checked per event: ``os.access`` first, no exception raised)."""
    return os.access(delivery.spool.directory, os.F_OK) and delivery.spool.count() > 0


def _reasons(outcomes: list[Outcome]) -> str:
    return "; ".join(f"{outcome.target}: {outcome.detail}" for outcome in outcomes if outcome.status != "sent") or "?"


def _store(
    cursor: StreamCursor,
    index: int,
    delivery: Delivery,
    signed: SignedEvent,
    data: bytes,
    *,
    outcomes: list[Outcome],
) -> bool:
    """Store the event at one destination; ``False`` when it was lost there."""
    leaf = delivery.leaf
    if isinstance(leaf, FileLogTransport) and not _has_spooled(delivery):
        try:
            with leaf.locked() as opened:
                cursor.mark(index, opened.end)
                offset = opened.append(data)
                leaf.after_write(opened, offset)
            return True
        except DeliveryError as error:
            log.warning("provlineage: %s; the event goes to the spool of %s", error, delivery.target)
    assert cursor.pending is not None
    if not cursor.pending.journal:
        cursor.keep_journal(data)
    cursor.mark(index, HANDED_OVER)
    before = len(outcomes)
    delivery.emit(signed)
    cursor.mark(index, DONE)
    return not any(outcome.status == "failed" for outcome in outcomes[before:])


def reconcile(cursor: StreamCursor, deliveries: Sequence[Delivery]) -> None:
    """Finish or drop the reservation a crashed writer left (call under the chain lock, before signing)."""
    pending = cursor.pending
    if pending is None:
        return
    line = cursor.journal() if pending.journal else None
    holders, lacking = 0, []
    for index, delivery in enumerate(deliveries):
        mark = pending.marks.get(index)
        if mark is None:
            lacking.append(index)
        elif mark[0] == DONE:
            holders += 1
        elif mark[0] == HANDED_OVER:
            lacking.append(index)  # it may have been stored: handing it over again costs at most a second copy
            holders += line is not None
        elif isinstance(delivery.leaf, FileLogTransport):
            with delivery.leaf.locked() as opened:
                if opened.holds(mark[0], pending.length, pending.digest.encode(), pending.probe_at):
                    holders += 1
                    line = line or opened.read(mark[0], pending.length)
                else:
                    lacking.append(index)
    where = f"{cursor.stream}#{pending.sequence}"
    if not holders or line is None:
        log.warning(
            "provlineage: a writer of stream %s was killed before event %s was stored anywhere; "
            "its sequence number is used again",
            cursor.stream,
            where,
        )
        cursor.drop()
        return
    event = SignedEvent.from_json(line.decode("utf-8").rstrip("\n"))
    for index in lacking:
        _complete(deliveries[index], event, line)
    log.warning(
        "provlineage: a writer of stream %s was killed while storing event %s; completed it in %d destination(s)",
        cursor.stream,
        where,
        len(lacking),
    )
    cursor.commit()


def _complete(delivery: Delivery, event: SignedEvent, line: bytes) -> None:
    leaf = delivery.leaf
    if isinstance(leaf, FileLogTransport) and not _has_spooled(delivery):
        try:
            with leaf.locked() as opened:
                leaf.after_write(opened, opened.append(line))
            return
        except DeliveryError as error:
            log.warning("provlineage: %s; the event goes to the spool of %s", error, delivery.target)
    delivery.emit(event)


__all__ = ["destination_of", "leaf_destination", "reconcile", "record_event"]
