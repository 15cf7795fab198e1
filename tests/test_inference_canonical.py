"""The canonical fast path for inference values: which values it takes, and that it prints what the general path does.

Issue #14: ordinary probabilities such as ``0.006993006993006993`` (17 significant digits) used to fall back to the
general converter (a text check mistook their digits for a long integer), costing most records ~20 us.
"""

from __future__ import annotations

import collections
import datetime as dt
import enum
import math
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provlineage._internal.canonical import canonical_bytes, prepare
from provlineage._internal.jsonsafe import to_json_safe
from provlineage.errors import CanonicalizationError
from provlineage.inference import canonical_values
from provlineage.inference.canonical_values import canonical_json
from provlineage.inference.records import _now


def _general(value: Any) -> bytes:
    return canonical_bytes(prepare(to_json_safe(value, exact_text=True)))


class _Level(enum.IntEnum):
    HIGH = 2


class _Ratio(float):
    def __repr__(self) -> str:
        return "ratio"


class _Name(str):
    pass


def _nested(depth: int) -> Any:
    value: Any = [1.5]
    for _ in range(depth):
        value = {"n": value}
    return value


PLAIN = [
    {"churn_probability": 0.006993006993006993, "label": 0},
    {"monthly_charges": 20.713000000000001, "tenure": 7, "support": True, "contract": "one-year"},
    {"features": [0.1, -1.3, 2.0000000000000004, 1e-4, -123456789012345.67], "meta": {"a": [None, "é", False]}},
    [1, 2.5, "x", None, [True]],
    ("tuple", 9007199254740991, -9007199254740991),
    {"text": 'quote " backslash \\ control \x01 \u2028 \uffff'},
    "plain string",
    0.5,
    12,
    True,
]

NOT_PLAIN = [
    {"a": 1.0},  # integral float: "1.0" in Python, "1" in JCS
    {"a": -0.0},
    {"a": 0.0},
    {"a": 9.99e-05},  # Python writes an exponent below 1e-4, JCS only below 1e-6
    {"a": 1e16},
    {"a": 2**53},
    {"a": -(2**53)},
    {"a": 10**21},
    {"a": None},  # the JSON rule drops the member
    {"a": math.nan},
    {"a": math.inf},
    {2: "x", 10: "y"},  # non-string keys sort differently
    {"\U0001f600": 1, "\uffff": 2},  # keys outside the BMP sort by UTF-16 code units in JCS
    {"v": "emoji \U0001f600"},
    {"a": _Level.HIGH},
    {"a": _Ratio(0.5)},
    {"a": _Name("x")},
    collections.OrderedDict(a=1),
    {"a": dt.date(2026, 11, 30)},
    {"a": b"\x00"},
    _nested(40),
    None,
    1.0,
]


@pytest.mark.parametrize("value", PLAIN, ids=range(len(PLAIN)))
def test_plain_values_take_the_fast_path(value: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _general(value)

    def general_path(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"{value!r} fell back to the general converter")

    monkeypatch.setattr(canonical_values, "to_json_safe", general_path)
    assert canonical_json(value) == expected


@pytest.mark.parametrize("value", NOT_PLAIN, ids=range(len(NOT_PLAIN)))
def test_other_values_take_the_general_path_and_get_its_bytes(value: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    general = canonical_values.to_json_safe

    def general_path(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return general(*args, **kwargs)

    monkeypatch.setattr(canonical_values, "to_json_safe", general_path)
    assert canonical_json(value) == _general(value)
    assert calls, f"{value!r} was printed by the C encoder"


def test_a_cycle_goes_to_the_general_path_and_is_named() -> None:
    value: dict[str, Any] = {"a": 1}
    value["self"] = value
    assert canonical_json(value) == b'{"a":1,"self":"<left out: cycle to $>"}'


def test_a_lone_surrogate_is_refused_as_before() -> None:
    with pytest.raises(CanonicalizationError, match="surrogate"):
        canonical_json({"a": "\udc80"})


_numbers = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**60), 2**60)
_values = st.recursive(
    _numbers | st.none() | st.booleans() | st.text(max_size=6),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=4), children, max_size=5),
    max_leaves=16,
)


@settings(max_examples=500, deadline=None)
@given(_values)
def test_fast_path_prints_what_the_general_path_prints(value: Any) -> None:
    try:
        expected = _general(value)
    except Exception:  # lone surrogates cannot be carried by either path
        return
    assert canonical_json(value) == expected


@settings(max_examples=500, deadline=None)
@given(st.lists(_numbers, min_size=1, max_size=8))
def test_numbers_at_every_magnitude_agree(numbers: list[Any]) -> None:
    assert canonical_json({"n": numbers}) == _general({"n": numbers})


def test_record_time_is_utc_microseconds_with_z() -> None:
    before = dt.datetime.now(dt.timezone.utc)
    stamp = _now()
    after = dt.datetime.now(dt.timezone.utc)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", stamp)
    moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert before - dt.timedelta(milliseconds=1) <= moment <= after + dt.timedelta(milliseconds=1)
