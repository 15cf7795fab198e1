"""The documented rule that turns Python values into JSON that every backend accepts.

OpenLineage's ``Serde`` silently turns what ``json`` cannot encode into ``"<<non-serializable: T>>"`` and
writes ``NaN`` literals that Marquez rejects.  provlineage converts instead, and reports what it converted:

============================  ==============================================================
Python value                  JSON
============================  ==============================================================
``None`` in a mapping         member dropped (as Marquez does)
``float('nan')``, ``±inf``    the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``
``int`` beyond ±(2**53-1)     kept as an exact JSON integer (the canonical form spells its digits)
``int`` of > 4,300 digits     ``"int:0x<hex>"`` (Python will not spell it in decimal); past 65,536 bits
                              ``"<left out: int of N bits>"``
``str`` not valid UTF-8       each lone surrogate from an undecodable byte (``os.fsdecode``) becomes ``%XX``,
                              any other lone surrogate U+FFFD
``decimal.Decimal``           an ``int`` if integral, else its exact decimal string
``datetime``/``date``/``time``  ISO 8601 string
``uuid.UUID``, ``Path``       ``str(value)``
``enum.Enum``                 its ``value`` (converted again)
``bytes``/``bytearray``       ``"base64:<standard base64>"``
``set``/``frozenset``         list sorted by the items' JSON text
``tuple``, other sequences    list
mappings                      object; non-string keys become ``str(key)``
numpy scalars/arrays          ``.item()`` / ``.tolist()`` (duck-typed, numpy is never imported)
attrs / dataclass instances   object of their fields
anything else                 ``"<repr>"`` of the value, and the path is reported
a container inside itself     ``"<left out: cycle to PATH>"``
nesting deeper than 64        ``"<left out: nested deeper than 64 levels>"``
============================  ==============================================================

Every converted value's path is reported; a value left out says so in its place, so nothing is dropped silently
and no input can make the conversion raise (a user's job must never break on what it logs).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import decimal
import enum
import json
import math
import uuid
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import attr

_NONFINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}
MAX_DEPTH = 64
#: Python refuses to spell an int of more digits than this in decimal (``sys.get_int_max_str_digits``' default).
MAX_INT_DIGITS = 4300
MAX_INT_BITS = 65536
_DECIMAL_LIMIT = 10**MAX_INT_DIGITS


class Conversions(dict[str, str]):
    """Dotted path -> original type name of every value that was converted (empty when none)."""


def to_json_safe(
    value: Any, *, path: str = "", conversions: Conversions | None = None, exact_text: bool = False
) -> Any:
    """Return ``value`` as plain JSON types per the table above, recording conversions by dotted path.

    ``exact_text=True`` keeps strings as they are, for values that identify something (an inference id or input
    is digested; changing it would name another input), so that an invalid string is refused downstream.
    """
    out = Conversions() if conversions is None else conversions
    return _Converter(out, exact_text).convert(value, path)


def utf8_safe(text: str) -> str:
    """``text`` as valid UTF-8: an undecodable byte ``os.fsdecode`` kept as a lone surrogate becomes ``%XX``."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return "".join(_surrogate(c) if "\ud800" <= c <= "\udfff" else c for c in text)


def _surrogate(char: str) -> str:
    code = ord(char)
    return f"%{code - 0xDC00:02X}" if 0xDC80 <= code <= 0xDCFF else "\ufffd"


def _note(out: Conversions, path: str, value: Any) -> None:
    out[path or "$"] = f"{type(value).__module__}.{type(value).__qualname__}".removeprefix("builtins.")


