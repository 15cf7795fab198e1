"""Which timestamps count as instants: exactly those both Python and JavaScript read (issue #10 item 7).

``is_instant`` is checked against the two parsers themselves, Python 3.11's ``datetime.fromisoformat`` in process
and JavaScript's ``Date.parse`` in a real Node.js, over generated spellings near the edges of the grammar.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provlineage._internal.instants import is_instant, normalize_instant

from fixtures.prerequisites import missing_programs, skip_or_fail

_PARTS = st.tuples(
    st.sampled_from(["2026", "0001", "9999", "0000", "1970", "2024", "26"]),
    st.sampled_from(["01", "02", "12", "13", "00", "1"]),
    st.sampled_from(["01", "28", "29", "30", "31", "32", "00"]),
    st.sampled_from(["T", "t", " ", "_"]),
    st.sampled_from(["00", "23", "24", "9"]),
    st.sampled_from([":00", ":59", ":60", ""]),
    st.sampled_from([":00", ":59", ":60", "", ":5"]),
    st.sampled_from(["", ".1", ".123456", ".123456789", ".1234567891", ",5", "."]),
    st.sampled_from(
        [
            "Z",
            "z",
            "+00:00",
            "-00:00",
            "+23:59",
            "+24:00",
            "+99:00",
            "+01",
            "+0100",
            "",
            "Z[UTC]",
            "+01:00[Europe/Paris]",
        ]
    ),
)


def spelling(parts: tuple[str, ...]) -> str:
    year, month, day, separator, hour, minute, second, fraction, zone = parts
    return f"{year}-{month}-{day}{separator}{hour}{minute}{second}{fraction}{zone}"


def python_reads(text: str) -> bool:
    if sys.version_info < (3, 11):
        pytest.skip("datetime.fromisoformat reads RFC 3339 from Python 3.11")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return parsed.tzinfo is not None


@settings(max_examples=600, deadline=None)
@given(_PARTS)
def test_an_instant_is_one_python_reads_with_its_offset(parts: tuple[str, ...]) -> None:
    text = spelling(parts)
    if is_instant(text):
        assert python_reads(text), text
        assert normalize_instant(text).endswith("Z") or normalize_instant(text) == text


def test_an_instant_is_one_javascript_reads_and_python_agrees_on_the_moment() -> None:
    if missing_programs("node"):
        skip_or_fail("Node.js (`node`) is not installed; it is the JavaScript parser this test compares against")
    import random

    rng = random.Random(7)
    corpus = sorted({spelling(tuple(rng.choice(options) for options in _OPTIONS)) for _ in range(20_000)})
    script = (
        "const t=JSON.parse(require('fs').readFileSync(0,'utf8'));console.log(JSON.stringify(t.map(s=>Date.parse(s))))"
    )
    result = subprocess.run(
        ["node", "-e", script], input=json.dumps(corpus), capture_output=True, text=True, check=True
    )
    millis = json.loads(result.stdout)
    valid = [text for text in corpus if is_instant(text)]
    assert len(valid) > 200
    for text, moment in zip(corpus, millis, strict=True):
        if not is_instant(text):
            continue
        assert moment is not None, f"JavaScript cannot read {text!r}"
        python = dt.datetime.fromisoformat(text)
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
        assert (python - epoch) // dt.timedelta(milliseconds=1) == moment, text


_OPTIONS = [
    ["2026", "0001", "9999", "0000", "1970", "2024"],
    ["01", "02", "12", "13", "00"],
    ["01", "28", "29", "30", "31", "32"],
    ["T", "t", " "],
    ["00", "23", "24"],
    [":00", ":59", ":60"],
    [":00", ":59", ":60", ""],
    ["", ".1", ".123", ".123456789", ",5"],
    ["Z", "z", "+00:00", "-00:00", "+23:59", "+24:00", "+99:00", "+0100", "", "Z[UTC]"],
]
