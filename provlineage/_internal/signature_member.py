"""Find the signature facet's member in a stored line and cut it out, without parsing the event.

A line provlineage wrote is the canonical text of the signed view with one member added: the
``provlineage_signature`` facet in the top-level ``run.facets``.  Cutting that member out gives back the signed text,
but only if it really is that member: spliced into a string, between the two halves of a ``\\"`` escape or into
another object, it would leave the signed text behind while the line means something else.  Two proofs of its place
are offered: a bracket count (:func:`split_signature_member`, no parser at all) and a parser's word
(:func:`split_located_member`).  The facet itself, the one unsigned part, is decoded as strict JSON (no duplicate
keys, no ``NaN``), so that a line the quick path accepts reads the same in every parser.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from provlineage._internal.canonical import SIGNATURE_FACET
from provlineage._internal.commitments import WITHHELD
from provlineage._internal.payload import split_member as _split_member

_WITHHELD_KEY = json.dumps(WITHHELD)
_RUN_FACETS = '"run":{"facets":{'

_SIGNATURE_MEMBER = f'"{SIGNATURE_FACET}":'


def _strict_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise ValueError("duplicate key")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard constant {name}")


# The signature facet is the one part of a line the signature does not cover: it is decoded as strict JSON (no
# duplicate keys, no NaN), so that a line the quick path accepts reads the same in every parser.
_DECODER = json.JSONDecoder(object_pairs_hook=_strict_object, parse_constant=_reject_constant)


def split_signature_member(line: str, *, in_run_facets: bool = False) -> tuple[Any, str] | None:
    """``(signature facet, line without the member)`` when the line holds exactly one signature member.

    ``in_run_facets``: only when that member is provably in the top-level ``run.facets`` (see :func:`_in_run_facets`).
    """
    if line.count(_SIGNATURE_MEMBER) != 1:
        return None
    start = line.index(_SIGNATURE_MEMBER)
    try:
        facet, end = _DECODER.raw_decode(line, start + len(_SIGNATURE_MEMBER))
    except (ValueError, RecursionError):
        return None
    if in_run_facets and not _in_run_facets(line, start, end):
        return None
    rest = _split_member(line, start, end - start)
    return (facet, rest.rstrip()) if rest is not None else None


_NOT_STRUCTURE = bytes(set(range(256)) - set(b'"{}[]'))


def _unmatched_brackets(segment: str) -> bytes | None:
    """The brackets of a JSON text segment (starting outside a string) left open or closed beyond it.

    ``None`` when a string in it holds a bracket (rare; the caller then does not decide).  Assumes the segment has
    no escapes, so every quote delimits a string: keep only quotes and brackets, drop the strings (now ``""``),
    then drop matched pairs.  All of it runs in C: this is on the path taken for every record of a log.
    """
    structure = segment.encode("utf-8", "surrogatepass").translate(None, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in structure:
        return None
    while True:
        reduced = structure.replace(b"{}", b"").replace(b"[]", b"")
        if reduced == structure:
            return reduced
        structure = reduced


def _in_run_facets(line: str, start: int, end: int) -> bool:
    """Whether the member at ``line[start:end]`` sits between two members of the top-level ``run.facets`` object.

    Cutting the member's text out proves nothing on its own: spliced into a string, between the two halves of a
    ``\\"`` escape or into another object, it leaves the signed text behind while the line is not JSON or means
    something else.  This proves its place without parsing the line (the point of the quick path); ``False`` sends
    the line to the full check, which parses it.
    """
    if "\\" in line:
        return False  # quotes may be escaped: such lines take the full path
    after = line[end : end + 2]
    if (after != ',"' and after[:1] != "}") or line[start - 1 : start] not in ("{", ","):
        return False  # not where an object member starts and ends
    run = line.rfind(_RUN_FACETS, 0, start)
    if run < 0:
        return False
    # an odd number of quotes before "run" or the member (they would be inside a string) leaves one in the
    # structure, which _unmatched_brackets answers with None
    return _unmatched_brackets(line[:run]) == b"{" and _unmatched_brackets(line[run + len(_RUN_FACETS) : start]) == b""


def split_located_member(
    line: str, facet_text: str, decode: Callable[[str], Any] | None = None
) -> tuple[Any, str] | None:
    """``(signature facet, line without the member)`` for a line a JSON parser read, finding ``facet_text`` at
    ``run.facets``.

    The parser proves where the member is, which replaces the bracket count of :func:`_in_run_facets`: in a line
    without escapes ``"provlineage_signature":`` can only be an object key, so when it occurs once, it is that one.
    ``decode`` parses the facet's text as strict JSON (raising ``ValueError``); by default ``json`` does.
    """
    if "\\" in line:
        return None
    start = line.find(_SIGNATURE_MEMBER)
    if start < 0 or line.find(_SIGNATURE_MEMBER, start + len(_SIGNATURE_MEMBER)) >= 0:
        return None  # not there, or there twice
    end = start + len(_SIGNATURE_MEMBER) + len(facet_text)
    if not line.startswith(facet_text, start + len(_SIGNATURE_MEMBER)):
        return None
    try:
        facet = (decode or _DECODER.decode)(facet_text)
    except (ValueError, RecursionError):
        return None
    rest = _split_member(line, start, end - start)
    return (facet, rest.rstrip()) if rest is not None else None
