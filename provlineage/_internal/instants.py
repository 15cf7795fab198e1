"""Normalise ISO 8601 timestamps to one spelling of the same instant.

Marquez parses ``eventTime`` and the ``nominalTime`` facet into Java ``ZonedDateTime`` and prints them back in
UTC with ``Z`` and without trailing fraction zeros.  Signing the instant rather than the spelling lets a signature
survive that, while a change of the instant itself (down to the nanosecond) still breaks it.
"""

from __future__ import annotations

import datetime as _dt
import re

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2})(?::?(\d{2}))?)(?:\[[^\]]+\])?$"
)


def normalize_instant(value: object) -> object:
    """``2026-01-01T02:00:00.120+02:00`` -> ``2026-01-01T00:00:00.12Z``; anything unparsable is returned as is."""
    if not isinstance(value, str):
        return value
    match = _ISO.match(value)
    if match is None:
        return value
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m, off_s = match.groups()
    try:
        local = _dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError:
        return value
    if not zulu:
        offset = _dt.timedelta(hours=int(off_h), minutes=int(off_m), seconds=int(off_s or 0))
        try:
            local = local - offset if sign == "+" else local + offset
        except OverflowError:  # the instant falls outside years 1..9999: keep the spelling
            return value
    text = (
        local.strftime("%Y-%m-%dT%H:%M:%S")
        if local.year >= 1000
        else f"{local.year:04d}" + local.strftime("-%m-%dT%H:%M:%S")
    )
    fraction = (fraction or "").rstrip("0")
    return f"{text}.{fraction}Z" if fraction else f"{text}Z"
