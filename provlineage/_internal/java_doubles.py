"""Numbers a Java store re-printed as another decimal of the same double, read back as that double.

A number means its exact decimal value (:mod:`provlineage._internal.numbers`), and that holds through Marquez for
nearly every number.  But Marquez parses a JSON number with a fraction or an exponent into a Java ``double`` and
prints it again with ``Double.toString``, whose decimal is not always the shortest one, and then not the same
value: observed on the real Marquez 0.51.1 on Java 17, ``1e+23`` came back as ``99999999999999990000000`` and
``1.9400994884341945e+25`` as ``19400994884341944000000000``; on Java 17 and Java 25, ``5e-324`` as ``4.9E-324``.
Java 17 also prints ``7.805246846095452e+17`` as ``7.8052468460954522E17`` (measured: 2 of 100,000 log-normal
values, 0 of 400,000 values below 1,000).

The verifier may therefore read such a number as its double (the value the producer's float had), and says
which numbers it so read.  Only a decimal a double printer could have written qualifies: another decimal than the
double's shortest one, of the same double, with at most 19 significant digits (Java 17 prints up to the exact
value of an integral double: ``2.82879384806159e+17`` came back as ``282879384806159008``) and not fewer than
the shortest has.  As long as the shortest only when the shortest is not itself the double's exact value (Java 17
picked ``...944`` where ``...945`` is nearer).  So ``9007199254740993`` for the exactly representable
``9007199254740992`` (another integer, as long), or a decimal of another double, still fails.  A qualifying
number may also be an integer the store kept exact, so each is tried both ways (:func:`double_readings`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from itertools import combinations
from typing import Any

from provlineage._internal.canonical import _jcs_float
from provlineage._internal.numbers import JsonNumber, is_shortest_double

_MAX_DOUBLE_DIGITS = 19  # an integral double below 2**63 printed exactly


#: Readings tried at most per event: each qualifying number is read either as written or as its double.
MAX_READINGS = 64


def double_readings(value: Any) -> Iterator[tuple[Any, list[str]]]:
    """``value`` with qualifying numbers read as their doubles, and the JSON Pointers of the numbers so read.

    A number that qualifies may also be an exact value the store kept (Jackson prints an integer it read as an
    integer digit for digit: ``12345678901234567890`` qualifies too), so every choice is a reading: all of them as
    doubles first, then fewer, up to :data:`MAX_READINGS` readings (one signature check each, on an event that
    did not verify as stored).
    """
    found: list[str] = []
    _walk(value, "", found, None)
    tried = 0
    for size in range(len(found), 0, -1):
        for chosen in combinations(found, size):
            if tried == MAX_READINGS:
                return
            tried += 1
            yield _walk(value, "", [], set(chosen)), list(chosen)


def as_doubles(value: Any) -> tuple[Any, list[str]]:
    """``value`` with every qualifying number read as its double, and their pointers (to compare two copies)."""
    found: list[str] = []
    return _walk(value, "", found, None), found


def _walk(value: Any, pointer: str, found: list[str], chosen: set[str] | None) -> Any:
    """Collect qualifying pointers (``chosen`` is ``None``), or read the ``chosen`` ones as doubles."""
    if isinstance(value, dict):
        return {key: _walk(item, f"{pointer}/{_escape(key)}", found, chosen) for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item, f"{pointer}/{index}", found, chosen) for index, item in enumerate(value)]
    if isinstance(value, JsonNumber) and (chosen is None or pointer in chosen):
        double = _reprinted_double(value.text)
        if double is not None:
            found.append(pointer)
            return _jcs_float(repr(double))
    return value


def _reprinted_double(text: str) -> float | None:
    """The double ``text`` is another printer's decimal of, or ``None`` (see the module doc)."""
    try:
        double = float(text)
    except ValueError:
        return None
    if double == 0 or not math.isfinite(double):
        return None
    shortest = repr(double)
    digits, shortest_digits = _significant_digits(text), _significant_digits(shortest)
    if digits > _MAX_DOUBLE_DIGITS or digits < shortest_digits or is_shortest_double(text, double):
        return None
    if digits == shortest_digits and _exact_digits(double) == shortest_digits:
        return None  # the shortest decimal is the double's exact value: another one that long is another value
    return double


def _exact_digits(double: float) -> int:
    from decimal import Decimal

    return _significant_digits(str(Decimal(double)))


def _significant_digits(text: str) -> int:
    mantissa = text.lower().split("e")[0].lstrip("-+").replace(".", "")
    return max(1, len(mantissa.strip("0")))


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
