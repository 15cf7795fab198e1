"""Java value formatting: Double.toString, PostgreSQL numeric, ISO_OFFSET_DATE_TIME, java.net.URI."""

from __future__ import annotations

import calendar
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from .jackson_json import JacksonError

# How the Java 17 Marquez printed these doubles (observed: diff_p1_E1.txt, provlineage/iso_values.txt). The same
# build on Java 25 printed the first three with the shortest digits (1.0E23, 2.82879384806159E17,
# 1.9400994884341945E25) but 5e-324 as 4.9E-324 as well (raw/p5_java25_get), where shortest digits give 5.0E-324.
JAVA17_DOUBLE_TEXT = {
    1e23: "9.999999999999999E22",
    2.82879384806159e17: "2.82879384806159008E17",
    1.9400994884341945e25: "1.9400994884341944E25",
    5e-324: "4.9E-324",
}


def java_double(value: float) -> str:
    """``Double.toString``: plain in [1e-3, 1e7), else ``d.dddE±n``; always one digit after the point."""
    if abs(value) in JAVA17_DOUBLE_TEXT:
        return ("-" if value < 0 else "") + JAVA17_DOUBLE_TEXT[abs(value)]
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, digit_tuple))
    scientific_exponent = len(digits) - 1 + int(exponent)
    digits = digits.rstrip("0") or "0"
    prefix = "-" if sign else ""
    if 1e-3 <= abs(value) < 1e7:
        if scientific_exponent >= 0:
            whole = digits[: scientific_exponent + 1].ljust(scientific_exponent + 1, "0")
            fraction = digits[scientific_exponent + 1 :] or "0"
        else:
            whole = "0"
            fraction = "0" * (-scientific_exponent - 1) + digits
        return f"{prefix}{whole}.{fraction}"
    return f"{prefix}{digits[0]}.{digits[1:] or '0'}E{scientific_exponent}"


def pg_numeric(java_text: str) -> str:
    """How PostgreSQL numeric prints a number it parsed from ``java_text`` (plain, input scale kept)."""
    number = Decimal(java_text)
    if number == 0:
        number = abs(number)
    return format(number, "f")


@dataclass(frozen=True)
class JavaInstant:
    """A ``ZonedDateTime`` reduced to what is printed: an instant and the offset it is shown in."""

    epoch_seconds: int
    nanos: int
    offset_seconds: int = 0

    @property
    def epoch_micros(self) -> int:
        """The PostgreSQL ``timestamptz`` value (microseconds, rounded half up)."""
        return (self.epoch_seconds * 1_000_000_000 + self.nanos + 500) // 1000

    def to_utc(self) -> JavaInstant:
        return JavaInstant(self.epoch_seconds, self.nanos, 0)

    def iso(self) -> str:
        """``DateTimeFormatter.ISO_OFFSET_DATE_TIME``."""
        local = datetime(1970, 1, 1) + timedelta(seconds=self.epoch_seconds + self.offset_seconds)
        fraction = f".{self.nanos:09d}".rstrip("0") if self.nanos else ""
        return f"{local:%Y-%m-%dT%H:%M:%S}{fraction}{_offset_id(self.offset_seconds)}"


