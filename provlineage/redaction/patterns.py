"""provlineage's own secret shapes: the ones detect-secrets does not look for, or only partly masks.

Each pattern has a named group ``s``: the secret part, the only part replaced by ``***``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_SECRET_WORD = (
    r"password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|account[_-]?key"
    r"|shared[_-]?access[_-]?key|client[_-]?secret|credentials?|sig|signature|x-amz-security-token"
)
_VALUE = r"\"[^\"]*\"|'[^']*'|[^\s&;,'\"<>)\]}]+"

_WORDS = ("pass", "pwd", "secret", "token", "key", "credential", "sig")

#: (substrings without which the pattern cannot match, checked first because ``in`` is far cheaper than a regex
#: scan; the pattern)
PATTERNS: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = (
    # postgresql://user:PASSWORD@host/db, https://x-access-token:TOKEN@github.com/...
    (("@",), re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s:/?#@]*:(?P<s>[^\s@/?#]+)@", re.IGNORECASE)),
    # https://TOKEN@github.com/... (a token as the user name; short user names such as ``git`` stay)
    (("@",), re.compile(r"\bhttps?://(?P<s>[^\s:/?#@]{12,})@", re.IGNORECASE)),
    # scheme-less DSN: app:PASSWORD@db:5432/prod
    (
        ("@",),
        re.compile(r"(?<![\w.:/@-])[A-Za-z0-9_.\-]+:(?P<s>[^\s:@/]+)@(?=[A-Za-z0-9_.\-]+(?::\d+)?(?:[/\s,;'\")]|$))"),
    ),
    # password=..., ;Password=...;, ?access_token=..., &sig=..., "api_key": "...", 'password': '...'
    (
        _WORDS,
        re.compile(
            rf"(?<![A-Za-z0-9])(?:[A-Za-z0-9.-]*[_.-])?(?:{_SECRET_WORD})[\"']?\s*[=:]\s*(?P<s>{_VALUE})",
            re.IGNORECASE,
        ),
    ),
    # argv pairs in text: --password X, --db-password=X, ['--password', 'X']
    (
        _WORDS,
        re.compile(
            rf"(?<![\w-])--?[A-Za-z0-9_-]*(?:{_SECRET_WORD})[A-Za-z0-9_-]*(?:[\"']?\s*,\s*|\s+)(?P<s>{_VALUE})",
            re.IGNORECASE,
        ),
    ),
    # Authorization: Bearer X / Basic X
    (("bearer", "basic"), re.compile(r"\b(?:bearer|basic)\s+(?P<s>[A-Za-z0-9\-._~+/]{12,}=*)", re.IGNORECASE)),
    # vendor tokens detect-secrets 1.5 misses: OpenAI/Anthropic, Google API, Hugging Face, npm, GitHub fine-grained,
    # Stripe test/restricted, Databricks
    (
        ("sk-", "aiza", "hf_", "npm_", "github_pat_", "k_live_", "k_test_", "dapi"),
        re.compile(
            r"(?<![A-Za-z0-9])(?P<s>sk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{35}"
            r"|hf_[A-Za-z0-9]{30,}|npm_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,}"
            r"|[rsp]k_(?:live|test)_[A-Za-z0-9]{16,}|dapi[0-9a-f]{32})"
        ),
    ),
)

#: A private key in PEM, masked from its header to its footer (or to the end when cut off).
PEM_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?P<s>.*?)(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|\Z)", re.DOTALL
)

#: Flags whose next argument is a secret, in argument lists: ``["--password", X]``.
SECRET_FLAG = re.compile(rf"^--?[A-Za-z0-9_-]*(?:{_SECRET_WORD})[A-Za-z0-9_-]*$", re.IGNORECASE)


#: Any guard word at all; a string without one (most values) skips every pattern in one scan.
_ANY_GUARD = re.compile("|".join(sorted({re.escape(word) for guard, _ in PATTERNS for word in guard})), re.IGNORECASE)


def pattern_spans(text: str) -> Iterator[tuple[int, int]]:
    """Spans of the secret parts of ``text`` by provlineage's own patterns."""
    if not _ANY_GUARD.search(text):
        return
    lower = text.lower()
    for guard, pattern in PATTERNS:
        if not any(word in lower for word in guard):
            continue
        for match in pattern.finditer(text):
            start, end = match.span("s")
            if end > start and text[start:end].strip("\"'") not in ("", "***"):
                yield start, end
