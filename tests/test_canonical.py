"""The canonical form: RFC 8785 vectors, agreement with the rfc8785 package, and the documented extensions."""

from __future__ import annotations

import json
import struct
from decimal import Decimal

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from provlineage._internal.canonical import canonical_bytes, loads, prepare, project_event
from provlineage._internal.instants import normalize_instant
from provlineage._internal.jsonsafe import to_json_safe
from provlineage.errors import CanonicalizationError


def canon(text: str) -> bytes:
    return canonical_bytes(loads(text))


def test_rfc8785_section_3_2_2_example() -> None:
    """RFC 8785's example, but for one number: 333333333.33333329 is not the shortest spelling of any double.

    RFC 8785 first rounds it to a double (333333333.3333333); provlineage keeps a number's exact value (see
    :mod:`provlineage._internal.numbers`), so its spelling stays.  Every number an encoder writes from a double is
    the shortest spelling, and there both agree.
    """
    text = r"""{
      "numbers": [333333333.33333329, 333333333.3333333, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }"""
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.33333329,333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canon(text) == expected.encode("utf-8")


def test_rfc8785_section_3_2_3_sorting_by_utf16_code_units() -> None:
    text = r"""{"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"}"""
    keys = [key for key in json.loads(canon(text).decode("utf-8"))]
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


@pytest.mark.parametrize(
    ("ieee_hex", "expected"),
    [  # RFC 8785 Appendix B
        ("0000000000000000", "0"),
        ("8000000000000000", "0"),
        ("0000000000000001", "5e-324"),
        ("7fefffffffffffff", "1.7976931348623157e+308"),
        ("4340000000000000", "9007199254740992"),
        ("4430000000000000", "295147905179352830000"),
        ("44b52d02c7e14af5", "9.999999999999997e+22"),
        ("44b52d02c7e14af6", "1e+23"),
        ("444b1ae4d6e2ef4f", "999999999999999900000"),
        ("444b1ae4d6e2ef50", "1e+21"),
        ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
        ("3eb0c6f7a0b5ed8d", "0.000001"),
        ("41b3de4355555553", "333333333.3333332"),
    ],
)
def test_rfc8785_appendix_b_numbers(ieee_hex: str, expected: str) -> None:
    value = struct.unpack(">d", bytes.fromhex(ieee_hex))[0]
    assert canon(json.dumps([value])) == f"[{expected}]".encode()
    assert rfc8785.dumps([value]) == f"[{expected}]".encode()


def test_number_spellings_are_one_canonical_number() -> None:
    assert canon('{"a":100.0}') == canon('{"a":100}') == canon('{"a":1e2}') == b'{"a":100}'
    assert canon('{"a":0.50}') == canon('{"a":5e-1}') == b'{"a":0.5}'


def test_integers_beyond_2_53_are_kept_exactly() -> None:
    big = 2**70 + 1
    assert canon(json.dumps({"n": big})) == f'{{"n":{big}}}'.encode()
    assert canonical_bytes(prepare({"n": -big})) == f'{{"n":{-big}}}'.encode()
    assert canon(json.dumps({"n": big})) != canon(json.dumps({"n": big + 1}))


def test_nan_and_infinity_are_rejected_with_a_clear_error() -> None:
    with pytest.raises(CanonicalizationError, match="NaN"):
        loads('{"x": NaN}')
    assert canon('{"x": 1e999}') == b'{"x":1' + b"0" * 999 + b"}"  # an exact value beyond doubles is kept
    with pytest.raises(CanonicalizationError, match="cannot be carried by JSON"):
        prepare({"x": float("nan")})


def test_json_safe_rule_makes_nan_and_big_values_signable() -> None:
    safe = to_json_safe({"loss": float("nan"), "top": float("inf"), "seed": 2**64})
    assert safe == {"loss": "NaN", "top": "Infinity", "seed": 2**64}
    assert canonical_bytes(prepare(safe)) == b'{"loss":"NaN","seed":18446744073709551616,"top":"Infinity"}'


def test_lone_surrogate_is_rejected() -> None:
    with pytest.raises(CanonicalizationError, match="surrogate"):
        canon('{"x": "\\ud800"}')


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_fast_path_equals_rfc8785(value: object) -> None:
    text = json.dumps(value)
    assert canon(text) == rfc8785.dumps(json.loads(text))


@pytest.mark.parametrize(
    ("spelling", "instant"),
    [
        ("2026-01-01T00:00:00.120+00:00", "2026-01-01T00:00:00.12Z"),
        ("2026-01-01T02:00:00.12Z", "2026-01-01T02:00:00.12Z"),
        ("2026-01-01T02:00:00+02:00", "2026-01-01T00:00:00Z"),
        ("2025-12-31T23:30:00.000000001-01:00", "2026-01-01T00:30:00.000000001Z"),
        ("2026-03-01T11:00Z", "2026-03-01T11:00:00Z"),  # Java prints no seconds when they are zero
        # not valid for Python or JavaScript: kept (and a verifier reports the event malformed)
        ("2026-01-01T00:00:00Z[Europe/Paris]", "2026-01-01T00:00:00Z[Europe/Paris]"),
        ("2026-01-01T00:00:00+99:00", "2026-01-01T00:00:00+99:00"),
        ("not a time", "not a time"),
        # outside what datetime can hold once shifted to UTC: the spelling itself is signed
        ("0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00+01:00"),
        ("9999-12-31T23:30:00-01:00", "9999-12-31T23:30:00-01:00"),
    ],
)
def test_instants(spelling: str, instant: str) -> None:
    assert normalize_instant(spelling) == instant


