"""Canonical spelling of JSON numbers by exact value (the number rule of ``provlineage-jcs/1``).

A JSON number means its exact decimal value.  Producers and stores re-spell numbers (Python writes ``1e+21``,
Jackson ``1.0E21``, PostgreSQL ``jsonb`` ``1000000000000000000000``); a re-spelling that keeps the value must keep
the signature, one that changes it (``9007199254740993.0`` for ``9007199254740992``) must break it.  So the
canonical spelling is a function of the exact value, and always denotes exactly that value (which makes it
one-to-one: two different values never share a spelling):

1. the value is exactly the shortest round-trip decimal of a double ``d`` (what every JSON encoder writes for a
   double): RFC 8785's spelling of ``d`` (ES6 ``Number.prototype.toString``), so this is plain JCS; zero (also
   ``-0``, ``-0.0``) is ``0``;
2. else an integer of at most 4,300 digits: its digits (``9007199254740993``, ``1152921504606846976``);
3. else the value's shortest exact digits in ES6's layout (``0.1000000000000000055511151231257827``,
   ``1.00000000000000000001``, ``1e+400``, ``1e-400``).

The checks run only for numbers that need them: a double spelled as Python's ``repr`` and integers within
±(2**53-1) (nearly all numbers) never reach :class:`decimal.Decimal`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decimal import Decimal

_INTEGER_DIGITS = 4300  # CPython's default int/str conversion limit


class JsonNumber:
    """A number whose canonical spelling is not what ``json`` writes for an ``int``/``float`` (kept as text)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JsonNumber) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return self.text


def _digits(value: Decimal) -> tuple[int, str, int]:
    """(sign, significant digits without trailing zeros, decimal point position ``n``) of a non-zero value.

    The value is ``0.DIGITS * 10**n``, as in ES6's Number::toString (``k`` digits, exponent ``n``).
    """
    sign, digit_tuple, exponent = value.as_tuple()
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)  # type: ignore[operator]
    return sign, stripped, len(stripped) + exponent  # type: ignore[operator]


def _es6_layout(sign: int, digits: str, n: int) -> str:
    """ES6 Number::toString's layout of ``0.digits * 10**n`` (applied to any decimal, not only doubles)."""
    k = len(digits)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        exponent = n - 1
        text = digits[0] + ("." + digits[1:] if k > 1 else "") + ("e+" if exponent >= 0 else "e-") + str(abs(exponent))
    return "-" + text if sign else text


def es6_spelling(value: float) -> str:
    """RFC 8785 / ES6 spelling of a finite double (``-0.0`` is ``0``)."""
    from decimal import Decimal  # here, not at the top: most logs never need it, and start-up counts

    if value == 0:
        return "0"
    return _es6_layout(*_digits(Decimal(repr(value))))


def is_shortest_double(text: str, value: float) -> bool:
    """Whether the exact value of ``text`` is the shortest round-trip decimal of the double ``value``."""
    from decimal import Decimal

    return Decimal(text) == Decimal(repr(value))


def canonical_spelling(value: Decimal) -> str:
    """The canonical spelling of an exact decimal value (rules 1-3 of the module doc)."""
    from decimal import Decimal

    if value.is_zero():
        return "0"
    sign, digits, n = _digits(value)
    if -330 < n < 312:  # only here can a finite, non-zero double's shortest decimal lie
        double = float(value)
        if double != 0 and math.isfinite(double) and Decimal(repr(double)) == value:
            return es6_spelling(double)
    if len(digits) <= n <= _INTEGER_DIGITS:
        return ("-" if sign else "") + digits + "0" * (n - len(digits))
    return _es6_layout(sign, digits, n)


def exact_spelling(text: str) -> str:
    """Canonical spelling of a JSON number's text (any size, any exponent)."""
    from decimal import Decimal, InvalidOperation

    try:
        return canonical_spelling(Decimal(text))
    except InvalidOperation:  # not reachable for text json's scanner matched as a number
        raise ValueError(f"{text!r} is not a number") from None
