"""The canonical form that provlineage signs: RFC 8785 (JCS) over the *covered view* of an event.

Two parts:

* :func:`project_event` picks what a signature covers.  Everything in the event is covered except the
  ``provlineage_signature`` facet itself, with the only normalisations being those an honest Marquez round trip
  makes: ``eventTime`` and the ``nominalTime`` facet's times are compared as instants, the ``parent`` facet's
  ``run``/``job`` links keep only ``runId``/``namespace``/``name`` (Marquez's typed links drop anything else), and
  ``null`` members are dropped.  Key order, whitespace and number spelling are handled by JCS itself.
* :func:`canonical_bytes` is RFC 8785 as implemented by the ``rfc8785`` package, extended to numbers that are not
  doubles.  A JSON number means its exact decimal value: two spellings of one value (``1e+21``, ``1.0E21``,
  ``1000000000000000000000``) are one canonical number, two different values (``9007199254740992`` and
  ``9007199254740993.0``) never are.  Spelling, by exact value (see :mod:`provlineage._internal.numbers`): the
  RFC 8785 (ES6) spelling of a double ``d`` when the value is exactly ``d``'s shortest round-trip decimal (every
  number a JSON encoder writes from a double, so plain JCS there; ``-0`` is ``0``); else an integer's exact digits
  (up to 4,300 of them); else the value's exact digits in ES6 layout (``1.00000000000000000001``, ``1e+5000``).
  Every canonical spelling denotes exactly its value, so different values never share one.  ``NaN``/``Infinity``
  literals and duplicate keys are rejected by :func:`loads` (strict JSON).

Speed: ``rfc8785`` is pure Python (~3k events/s for a 4 KB event).  Values parsed by :func:`loads` are prepared so
that the C ``json`` encoder prints exactly the JCS bytes (floats are pre-spelled as ES6 numbers); that fast path is
used unless a key holds a character outside the Basic Multilingual Plane (JCS sorts keys by UTF-16 code units,
Python by code points), in which case ``rfc8785`` serialises.  ``tests/test_canonical.py`` checks the two paths
agree on generated documents.
"""

from __future__ import annotations

import json
import math
import re
import secrets
from typing import Any

from provlineage._internal.instants import normalize_instant
from provlineage._internal.numbers import JsonNumber as _Number
from provlineage._internal.numbers import es6_spelling, exact_spelling, is_shortest_double
from provlineage.errors import CanonicalizationError

CANONICALIZATION = "provlineage-jcs/1"
SIGNATURE_FACET = "provlineage_signature"

_SAFE_INT = 2**53 - 1
_NON_BMP = re.compile("[\U00010000-\U0010ffff]")
# A per-process random marker: values whose JCS spelling the C encoder cannot produce travel through it as
# a string and are swapped for their spelling afterwards.  The count check below rules out a collision.
_MARK = f"\ue000provlineage-{secrets.token_hex(8)}:"
_MARKED = re.compile('"' + re.escape(_MARK) + r'([^"]*)"')


def _jcs_float(text: str) -> Any:
    value = float(text)
    if math.isfinite(value) and (repr(value) == text or is_shortest_double(text, value)):
        if value.is_integer() and abs(value) <= _SAFE_INT:
            return int(value)  # ES6 prints integral doubles below 2**53 as their digits, as int does
        if not value.is_integer() and 1e-4 <= abs(value) < 1e16:
            return value  # here Python's repr and ES6 Number.toString are the same shortest spelling
        return _Number(es6_spelling(value))
    return _Number(exact_spelling(text))


def _jcs_int(text: str) -> Any:
    if len(text) <= 17:
        value = int(text)
        if -_SAFE_INT <= value <= _SAFE_INT:
            return value
    return _Number(exact_spelling(text))


def _reject_constant(name: str) -> Any:
    raise CanonicalizationError(
        f"JSON holds the non-standard constant {name}",
        'NaN and Infinity are not JSON; provlineage writes them as the strings "NaN"/"Infinity"',
    )


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise CanonicalizationError(
            f"JSON object holds the key {duplicate!r} twice",
            "parsers disagree on which member counts (first or last), so such a record is not accepted",
        )
    return value


