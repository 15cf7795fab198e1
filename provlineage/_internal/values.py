"""Parsers for configuration values, shared by every place that reads a setting.

Transport configs (``openlineage.yml``, ``OPENLINEAGE__TRANSPORT__*``, Airflow's ``[openlineage] transport``), the
``[provlineage]`` Airflow section and ``PROVLINEAGE_*`` environment variables all accept the same spellings, so a
value that works in one place works in all of them.  Each parser raises :class:`ValueError` with a short reason;
the caller names the key and the fix.
"""

from __future__ import annotations

import math
from typing import Any

TRUE_WORDS = frozenset({"true", "t", "1", "yes", "y", "on"})
FALSE_WORDS = frozenset({"false", "f", "0", "no", "n", "off"})


def is_unset(value: Any) -> bool:
    """``None`` or a blank string: the key is treated as absent (its default applies)."""
    return value is None or (isinstance(value, str) and not value.strip())


def boolean(value: Any) -> bool:
    """``true``/``false`` in the usual spellings (``1``/``0``, ``yes``/``no``, ``on``/``off``), any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise ValueError("expected true or false")


def number(value: Any, kind: type[float] | type[int] = float, *, minimum: float = 0) -> Any:
    """A number of ``kind`` that is at least ``minimum`` (``"5"`` and ``5.0`` are accepted for an int 5)."""
    if isinstance(value, bool):
        raise ValueError("expected a number, not a boolean")
    try:
        parsed = float(value) if kind is float else int(str(value).strip().removesuffix(".0"))
    except (TypeError, ValueError):
        raise ValueError("expected a number") from None
    if math.isnan(parsed) or parsed < minimum:
        raise ValueError(f"expected a number >= {minimum:g}")
    return parsed


def text(value: Any) -> str | None:
    """A string, or ``None`` when unset."""
    return None if is_unset(value) else str(value)
