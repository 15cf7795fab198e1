"""``canonical(value)`` for inference inputs and outputs, with a fast path for plain values.

Every record digests its input and output, so this runs twice per :meth:`InferenceRecorder.record`.  The general
path (the JSON rule, then RFC 8785) is exact for any value but costs ~25 us on a small dict; the C ``json`` encoder
prints the same bytes in ~3 us when every leaf is one it spells as JCS does.  :func:`_plain` decides that from the
values' exact types, never by scanning the text, so ordinary floats such as ``0.006993006993006993`` (17 significant
digits) stay on the fast path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from provlineage._internal.canonical import canonical_bytes, prepare
from provlineage._internal.jsonsafe import to_json_safe

__all__ = ["canonical_json"]

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _c_encoder() -> Callable[[Any], str]:
    """``_ENCODER.encode`` without building a new C encoder per call (~1 us of ~3), where this Python allows it.

    No cycle check: only values :func:`_plain` accepted (bounded depth, so no cycle) are encoded.  The C encoder's
    constructor is not documented, so it is used only if it prints a sample exactly as ``_ENCODER`` does.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    encode_text = getattr(json.encoder, "c_encode_basestring", None)
    if make is None or encode_text is None:
        return _ENCODER.encode
    try:
        chunks = make(None, None, encode_text, None, ":", ",", True, False, False)
        sample = {"b": [1, 2.5, '\u00e9\n"', True, None], "a": {"c": -0.1}}

        def encode(value: Any) -> str:
            return "".join(chunks(value, 0))

        if encode(sample) == _ENCODER.encode(sample):
            return encode
    except Exception:  # another Python's signature: the documented path
        pass
    return _ENCODER.encode


_encode = _c_encoder()
_NON_BMP = re.compile("[\U00010000-\U0010ffff]")
# Beyond these bounds the C encoder's spelling may differ from JCS, so such values take the general path:
_SAFE_INT = 2**53  # integers: |n| < 2**53 are spelled by their digits in both
# floats: Python's repr and ES6 Number.toString agree on non-integral doubles with 1e-4 <= |x| < 1e16 (outside it
# they switch to exponents at other points; integral doubles are "1.0" in Python and "1" in ES6)
_MAX_DEPTH = 16  # nesting: deeper values (and cycles) are left to the general path's depth and cycle rules


def _plain_text(text: str) -> bool:
    """No character outside the BMP (JCS sorts keys by UTF-16 code units; values are kept on the general path too)."""
    return text.isascii() or not _NON_BMP.search(text)


def _plain(value: Any, depth: int = 0) -> bool:
    """True when the C encoder prints ``value`` exactly as the JSON rule and RFC 8785 would.

    Exact types only (a subclass may print differently), no ``None`` member (the JSON rule drops it), integers below
    2**53, non-integral floats in Python's plain decimal range, and text inside the BMP.
    """
    kind = type(value)
    if kind is dict:
        if depth >= _MAX_DEPTH:
            return False
        for key in value:
            if type(key) is not str or not (key.isascii() or _plain_text(key)):
                return False
        return _plain_items(value.values(), depth, members=True)
    if kind is list or kind is tuple:
        return depth < _MAX_DEPTH and _plain_items(value, depth, members=False)
    return _plain_items((value,), depth - 1, members=True)


def _plain_items(items: Iterable[Any], depth: int, *, members: bool) -> bool:
    """The leaf checks of :func:`_plain`, inline in one loop (this runs for every value of every record)."""
    for item in items:
        kind = type(item)
        if kind is float:
            if not ((1e-4 <= item < 1e16 or -1e16 < item <= -1e-4) and not item.is_integer()):
                return False
        elif kind is str:
            if not (item.isascii() or _plain_text(item)):
                return False
        elif kind is int:
            if not -_SAFE_INT < item < _SAFE_INT:
                return False
        elif kind is bool:
            continue
        elif item is None:
            if members:  # a None member is dropped by the JSON rule; null in a list stays
                return False
        elif kind is dict or kind is list or kind is tuple:
            if not _plain(item, depth + 1):
                return False
        else:
            return False
    return True


def canonical_json(value: Any) -> bytes:
    """``canonical(value)``: RFC 8785 bytes of ``value`` after the JSON rule.

    Plain values (see :func:`_plain`) are printed by the C encoder, byte-identical to JCS; anything else goes through
    the general converter.
    """
    if _plain(value):
        try:
            return _encode(value).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let the general path report it
    return canonical_bytes(prepare(to_json_safe(value, exact_text=True)))  # digested: never re-spelled