def loads(text: str | bytes, *, unique_keys: bool = True) -> Any:
    """Parse strict JSON into values ready for :func:`canonical_bytes` (raises ``ValueError`` on bad JSON).

    Strict: no ``NaN``/``Infinity`` literals and, unless ``unique_keys`` is false (for text ``json.dumps`` just
    wrote from a dict), no object with the same key twice.  Nesting too deep to parse is a
    :class:`CanonicalizationError` (a ``ValueError``), not a ``RecursionError``.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        return json.loads(
            text,
            parse_float=_jcs_float,
            parse_int=_jcs_int,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_keys if unique_keys else None,
        )
    except RecursionError:
        raise CanonicalizationError(
            "JSON is nested too deeply to parse",
            "An OpenLineage event nests a few levels; check what wrote this record",
        ) from None


def prepare(value: Any) -> Any:
    """Make plain JSON-typed Python values ready for :func:`canonical_bytes` (a JSON round trip)."""
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False, default=_mark_number)
    except ValueError as error:
        raise CanonicalizationError(
            f"value cannot be carried by JSON ({error})",
            "convert it with provlineage's JSON rule (NaN/Infinity become strings) before signing",
        ) from error
    if _MARK in text:
        text = _MARKED.sub(lambda m: m.group(1), text)
    return loads(text, unique_keys=False)


def _mark_number(value: Any) -> str:
    if isinstance(value, _Number):
        return _MARK + value.text
    raise TypeError(f"{type(value).__qualname__} is not JSON")


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 bytes of ``value`` (from :func:`loads` or :func:`prepare`), integers beyond 2**53 exact."""
    marks = 0

    def default(item: Any) -> str:
        nonlocal marks
        marks += 1
        return _mark_number(item)

    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=default
        )
    except (TypeError, ValueError) as error:
        raise CanonicalizationError(f"value cannot be canonicalized ({error})", "pass JSON values only") from error
    except RecursionError:
        raise CanonicalizationError("value is nested too deeply to canonicalize", "pass JSON values only") from None
    if not text.isascii() and _NON_BMP.search(text):
        return _canonical_via_rfc8785(value)
    if marks or _MARK in text:
        text, replaced = _MARKED.subn(lambda m: m.group(1), text)
        if replaced != marks:
            raise CanonicalizationError("a string in the event collides with the canonicalizer's marker", "retry")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise CanonicalizationError(
            "a string holds a lone UTF-16 surrogate, which RFC 8785 cannot carry", "fix the producer of that string"
        ) from error


def _canonical_via_rfc8785(value: Any) -> bytes:
    import rfc8785  # pure Python, needed only for keys outside the BMP: imported on first use

    marks: dict[str, str] = {}

    def swap(item: Any) -> Any:
        if isinstance(item, _Number):
            token = f"{_MARK}{len(marks)}"
            marks[token] = item.text
            return token
        if isinstance(item, dict):
            return {key: swap(member) for key, member in item.items()}
        if isinstance(item, list):
            return [swap(member) for member in item]
        return item

    try:
        text = rfc8785.dumps(swap(value)).decode("utf-8")
    except rfc8785.CanonicalizationError as error:
        raise CanonicalizationError(f"value cannot be canonicalized ({error})", "pass JSON values only") from error
    for token, number in marks.items():
        text = text.replace(f'"{token}"', number, 1)
    return text.encode("utf-8")


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _drop_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_drop_nulls(item) for item in value]
    return value


def _parent_links(parent: dict[str, Any]) -> dict[str, Any]:
    kept = dict(parent)
    run, job = parent.get("run"), parent.get("job")
    if isinstance(run, dict):
        kept["run"] = {k: run[k] for k in ("runId",) if k in run}
    if isinstance(job, dict):
        kept["job"] = {k: job[k] for k in ("namespace", "name") if k in job}
    return kept


def project_event(event: dict[str, Any], *, may_hold_nulls: bool = True) -> dict[str, Any]:
    """The covered view of ``event`` (a new dict; ``event`` is not modified)."""
    if may_hold_nulls:
        event = _drop_nulls(event)
    view = dict(event)
    if "eventTime" in view:
        view["eventTime"] = normalize_instant(view["eventTime"])
    run = view.get("run")
    if isinstance(run, dict):
        run = view["run"] = dict(run)
        facets = run.get("facets")
        if isinstance(facets, dict):
            facets = run["facets"] = dict(facets)
            facets.pop(SIGNATURE_FACET, None)
            nominal = facets.get("nominalTime")
            if isinstance(nominal, dict):
                facets["nominalTime"] = {
                    key: normalize_instant(item) if key in ("nominalStartTime", "nominalEndTime") else item
                    for key, item in nominal.items()
                }
            parent = facets.get("parent")
            if isinstance(parent, dict):
                facets["parent"] = _parent_links(parent)
    return view
