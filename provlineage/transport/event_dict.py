"""An OpenLineage event as plain JSON-like values: ``Serde.to_dict`` in one pass.

``Serde.to_dict`` runs ``attr.asdict`` and then walks the result again to drop nulls and turn enums, dates and
UUIDs into JSON values; on a realistic 10 KB event that is ~270 µs of CPU, more than signing it.  This does both
walks at once (~80 µs) with the same rules, so for the attrs events openlineage-python emits the result is equal
to ``Serde.to_dict`` (``tests/test_transport_signing.py`` compares them on events using every rule):

* attrs instances become dicts of their fields (in field order); ``None`` members are dropped;
* lists, tuples and sets become lists without ``None`` items and without items that end up as ``{}``;
* an ``Enum`` becomes its ``value``, a ``date``/``datetime`` its ``isoformat()``, a ``UUID`` its string, a numpy
  ``int64`` an ``int``; anything else is kept as is (the JSON-safety step deals with it).

Unlike ``Serde``, attrs instances inside a plain dict are converted too (Serde leaves them for ``json`` to fail on).
"""

from __future__ import annotations

import datetime
import uuid
from enum import Enum
from typing import Any

_PLAIN = frozenset({str, int, float, bool, type(None)})


def event_dict(event: Any) -> dict[str, Any]:
    """``Serde.to_dict(event)``, faster."""
    result = _plain(event)
    if not isinstance(result, dict):
        raise TypeError(f"{type(event).__name__} is not an OpenLineage event")
    return result


def _plain(value: Any) -> Any:
    kind = value.__class__
    if kind in _PLAIN:
        return value
    fields = getattr(kind, "__attrs_attrs__", None)
    if fields is not None:
        members = {}
        for field in fields:
            item = _plain(getattr(value, field.name))
            if item is not None:
                members[field.name] = item
        return members
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        members = {}
        for key, member in value.items():
            item = _plain(member)
            if item is not None:
                members[key] = item
        return members
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(item) for item in value if item is not None]
        return [item for item in items if item is not None and (not isinstance(item, dict) or item != {})]
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if kind.__name__ == "int64":
        return int(value)
    return value
