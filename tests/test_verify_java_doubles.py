"""Doubles a Java store (Marquez) re-printed as other decimals verify as their doubles, and say so.

The re-prints are the ones observed on the real Marquez 0.51.1 (Java 17 and 25) and measured from Java 17's
``Double.toString``; see ``provlineage/_internal/java_doubles.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_verify_hostile_numbers import signed_line as numbers_line

from provlineage._internal.canonical import loads
from provlineage.cli.verify import render_text
from provlineage.keys import Keyring
from provlineage.signature_check import Status
from provlineage.verification import verify_files, verify_records

FLOATS = {
    "e23": 1e23,
    "e25": 1.9400994884341945e25,
    "minsub": 5e-324,
    "big": 7.805246846095452e17,
    "odd": 2.82879384806159e17,
}
OTHERS = {"int": 9007199254740992, "auc": 0.83, "wide": 2**70, "seed": 12345678901234567890}
# (as signed, as the Java store gave it back)
REPRINTS = [
    ('"e23":1e+23', '"e23":99999999999999990000000'),  # Marquez 0.51.1, Java 17
    ('"e25":1.9400994884341945e+25', '"e25":19400994884341944000000000'),  # Marquez 0.51.1, Java 17
    ('"minsub":5e-324', '"minsub":4.9E-324'),  # Marquez 0.51.1, Java 17 and Java 25
    ('"big":780524684609545200', '"big":7.8052468460954522E17'),  # Java 17 Double.toString
    ('"odd":282879384806159000', '"odd":282879384806159008'),  # Marquez 0.51.1, Java 17: the double's exact value
]


def signed_line(key_dir: Path) -> str:
    return numbers_line(key_dir, {**FLOATS, **OTHERS})


@pytest.fixture
def keyring(key_dir: Path) -> Keyring:
    return Keyring.from_files([key_dir / "public_key.pem"])


def reprinted(line: str, pairs: list[tuple[str, str]]) -> str:
    for signed, returned in pairs:
        assert signed in line
        line = line.replace(signed, returned)
    return line


def test_reprinted_doubles_verify_and_are_named(tmp_path: Path, key_dir: Path, keyring: Keyring) -> None:
    text = reprinted(signed_line(key_dir), REPRINTS)
    report = verify_records([("marquez", 1, loads(text))], keyring)
    assert report.ok
    [record] = report.records
    assert record.status is Status.VALID
    assert record.reason.startswith("verified with 5 number(s) read as doubles")
    assert all(f"/run/facets/values/{name}" in record.reason for name in FLOATS)
    assert "NOTE" in render_text(report, "marquez")
    assert report.to_json()["notes"][0]["reason"] == record.reason
    log = tmp_path / "log.jsonl"
    log.write_text(text + "\n")  # the same text in a file: the quick path fails, the full one reads the doubles
    assert [(r.status, r.reason) for r in verify_files([log], keyring).records] == [(Status.VALID, record.reason)]


def test_an_exact_integer_beside_a_reprinted_double(key_dir: Path, keyring: Keyring) -> None:
    """``seed`` could be a double re-printed too (19 digits); the store kept it exact, and that reading is found."""
    text = reprinted(signed_line(key_dir), [('"e23":1e+23', '"e23":99999999999999990000000')])
    assert '"seed":12345678901234567890' in text
    [record] = verify_records([("marquez", 1, loads(text))], keyring).records
    assert record.status is Status.VALID
    assert record.reason.endswith("/run/facets/values/e23")


def test_an_untouched_event_has_no_note(key_dir: Path, keyring: Keyring) -> None:
    report = verify_records([("marquez", 1, loads(signed_line(key_dir)))], keyring)
    assert report.ok and report.records[0].reason == "" and report.notes() == []


@pytest.mark.parametrize(
    ("signed", "changed"),
    [
        ('"int":9007199254740992', '"int":9007199254740993'),  # same double, same digit count: another integer
        ('"int":9007199254740992', '"int":9007199254740993.0'),
        ('"e23":1e+23', '"e23":1.0000000000000001E23'),  # a longer decimal, but of the next double
        ('"auc":0.83', '"auc":0.8300000000000001'),  # another double
        ('"wide":1180591620717411303424', '"wide":1.1805916207174113e+21'),  # the exact integer was signed
        ('"e23":1e+23', '"e23":99999999999999990000001'),  # 23 digits: no double printer writes that
    ],
)
def test_other_values_still_fail(key_dir: Path, keyring: Keyring, signed: str, changed: str) -> None:
    text = reprinted(signed_line(key_dir), [(signed, changed)])
    [record] = verify_records([("marquez", 1, loads(text))], keyring).records
    assert record.status is Status.FAILED, record.reason
