"""Redact a JSON-like value at any depth: keys by name, strings by content, argument lists by flag."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from provlineage.redaction.keys import key_check
from provlineage.redaction.patterns import SECRET_FLAG
from provlineage.redaction.text import REDACTED, redact_text


def redact(
    value: Any, *, secret_pattern: str | None = None, path: str = "", numbers_by_key: bool = True
) -> tuple[Any, list[str]]:
    """``value`` with its secrets replaced by ``***`` and the dotted paths (``a.b[0]``) of what was replaced.

    A mapping member whose key matches the key pattern (``secret_pattern``, ``$PROVLINEAGE_SECRET_PATTERN`` or
    the default) is replaced whole; in a list, the item after a flag such as ``--password`` is replaced whole;
    in any other string only the secret part is (``postgresql://app:***@db/prod``).  Numbers, booleans and
    ``None`` are left as they are, and so are numbers under a secret-looking key when ``numbers_by_key`` is false
    (metrics such as ``token_accuracy``).  Raises :class:`provlineage.errors.ConfigError` on a bad pattern.
    """
    found: list[str] = []
    return _Walk(key_check(secret_pattern), numbers_by_key, found).walk(value, path), found


class _Walk:
    def __init__(self, is_secret_key: Callable[[str], bool], numbers_by_key: bool, found: list[str]) -> None:
        self.is_secret_key = is_secret_key
        self.numbers_by_key = numbers_by_key
        self.found = found

    def walk(self, value: Any, path: str) -> Any:
        kind = type(value)
        if kind is int or kind is float or kind is bool or value is None:  # the common case, checked first
            return value
        if kind is str or isinstance(value, str):
            cleaned, changed = redact_text(value)
            if changed:
                self.found.append(path or "$")
            return cleaned
        if kind is dict or isinstance(value, Mapping):
            return self._mapping(value, path)
        if isinstance(value, (list, tuple)):
            return self._sequence(value, path)
        return value

    def _mapping(self, value: Mapping[Any, Any], path: str) -> dict[Any, Any]:
        result = {}
        is_secret_key, numbers_by_key, walk = self.is_secret_key, self.numbers_by_key, self.walk
        for key, item in value.items():
            # a key can hold a secret too ({"postgresql://app:pw@db/x": 0.9}): it is never recorded, even in a path
            name, key_changed = redact_text(key if type(key) is str else str(key))
            out_key = name if key_changed else key
            dotted = f"{path}.{name}" if path else name
            if (
                item is not None
                and is_secret_key(name)
                and (numbers_by_key or type(item) not in (int, float))
                and item != REDACTED
            ):
                result[out_key] = REDACTED
                self.found.append(dotted)
            else:
                if key_changed:
                    self.found.append(dotted)
                result[out_key] = walk(item, dotted)
        return result

    def _sequence(self, value: list[Any] | tuple[Any, ...], path: str) -> list[Any]:
        """Items; the one after a flag such as ``--password`` is replaced whole."""
        items = []
        secret_next = False
        for index, item in enumerate(value):
            dotted = f"{path}[{index}]"
            if secret_next and isinstance(item, (str, int, float)) and not isinstance(item, bool):
                items.append(REDACTED)
                self.found.append(dotted)
            else:
                items.append(self.walk(item, dotted))
            secret_next = isinstance(item, str) and SECRET_FLAG.match(item) is not None
        return items
