"""detect-secrets, the maintained scanner, as provlineage uses it: on one string at a time, cheaply.

Its regex plugins (AWS, Slack, GitHub, GitLab, Stripe, JWT, Twilio, SendGrid, Azure storage keys, ...) run only on
strings that hold a run of 16 or more letters and digits, since every token they know holds one.  Its
entropy measure flags standalone random keys (an AWS secret access key has no prefix to match), restricted to
mixed-case tokens of 30 or more characters so that digests, commit ids and UUIDs (all one case) stay readable, and
to tokens that are not paths or CamelCase names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString

#: Plugins left out: public IP addresses are not secrets here (hosts in URLs stay readable).
_SKIPPED = frozenset({"IPPublicDetector"})
#: Every token the regex plugins know holds a run of 16 or more letters and digits; most values (words, paths,
#: dates, UUIDs) hold none, and skip the ~40 plugin regexes.
PREFILTER = re.compile(r"[A-Za-z0-9]{16}")
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+=.~%")
#: Capitalised words: a token with two of them is a name (``ResNet50FinalCheckpoint``), not a random key.
_WORD = re.compile(r"[A-Z][a-z]{4,}")
_RANDOM_TOKEN = re.compile(r"(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_-]{30,}={0,2}(?![A-Za-z0-9+/_=-])")
ENTROPY_LIMIT = 4.5
_LABEL = re.compile(r"[\s\"':=]*[A-Za-z_]+=")
_DELIMITERS = "\"':= \t"


@cache
def _regexes() -> tuple[re.Pattern[str], ...]:
    # imported on first use: ~50-130 ms that a process which never meets a candidate string should not pay
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    found: list[re.Pattern[str]] = []
    for plugin_class in get_mapping_from_secret_type_to_class().values():
        if issubclass(plugin_class, RegexBasedDetector) and plugin_class.__name__ not in _SKIPPED:
            found.extend(plugin_class().denylist)
    return tuple(found)


@cache
def _entropy() -> Base64HighEntropyString:
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString

    return Base64HighEntropyString(limit=ENTROPY_LIMIT)


def _expand(text: str, start: int, end: int) -> tuple[int, int]:
    """Grow a match to the whole token around it (plugins often capture only a prefix such as ``ghp``)."""
    while start > 0 and text[start - 1] in _TOKEN_CHARS and text[start - 1] != "=":
        start -= 1
    while end < len(text) and text[end] in _TOKEN_CHARS:
        end += 1
    return start, end


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop the delimiters and the ``Name=`` some plugins match around a secret (``AccountKey=...``)."""
    segment = text[start:end]
    label = _LABEL.match(segment)
    lead = label.end() if label else len(segment) - len(segment.lstrip(_DELIMITERS))
    return start + lead, end - (len(segment) - len(segment.rstrip(_DELIMITERS)))


def _keep_host(text: str, start: int, end: int) -> int:
    """A match that is a whole URL (a Slack webhook) keeps its scheme and host readable."""
    scheme = text.find("://", start, end)
    if scheme < 0:
        return start
    path = text.find("/", scheme + 3, end)
    return path + 1 if path > 0 else start


def library_spans(text: str) -> Iterator[tuple[int, int]]:
    """Spans detect-secrets flags in ``text`` (nothing when the pre-filter rules it out)."""
    if PREFILTER.search(text):
        yield from _plugin_spans(text)
    for match in _RANDOM_TOKEN.finditer(text):
        token = match.group(0)
        if _looks_random(token):
            yield match.span()


def _plugin_spans(text: str) -> Iterator[tuple[int, int]]:
    for regex in _regexes():
        for match in regex.finditer(text):
            group = 1 if regex.groups and match.group(1) else 0
            start, end = _trim(text, *match.span(group))
            if end <= start:
                continue
            if "://" in text[start:end]:
                yield _keep_host(text, start, end), end
            else:
                yield _expand(text, start, end)


def _looks_random(token: str) -> bool:
    if token.startswith(("/", ".")) or len(_WORD.findall(token)) >= 2:  # a path, or words
        return False
    if not (any(c.isupper() for c in token) and any(c.islower() for c in token) and any(c.isdigit() for c in token)):
        return False  # digests, commit ids and UUIDs are one case
    return bool(_entropy().calculate_shannon_entropy(token) >= ENTROPY_LIMIT)
