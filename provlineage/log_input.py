"""Tell a file that is not a JSON Lines event log apart from a damaged log.

A log in which no line parses is not a log with hundreds of bad records: it is the wrong file (a CSV, a key, a
model) or events pretty-printed over many lines.  Saying that in one line, as unusable input (exit 2), helps more
than a page of MALFORMED lines.  A log with at least one parseable record is reported record by record as before.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence

from provlineage.errors import ProvlineageError
from provlineage.signature_check import Status
from provlineage.verification import RecordResult

__all__ = ["NotJsonLinesError", "reject_unusable_logs"]

#: A file up to this size is parsed whole to recognise one pretty-printed document (larger ones by line 1 only).
WHOLE_PARSE_LIMIT = 64 * 1024 * 1024
_UNPARSED = (Status.MALFORMED, Status.TORN)
_JSONL_FIX = "put each event on one line"


class NotJsonLinesError(ProvlineageError):
    """A file given as an event log holds no line that parses as JSON."""


def reject_unusable_logs(records: Iterable[RecordResult], paths: Sequence[str | os.PathLike[str]]) -> None:
    """Raise :class:`NotJsonLinesError` for the first of ``paths`` none of whose records parsed as JSON.

    A file whose only record is torn (its writer crashed in the middle of the first event) stays a log, unless
    the file as a whole is one JSON document.
    """
    statuses: dict[str, list[Status]] = {}
    for record in records:
        statuses.setdefault(record.source, []).append(record.status)
    for path in paths:
        found = statuses.get(os.fspath(path), [])
        if not found or any(status not in _UNPARSED for status in found):
            continue
        if Status.MALFORMED not in found and _read_document(os.fspath(path)) is None:
            continue
        raise diagnose(os.fspath(path), len(found))


def diagnose(path: str, lines: int) -> NotJsonLinesError:
    """Why ``path`` (``lines`` non-empty lines, none of them JSON) is not an event log, and what to do."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            head = handle.read(min(size, WHOLE_PARSE_LIMIT))
    except OSError as error:
        return NotJsonLinesError(f"{path} cannot be read ({error.strerror})", "check its permissions")
    document = _parse(head) if size <= WHOLE_PARSE_LIMIT else None
    if isinstance(document, dict):
        return NotJsonLinesError(
            f"{path} holds one JSON document over {lines} lines (pretty-printed), not JSON Lines",
            f"{_JSONL_FIX}, e.g. `jq -c . {path} > events.jsonl`",
        )
    if isinstance(document, list):
        return NotJsonLinesError(
            f"{path} holds one JSON array, not JSON Lines", f"{_JSONL_FIX}, e.g. `jq -c '.[]' {path} > events.jsonl`"
        )
    first = next((line.strip() for line in head.splitlines() if line.strip()), b"")
    if first in (b"{", b"["):
        return NotJsonLinesError(
            f"{path} is not JSON Lines: its first line is a lone `{first.decode()}`, as in pretty-printed JSON",
            f"{_JSONL_FIX}, e.g. with `jq -c`",
        )
    return NotJsonLinesError(
        f"{path} is not a JSON Lines event log: none of its {lines} lines is JSON",
        "give the log that provlineage.transport.FileLogTransport writes, one OpenLineage event per line",
    )


def _read_document(path: str) -> dict | list | None:
    """The file parsed as one JSON object or array, or ``None``."""
    try:
        if os.path.getsize(path) > WHOLE_PARSE_LIMIT:
            return None
        with open(path, "rb") as handle:
            return _parse(handle.read())
    except OSError:
        return None


def _parse(data: bytes) -> dict | list | None:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, (dict, list)) else None