def _offset_id(offset_seconds: int) -> str:
    if offset_seconds == 0:
        return "Z"
    sign = "+" if offset_seconds > 0 else "-"
    hours, rest = divmod(abs(offset_seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{seconds:02d}" if seconds else "")


_LOCAL_DATE_TIME = (
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[Tt]"
    r"(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{0,9}))?)?"
)
# FlexibleDateTimeDeserializer: ISO_LOCAL_DATE_TIME, then an optional offset parsed leniently.
_FLEXIBLE_DATE_TIME = re.compile(_LOCAL_DATE_TIME + r"(?P<offset>[Zz]|[+-]\d{2}(?::\d{2}(?::\d{2})?)?)?")
# ZonedDateTime.parse (query parameters): the offset is required, a [region] may follow.
_ZONED_DATE_TIME = re.compile(_LOCAL_DATE_TIME + r"(?P<offset>[Zz]|[+-]\d{2}:\d{2}(?::\d{2})?)(?:\[[^\]]+\])?")


def parse_java_date_time(text: str, *, offset_required: bool = False) -> JavaInstant:
    """Parse like Java's ISO formatters with the SMART resolver (day 31 of a 30-day month clamps)."""
    pattern = _ZONED_DATE_TIME if offset_required else _FLEXIBLE_DATE_TIME
    match = pattern.fullmatch(text.strip())
    if match is None:
        raise JacksonError(f"Cannot deserialize value of type `java.time.ZonedDateTime` from String {text!r}")
    year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    hour, minute = int(match["hour"]), int(match["minute"])
    second = int(match["second"] or 0)
    nanos = int((match["fraction"] or "").ljust(9, "0") or 0)
    if not (1 <= year <= 9999 and 1 <= month <= 12 and 1 <= day <= 31):
        raise JacksonError(f"Text {text!r} could not be parsed: invalid date")
    end_of_day = hour == 24 and minute == 0 and second == 0 and nanos == 0
    if not (end_of_day or (hour <= 23 and minute <= 59 and second <= 59)):
        raise JacksonError(f"Text {text!r} could not be parsed: invalid time")
    day = min(day, _days_in_month(year, month))
    local = datetime(year, month, day, 0 if end_of_day else hour, minute, second, tzinfo=timezone.utc)
    if end_of_day:
        local += timedelta(days=1)
    offset_seconds = _offset_seconds(match["offset"])
    if abs(offset_seconds) > 18 * 3600:
        raise JacksonError(f"Text {text!r} could not be parsed: zone offset out of range")
    epoch = int(local.timestamp()) - offset_seconds
    return JavaInstant(epoch, nanos, offset_seconds)


def _days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _offset_seconds(offset: str | None) -> int:
    if offset is None or offset in "Zz":
        return 0  # no offset: the Marquez container's default zone, UTC
    sign = -1 if offset[0] == "-" else 1
    parts = [int(part) for part in offset[1:].split(":")]
    hours, minutes, seconds = [*parts, 0, 0][:3]
    return sign * (hours * 3600 + minutes * 60 + seconds)


_URI_ASCII = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-!.~'()*,;:$&+=?/[]@#%")
_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_URI_IPV6_HOST = re.compile(r"//(?:[^/?#@]*@)?\[[0-9A-Fa-f:.]+\](?::\d*)?(?:[/?#].*)?", re.S)


def java_uri_error(text: str) -> str | None:
    """Why ``new java.net.URI(text)`` would throw, or None (an approximation of RFC 2396 parsing)."""
    for index, char in enumerate(text):
        if char.isascii():
            if char not in _URI_ASCII:
                return f"Illegal character at index {index}: {text}"
        elif unicodedata.category(char) in {"Cc", "Zs", "Zl", "Zp"}:
            return f"Illegal character at index {index}: {text}"
    for match in re.finditer("%", text):
        pair = text[match.start() + 1 : match.start() + 3]
        if not re.fullmatch(r"[0-9A-Fa-f]{2}", pair):
            return f"Malformed escape pair at index {match.start()}: {text}"
    if text.count("#") > 1:
        return f"Illegal character in fragment at index {text.index('#', text.index('#') + 1)}: {text}"
    scheme_match = re.match(r"([^/?#:]*):", text)
    rest = text
    if scheme_match:
        if not scheme_match[1]:
            return f"Expected scheme name at index 0: {text}"
        if not _URI_SCHEME.fullmatch(scheme_match[1]):
            return f"Illegal character in scheme name: {text}"
        rest = text[scheme_match.end() :]
        if not rest:
            return f"Expected scheme-specific part at index {len(text)}: {text}"
    if rest == "//":
        return f"Expected authority at index {len(text)}: {text}"
    if ("[" in rest or "]" in rest) and not _URI_IPV6_HOST.fullmatch(rest.split("#")[0]):
        return f"Illegal character in path: {text}"
    return None
