"""The documented rule that turns Python values into JSON that every backend accepts.

OpenLineage's ``Serde`` silently turns what ``json`` cannot encode into ``"<<non-serializable: T>>"`` and
writes ``NaN`` literals that Marquez rejects.  provlineage converts instead, and reports what it converted:

============================  ==============================================================
Python value                  JSON
============================  ==============================================================
``None`` in a mapping         member dropped (as Marquez does)
``float('nan')``, ``±inf``    the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``
``int`` beyond ±(2**53-1)     kept as an exact JSON integer (the canonical form spells its digits)
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
============================  ==============================================================
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


class Conversions(dict[str, str]):
    """Dotted path -> original type name of every value that was converted (empty when none)."""


def to_json_safe(value: Any, *, path: str = "", conversions: Conversions | None = None) -> Any:
    """Return ``value`` as plain JSON types per the table above, recording conversions by dotted path."""
    out = Conversions() if conversions is None else conversions
    return _convert(value, path, out)


def _note(out: Conversions, path: str, value: Any) -> None:
    out[path or "$"] = f"{type(value).__module__}.{type(value).__qualname__}".removeprefix("builtins.")


def _convert(value: Any, path: str, out: Conversions) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, enum.Enum):
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        _note(out, path, value)
        return _NONFINITE.get(value, "NaN")
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            if item is None:
                continue
            text_key = key if isinstance(key, str) else str(key)
            result[text_key] = _convert(item, f"{path}.{text_key}" if path else text_key, out)
        return result
    if isinstance(value, (list, tuple)):
        return [_convert(item, f"{path}[{i}]", out) for i, item in enumerate(value)]
    _note(out, path, value)
    return _convert_special(value, path, out)


def _convert_special(value: Any, path: str, out: Conversions) -> Any:
    if isinstance(value, enum.Enum):
        return _convert(value.value, path, out)
    if isinstance(value, decimal.Decimal):
        if value.is_finite() and value == value.to_integral_value():
            return int(value)
        return str(value) if value.is_finite() else {"NaN": "NaN", "Infinity": "Infinity"}.get(str(value), str(value))
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, PurePath)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "base64:" + base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (set, frozenset)):
        items = [_convert(item, f"{path}[]", out) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    if attr.has(type(value)):
        return _convert(attr.asdict(value, recurse=False), path, out)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _convert({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, path, out)
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays, pandas series
        return _convert(value.tolist(), path, out)
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        try:
            return _convert(value.item(), path, out)
        except (TypeError, ValueError):
            pass
    if hasattr(value, "__iter__"):  # other iterables (str, bytes, list and tuple are handled above)
        try:
            return [_convert(item, f"{path}[{i}]", out) for i, item in enumerate(value)]
        except TypeError:
            pass
    return repr(value)
