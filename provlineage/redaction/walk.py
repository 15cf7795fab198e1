"""Redact a JSON-like value at any depth: keys by name, strings by content, argument lists by flag."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from provlineage.redaction.keys import secret_matcher
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
    matcher = secret_matcher(secret_pattern)
    return _Walk(matcher.search, numbers_by_key, found).walk(value, path), found


class _Walk:
    def __init__(self, is_secret_key: Callable[[str], Any], numbers_by_key: bool, found: list[str]) -> None:
        self.is_secret_key = is_secret_key
        self.numbers_by_key = numbers_by_key
        self.found = found

    def _key_hides(self, key: Any, item: Any) -> bool:
        if item is None or item == REDACTED or not self.is_secret_key(str(key)):
            return False
        return self.numbers_by_key or not isinstance(item, (int, float))

    def walk(self, value: Any, path: str) -> Any:
        if isinstance(value, str):
            cleaned, changed = redact_text(value)
            if changed:
                self.found.append(path or "$")
            return cleaned
        if isinstance(value, Mapping):
            result = {}
            for key, item in value.items():
                dotted = f"{path}.{key}" if path else str(key)
                if self._key_hides(key, item):
                    result[key] = REDACTED
                    self.found.append(dotted)
                else:
                    result[key] = self.walk(item, dotted)
            return result
        if isinstance(value, (list, tuple)):
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
        return value
