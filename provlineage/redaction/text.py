"""Redact one string: find the secret spans (own patterns, then detect-secrets) and replace each by ``***``."""

from __future__ import annotations

import re
from functools import lru_cache

from provlineage.redaction.library import library_spans
from provlineage.redaction.patterns import PEM_PRIVATE_KEY, pattern_spans

REDACTED = "***"
#: Strings shorter than this cannot hold a secret these detectors would recognise.
_MIN_LENGTH = 6
#: Longer lines are scanned but not cached (stack traces; the cache is for values that repeat).
_CACHED_LENGTH = 4096


def redact_text(text: str) -> tuple[str, bool]:
    """``text`` with the secret parts replaced by ``***``, and whether anything was replaced."""
    if len(text) < _MIN_LENGTH:
        return text, False
    changed = False
    if "PRIVATE KEY-----" in text:
        text, count = PEM_PRIVATE_KEY.subn(_mask_pem_body, text)
        changed = count > 0
    if "\n" not in text:
        cleaned, found = _line(text) if len(text) <= _CACHED_LENGTH else _scan(text)
        return cleaned, changed or found
    lines = []
    for line in text.split("\n"):
        cleaned, found = _line(line) if len(line) <= _CACHED_LENGTH else _scan(line)
        lines.append(cleaned)
        changed = changed or found
    return "\n".join(lines), changed


def _mask_pem_body(match: re.Match[str]) -> str:
    start, end = match.span("s")
    offset = match.start()
    whole = match.group(0)
    return whole[: start - offset] + REDACTED + whole[end - offset :]


@lru_cache(maxsize=16384)
def _line(line: str) -> tuple[str, bool]:
    return _scan(line)


def _scan(line: str) -> tuple[str, bool]:
    if len(line) < _MIN_LENGTH:
        return line, False
    spans = sorted({*pattern_spans(line), *library_spans(line)})
    if not spans:
        return line, False
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    parts, last = [], 0
    for start, end in merged:
        parts.append(line[last:start])
        parts.append(REDACTED)
        last = end
    parts.append(line[last:])
    return "".join(parts), True