class _Converter:
    """One conversion: the report, and the containers on the current path (to see cycles)."""

    def __init__(self, out: Conversions, exact_text: bool = False) -> None:
        self.out = out
        self.exact_text = exact_text
        self.open: dict[int, str] = {}

    def convert(self, value: Any, path: str, depth: int = 0) -> Any:
        kind = type(value)  # exact types first: this runs for every value of every converted event
        if kind is str:
            return value if value.isascii() or self.exact_text else self._text(value, path)
        if value is None or kind is bool or (kind is float and math.isfinite(value)):
            return value
        if kind is int:
            return value if value.bit_length() <= 64 else self._int(value, path)
        if kind is dict or kind is list or kind is tuple:
            return self._container(value, path, depth)
        if isinstance(value, str):
            return value if self.exact_text else self._text(value, path)
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, int) and not isinstance(value, enum.Enum):
            return self._int(int(value), path)
        if isinstance(value, float):
            if math.isfinite(value):
                return float(value)
            _note(self.out, path, value)
            return _NONFINITE.get(value, "NaN")
        return self._container(value, path, depth)

    def _text(self, value: str, path: str) -> str:
        safe = utf8_safe(value)
        if safe is not value:
            self.out[path or "$"] = "str (not valid UTF-8)"
        return safe

    def _int(self, value: int, path: str) -> int | str:
        if value.bit_length() <= 64 or abs(value) < _DECIMAL_LIMIT:
            return value
        self.out[path or "$"] = "int (more than 4300 digits)"
        if value.bit_length() > MAX_INT_BITS:
            return f"<left out: int of {value.bit_length()} bits>"
        return f"int:{value:#x}" if value >= 0 else f"int:-{-value:#x}"

    def _container(self, value: Any, path: str, depth: int) -> Any:
        """Containers and other objects: depth and cycles checked, then converted."""
        if depth >= MAX_DEPTH:
            self.out[path or "$"] = f"{type(value).__qualname__} (left out: nested deeper than {MAX_DEPTH} levels)"
            return f"<left out: nested deeper than {MAX_DEPTH} levels>"
        key = id(value)
        if key in self.open:
            self.out[path or "$"] = f"{type(value).__qualname__} (left out: cycle)"
            return f"<left out: cycle to {self.open[key] or '$'}>"
        self.open[key] = path
        try:
            return self._members(value, path, depth + 1)
        finally:
            del self.open[key]

    def _members(self, value: Any, path: str, depth: int) -> Any:
        convert = self.convert
        if isinstance(value, Mapping):
            result = {}
            for key, item in value.items():
                if item is None:
                    continue
                text_key = key if type(key) is str and key.isascii() else utf8_safe(str(key))
                result[text_key] = convert(item, f"{path}.{text_key}" if path else text_key, depth)
            return result
        if isinstance(value, (list, tuple)):
            return [convert(item, f"{path}[{i}]", depth) for i, item in enumerate(value)]
        _note(self.out, path, value)
        return self._special(value, path, depth)

    def _special(self, value: Any, path: str, depth: int) -> Any:
        if isinstance(value, enum.Enum):
            return self.convert(value.value, path, depth)
        if isinstance(value, decimal.Decimal):
            if value.is_finite() and value == value.to_integral_value():
                return self._int(int(value), path)
            return str(value)
        if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
            return value.isoformat()
        if isinstance(value, (uuid.UUID, PurePath)):
            return utf8_safe(str(value))
        if isinstance(value, (bytes, bytearray, memoryview)):
            return "base64:" + base64.b64encode(bytes(value)).decode("ascii")
        if isinstance(value, (set, frozenset)):
            items = [self.convert(item, f"{path}[]", depth) for item in value]
            return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
        if attr.has(type(value)):
            return self.convert(attr.asdict(value, recurse=False), path, depth)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return self.convert({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, path, depth)
        if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays, pandas series
            return self.convert(value.tolist(), path, depth)
        if hasattr(value, "item") and callable(value.item):  # numpy scalars
            try:
                return self.convert(value.item(), path, depth)
            except (TypeError, ValueError):
                pass
        if hasattr(value, "__iter__"):  # other iterables (str, bytes, list and tuple are handled above)
            try:
                return [self.convert(item, f"{path}[{i}]", depth) for i, item in enumerate(value)]
            except TypeError:
                pass
        return _repr(value)


def _repr(value: Any) -> str:
    try:
        return utf8_safe(repr(value))
    except Exception as error:  # a user's __repr__ may raise; the value is then named by its type
        return f"<left out: {type(value).__name__} whose repr raised {type(error).__name__}>"
