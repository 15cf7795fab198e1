"""Templated arguments rendered as strings: record the number, boolean or ``None`` the template produced.

Without ``render_template_as_native_obj=True`` Jinja renders ``"{{ params.lr }}"`` to the string ``"0.1"``.
An argument is converted only when (a) the DAG passed a string holding a Jinja expression there, so the value
was produced by the template and not typed as a string by the author, and (b) the rendered text, stripped, is
an unambiguous Python literal of a number, a boolean or ``None`` (``ast.literal_eval``; ``"007"``, ``"nan"``,
``"1,5"`` or ``"[1]"`` stay strings).  Anything else is recorded as rendered.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

_MAX_LITERAL = 64
_TEMPLATE_MARKERS = ("{{", "{%")


def is_template(value: Any) -> bool:
    return isinstance(value, str) and any(marker in value for marker in _TEMPLATE_MARKERS)


def native_literal(text: str) -> Any:
    """The number, boolean or ``None`` ``text`` spells, else ``text`` itself."""
    stripped = text.strip()
    if not stripped or len(stripped) > _MAX_LITERAL:
        return text
    try:
        value = ast.literal_eval(stripped)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return text


def natives(rendered: Any, original: Any) -> Any:
    """``rendered`` with each templated string that spells a literal replaced by its value (walks alike shapes)."""
    if isinstance(rendered, str):
        return native_literal(rendered) if is_template(original) and rendered != original else rendered
    if isinstance(rendered, Mapping) and isinstance(original, Mapping):
        return {key: natives(value, original.get(key)) for key, value in rendered.items()}
    if isinstance(rendered, (list, tuple)) and isinstance(original, (list, tuple)) and len(rendered) == len(original):
        converted = [natives(value, before) for value, before in zip(rendered, original, strict=True)]
        return tuple(converted) if isinstance(rendered, tuple) else converted
    return rendered