def test_projection_drops_only_what_an_honest_round_trip_changes() -> None:
    event = {
        "eventTime": "2026-01-01T00:00:00.000+00:00",
        "run": {
            "runId": "r",
            "facets": {
                "provlineage_signature": {"signature": "x"},
                "nominalTime": {"nominalStartTime": "2026-01-01T01:00:00+01:00", "_producer": "p"},
                "parent": {
                    "run": {"runId": "p", "extra": 1},
                    "job": {"namespace": "n", "name": "j", "x": 2},
                    "root": {"a": 1},
                },
                "custom": {"k": None, "v": [1, None]},
            },
        },
        "job": {"namespace": "n", "name": "j"},
    }
    view = project_event(event)
    facets = view["run"]["facets"]
    assert "provlineage_signature" not in facets
    assert view["eventTime"] == "2026-01-01T00:00:00Z"
    assert facets["nominalTime"] == {"nominalStartTime": "2026-01-01T00:00:00Z", "_producer": "p"}
    assert facets["parent"] == {"run": {"runId": "p"}, "job": {"namespace": "n", "name": "j"}, "root": {"a": 1}}
    assert facets["custom"] == {"v": [1, None]}
    assert "provlineage_signature" in event["run"]["facets"], "the input event must not be modified"


# --- the number rule: exact values (issue #10 item 8, issue #9's 1e21) ------------------------------------------
def jackson_spellings(value: float) -> list[str]:
    """Spellings of ``value``'s shortest decimal that keep its exact value, as Java, jsonb and Python print them."""
    exact = Decimal(repr(value))
    sign, digits, exponent = exact.normalize().as_tuple()
    mantissa = "".join(map(str, digits))
    scientific_exponent = len(mantissa) + exponent - 1
    java = f"{'-' if sign else ''}{mantissa[0]}.{mantissa[1:] or '0'}E{scientific_exponent}"  # Double.toString
    spellings = [repr(value), java, java.replace("E", "e+") if scientific_exponent >= 0 else java.lower()]
    if -400 < exponent < 400:
        spellings.append(f"{exact:f}")  # jsonb's numeric output: plain digits, no exponent
        spellings.append(f"{exact:f}" + ("" if "." in f"{exact:f}" else ".") + "000")  # trailing zeros
    return spellings


any_double = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(
    [5e-324, -5e-324, 2.2250738585072014e-308, 1e21, 1e22, 1.7976931348623157e308, -0.0, 2.0**53, 2.0**60, 1e-7]
)


@settings(max_examples=700, deadline=None)
@given(any_double)
def test_every_double_is_plain_jcs_and_survives_every_exact_respelling(value: float) -> None:
    """Over the whole double range (subnormals, -0.0, >= 1e21): JCS's spelling, whatever exact spelling came in."""
    expected = rfc8785.dumps(value)
    for spelling in jackson_spellings(value):
        assert canon(spelling) == expected, spelling


@settings(max_examples=700, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False), st.decimals(allow_nan=False, allow_infinity=False))
def test_canonical_spelling_denotes_exactly_the_value(a: Decimal, b: Decimal) -> None:
    """Each canonical spelling means exactly its value: equal values share it, different values never do."""
    text_a, text_b = str(a), str(b)
    canon_a, canon_b = canon(text_a), canon(text_b)
    assert Decimal(canon_a.decode()) == a
    assert (canon_a == canon_b) == (a == b)


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=-(10**400), max_value=10**400))
def test_big_integers_and_their_float_respellings(number: int) -> None:
    canonical = canon(str(number))
    assert Decimal(canonical.decode()) == number
    assert canon(f"{number}.0") == canon(f"{number}e0") == canon(f"{number * 10}E-1") == canonical


def test_the_issue_examples() -> None:
    # 9007199254740993.0 is not 9007199254740992 (a double parser would round it there)
    assert canon("9007199254740993.0") != canon("9007199254740992")
    # ... and exact re-spellings of 9007199254740993 are that number
    assert (
        canon("9007199254740993.0") == canon("9.007199254740993E15") == canon("9007199254740993") == b"9007199254740993"
    )
    # 1e21 as Python writes it, as Java prints it and as jsonb stores it: one number
    assert canon("1e+21") == canon("1.0E21") == canon("1000000000000000000000") == canon("1e21") == b"1e+21"
    # -0.0 is 0, as RFC 8785 writes it
    assert canon("-0.0") == canon("-0") == canon("0E-5") == b"0"
    # a double's shortest decimal vs the double's exact binary value: different numbers
    assert canon("0.1") == b"0.1"
    assert canon("0.1000000000000000055511151231257827021181583404541015625") != b"0.1"
    # an integer that is exactly 2**60 vs the shortest decimal of the double 2**60: different numbers
    assert canon("1152921504606846976") == b"1152921504606846976"
    assert canon("1152921504606847000") == canon("1.152921504606847E18") == b"1152921504606847000"
