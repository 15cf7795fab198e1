"""RFC 3339 timestamps: which spellings count as valid, and one spelling of the same instant.

Marquez parses ``eventTime`` and the ``nominalTime`` facet into Java ``ZonedDateTime`` and prints them back in
UTC with ``Z`` and without trailing fraction zeros.  Signing the instant rather than the spelling lets a signature
survive that, while a change of the instant itself (down to the nanosecond) still breaks it.

Valid is what both Python 3.11+'s ``datetime.fromisoformat`` and JavaScript's ``Date`` read as the same instant:
``YYYY-MM-DDTHH:MM[:SS[.f{1,9}]](Z|+HH:MM|-HH:MM)`` with a real calendar date, hours 00-23, minutes and seconds
00-59 (no leap second) and offsets below 24 hours.  Seconds may be left out because Java (Marquez) prints
``11:00Z`` for ``11:00:00Z``; both parsers accept it.  ``+99:00``, a ``[Region/City]`` suffix, a comma fraction or a
lowercase ``z`` is not valid: one of the two cannot parse it.
"""

from __future__ import annotations

import datetime as _dt
import re

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)
# The same grammar with the field ranges spelled out, for the cheap validity check run on every verified event.
_VALID = re.compile(
    r"(?!0000)\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])[Tt](?:[01]\d|2[0-3]):[0-5]\d"
    r"(?::[0-5]\d(?:\.\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)",
    re.ASCII,
)


def _parts(value: object) -> tuple[_dt.datetime, str, _dt.timedelta] | None:
    """(local time, fraction digits, offset) of a valid RFC 3339 timestamp, else ``None``."""
    if not isinstance(value, str):
        return None
    match = _RFC3339.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    try:
        local = _dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError:
        return None
    if zulu:
        return local, fraction or "", _dt.timedelta(0)
    if int(off_h) > 23 or int(off_m) > 59:
        return None
    offset = _dt.timedelta(hours=int(off_h), minutes=int(off_m))
    return local, fraction or "", offset if sign == "+" else -offset


def is_instant(value: object) -> bool:
    """Whether ``value`` is an RFC 3339 timestamp that Python and JavaScript both parse (see the module doc)."""
    if not isinstance(value, str) or _VALID.fullmatch(value) is None:
        return False
    return value[8:10] <= "28" or _parts(value) is not None  # days 29-31 exist only in some months


def normalize_instant(value: object) -> object:
    """``2026-01-01T02:00:00.120+02:00`` -> ``2026-01-01T00:00:00.12Z``; anything not valid is returned as is."""
    parts = _parts(value)
    if parts is None:
        return value
    local, fraction, offset = parts
    try:
        local -= offset
    except OverflowError:  # the instant falls outside years 1..9999: keep the spelling
        return value
    text = local.isoformat()  # YYYY-MM-DDTHH:MM:SS (zero-padded year; no microseconds: built from whole seconds)
    fraction = fraction.rstrip("0")
    return f"{text}.{fraction}Z" if fraction else f"{text}Z"
