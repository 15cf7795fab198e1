"""Which key names (of parameters, metrics, argument flags) say that their value is a secret."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import lru_cache

from provlineage.errors import ConfigError

#: Case-insensitive; searched in each key.  ``token`` does not match ``max_tokens``, ``tokenizer`` or ``pad_token``,
#: nor ``auth`` ``author``, nor ``pass`` ``bypass``.  ``[_-]key$`` catches ``openai_key`` or ``stripe-key`` but not the keys
#: ML code names for other reasons (``sort_key``, ``primary_key``, ``cache_key``, ...).
_NOT_SECRET_KEYS = (
    "sort primary foreign partition cache group join dict hash shard sample random seed lookup index label target "
    "metric feature monitor row order id input output cluster model text image audio video column field record "
    "dataset data doc document file batch split class category"
)
_NOT_SECRET_TOKENS = "pad eos bos unk sep cls mask"
# The exceptions are lookbehinds placed after the literal they qualify, so they are only tried where it matched.
DEFAULT_SECRET_PATTERN = (
    r"pass(word|wd|phrase)|(?<![a-z])pass(?![a-z])|pwd|(?<![a-z])pw(?![a-z])|secret"
    r"|token(?!s|iz|_?(len|count|limit|budget|type|id))"
    + "".join(f"(?<!{word}_token)" for word in _NOT_SECRET_TOKENS.split())
    + r"|api[_-]?key|access[_-]?key|private[_-]?key|signing[_-]?key|credential|auth(?!or)|dsn"
    r"|conn(ection)?[_-]?(str|uri|url)|cookie|session[_-]?id|sas[_-]?(token|sig)"
    r"|[_-]key$" + "".join(f"(?<!{word}.key)" for word in _NOT_SECRET_KEYS.split())
)
SECRET_PATTERN_ENV = "PROVLINEAGE_SECRET_PATTERN"


def secret_matcher(pattern: str | None = None) -> re.Pattern[str]:
    """The key-name pattern: ``pattern``, else ``$PROVLINEAGE_SECRET_PATTERN``, else :data:`DEFAULT_SECRET_PATTERN`."""
    return _compile(pattern or os.environ.get(SECRET_PATTERN_ENV) or DEFAULT_SECRET_PATTERN)


def key_check(pattern: str | None = None) -> Callable[[str], bool]:
    """``key -> is it secret`` for the pattern :func:`secret_matcher` picks, cached per key."""
    effective = pattern or os.environ.get(SECRET_PATTERN_ENV) or DEFAULT_SECRET_PATTERN
    check = _CHECKS.get(effective)
    if check is None:
        search = _compile(effective).search

        @lru_cache(maxsize=8192)
        def check(key: str) -> bool:
            return search(key) is not None

        _CHECKS[effective] = check
    return check


_CHECKS: dict[str, Callable[[str], bool]] = {}


@lru_cache(maxsize=32)
def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as error:
        raise ConfigError(
            f"secret pattern {pattern!r} is not a regular expression ({error})",
            f"fix secret_pattern= or {SECRET_PATTERN_ENV} (Python re syntax), or unset it for the default",
        ) from None
