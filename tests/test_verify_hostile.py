"""Hostile and damaged input: every record gets a finding, and only strict, valid, unambiguous JSON verifies.

Issue #10 items 4, 6 and 7: a torn last line is TORN wherever it was cut; deep nesting or a malformed checkpoint
never stops ``verify`` with a traceback; duplicate keys, ``NaN`` and times that Python or JavaScript cannot parse
never verify.
"""

from __future__ import annotations

import contextlib
import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provlineage._internal.canonical import loads, prepare, project_event
from provlineage.keys import Keyring
from provlineage.signature_check import Status
from provlineage.signer import KeySigner
from provlineage.signing import ChainLink, sign_event_line
from provlineage.verification import verify_files

SIGNATURE = '"provlineage_signature":{'


def event(sequence: int = 1, **changes: Any) -> dict[str, Any]:
    base = {
        "eventType": "COMPLETE",
        "eventTime": f"2026-01-01T00:00:{sequence % 60:02d}.5Z",
        "producer": "https://example.com",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": f"01900000-0000-7000-8000-{sequence:012d}", "facets": {"m": {"acc": 0.5, "n": 10}}},
        "job": {"namespace": "ns", "name": "job"},
    }
    base.update(changes)
    return base


def signed_lines(key_dir: Path, events: list[dict[str, Any]], stream: str = "host/s") -> list[str]:
    signer = KeySigner.from_file(key_dir / "private_key.pem")
    lines, previous = [], None
    for sequence, item in enumerate(events, 1):
        signed = sign_event_line(prepare(item), signer, chain=ChainLink(stream, sequence, previous))
        previous = signed.digest
        lines.append(signed.text)
    return lines


def write(path: Path, lines: list[str], *, last_newline: bool = True) -> Path:
    path.write_text("\n".join(lines) + ("\n" if last_newline else ""), encoding="utf-8")
    return path


@pytest.fixture
def keyring(key_dir: Path) -> Keyring:
    return Keyring.from_files([key_dir / "public_key.pem"])


def statuses(path: Path, keyring: Keyring) -> list[Status]:
    return [record.status for record in verify_files([path], keyring).records]


# --- item 4: a torn last line is TORN wherever the cut falls ----------------------------------------------------
def test_torn_last_line_is_torn_at_every_cut(tmp_path: Path, key_dir: Path, keyring: Keyring) -> None:
    facets = {"x": {"s": 'a"\\b\u00e9', "t": True, "f": [-1.5e-7, None, False], "o": {}}}
    lines = signed_lines(key_dir, [event(1), event(2, run={**event(2)["run"], "facets": facets})])
    last = lines[1]
    log = tmp_path / "log.jsonl"
    wrong = []
    for cut in range(1, len(last)):
        write(log, [lines[0], last[:cut]], last_newline=False)
        found = statuses(log, keyring)
        if found != [Status.VALID, Status.TORN]:
            wrong.append((cut, last[:cut][-12:], found[-1].value))
    assert not wrong, f"{len(wrong)} of {len(last) - 1} cuts not TORN, e.g. {wrong[:3]}"


def test_a_line_that_no_completion_makes_json_stays_malformed(tmp_path: Path, keyring: Keyring) -> None:
    for text in ('{"a":01', '{"a":tru e', '{"a" 1', '{"a":[1,]', "[1, 2", "not json", '{"a":"\\x"'):
        assert statuses(write(tmp_path / "log.jsonl", [text], last_newline=False), keyring) == [Status.MALFORMED], text


# --- item 6: nothing stops verify -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("depth", "status"), [(50, Status.VALID), (1500, Status.MALFORMED), (100_000, Status.MALFORMED)]
)
def test_deep_nesting_in_the_unsigned_facet_is_a_finding(
    tmp_path: Path, key_dir: Path, keyring: Keyring, depth: int, status: Status
) -> None:
    """An extra member of the facet is not signed (50 levels verify); nesting no parser here can read is malformed."""
    line, other = signed_lines(key_dir, [event(1), event(2)])
    nested = line.replace(SIGNATURE, SIGNATURE + '"x":' + "[" * depth + "]" * depth + ",", 1)
    log = write(tmp_path / "log.jsonl", [nested, other])
    found = verify_files([log], keyring).records
    assert [record.status for record in found] == [status, Status.VALID]
    if status is Status.VALID:
        return
    assert "nested too deeply" in found[0].reason
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from provlineage.cli import main; main()",
            "verify",
            str(log),
            "--public-key",
            str(key_dir / "public_key.pem"),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    assert json.loads(result.stdout)["counts"]["malformed"] == 1


def test_deep_nesting_in_the_signed_event_is_a_finding(tmp_path: Path, key_dir: Path, keyring: Keyring) -> None:
    line = signed_lines(key_dir, [event()])[0]
    nested = line.replace('"m":{', '"m":{"deep":' + "[" * 5000 + "]" * 5000 + ",", 1)
    assert statuses(write(tmp_path / "log.jsonl", [nested]), keyring) == [Status.MALFORMED]


# --- item 7: strict JSON and a valid event, or it does not verify -----------------------------------------------
def test_duplicate_run_member_does_not_verify(tmp_path: Path, key_dir: Path, keyring: Keyring) -> None:
    """``{"run": {forged}, ..., "run": {signed}}``: last-wins parsers read the signed run, simdjson the forged one."""
    line = signed_lines(key_dir, [event()])[0]
    signed = json.loads(line)
    forged = json.dumps({"runId": signed["run"]["runId"], "facets": {"m": {"acc": 0.99, "n": 10}}})
    attacked = '{"run":' + forged + "," + line[1:]
    assert json.loads(attacked)["run"] == signed["run"]  # what a last-wins parser sees
    found = verify_files([write(tmp_path / "log.jsonl", [attacked])], keyring).records[0]
    assert found.status is Status.MALFORMED and "twice" in found.reason


@pytest.mark.parametrize(
    "member",
    ['"keyId":"x",', '"signature":"x",', '"digest":"sha256:00",', '"note":{"a":1,"b":{"c":2,"c":3}},'],
)
def test_duplicate_key_in_the_signature_facet_does_not_verify(
    tmp_path: Path, key_dir: Path, keyring: Keyring, member: str
) -> None:
    line = signed_lines(key_dir, [event()])[0]
    attacked = line.replace(SIGNATURE, SIGNATURE + member, 1)
    assert statuses(write(tmp_path / "log.jsonl", [attacked]), keyring) == [Status.MALFORMED]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_in_the_signature_facet_does_not_verify(
    tmp_path: Path, key_dir: Path, keyring: Keyring, constant: str
) -> None:
    line = signed_lines(key_dir, [event()])[0]
    attacked = line.replace(SIGNATURE, SIGNATURE + f'"note":{constant},', 1)
    assert statuses(write(tmp_path / "log.jsonl", [attacked]), keyring) == [Status.MALFORMED]


@pytest.mark.parametrize(
    "spelling",
    [
        "2026-01-05T03:00:01.5+99:00",  # the same instant as 2026-01-01T00:00:01.5Z, but no parser reads it
        "2026-01-01T00:00:01.5Z[Europe/Paris]",
        "2026-01-01T01:00:01.5+01:00[Europe/Paris]",
        "2026-01-01T00:00:01,5Z",
        "2026-01-01T00:00:01.5z",
    ],
)
def test_eventtime_respelled_beyond_what_parsers_read_does_not_verify(
    tmp_path: Path, key_dir: Path, keyring: Keyring, spelling: str
) -> None:
    line = signed_lines(key_dir, [event()])[0]
    attacked = line.replace('"eventTime":"2026-01-01T00:00:01.5Z"', f'"eventTime":"{spelling}"', 1)
    assert attacked != line
    found = verify_files([write(tmp_path / "log.jsonl", [attacked])], keyring).records[0]
    assert found.status is not Status.VALID and not found.status.verified, found


def test_eventtime_respelled_as_the_same_instant_still_verifies(
    tmp_path: Path, key_dir: Path, keyring: Keyring
) -> None:
    line = signed_lines(key_dir, [event()])[0]
    for spelling in ("2026-01-01T01:00:01.500+01:00", "2025-12-31T23:00:01.5-01:00", "2026-01-01t00:00:01.50Z"):
        respelled = line.replace('"eventTime":"2026-01-01T00:00:01.5Z"', f'"eventTime":"{spelling}"', 1)
        assert statuses(write(tmp_path / "log.jsonl", [respelled]), keyring) == [Status.VALID], spelling


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"eventTime": "2026-01-01T00:00:00+99:00"}, "eventTime"),
        ({"eventTime": "yesterday"}, "eventTime"),
        ({"eventType": "DONE"}, "eventType"),
        ({"producer": None}, "producer"),
        ({"run": {"runId": "not-a-uuid"}}, "runId"),
        ({"job": {"namespace": "ns"}}, "name"),
        ({"inputs": [{"namespace": "ns"}]}, "inputs[0]"),
    ],
)
def test_signed_but_not_an_openlineage_event_does_not_verify(
    tmp_path: Path, key_dir: Path, keyring: Keyring, change: dict[str, Any], reason: str
) -> None:
    """Even the key holder cannot make an event verify that other tools would read differently or not at all."""
    item = event()
    item.update(change)
    item = {key: value for key, value in item.items() if value is not None}
    found = verify_files([write(tmp_path / "log.jsonl", signed_lines(key_dir, [item]))], keyring).records[0]
    assert found.status is Status.MALFORMED and reason in found.reason, found


# --- fuzzing: hostile lines never stop verify -------------------------------------------------------------------
_ATOMS = ["{", "}", "[", "]", ",", ":", '"', "\\", "NaN", "1e999", "-0", "null", '"run":', SIGNATURE, "\u2028", "\x00"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 40), st.lists(st.sampled_from(_ATOMS), max_size=6)),
        min_size=1,
        max_size=4,
    ),
    nesting=st.integers(0, 3000),
)
def test_mutated_lines_always_get_a_finding(
    tmp_path: Path, key_dir: Path, keyring: Keyring, edits: list[tuple[int, int, list[str]]], nesting: int
) -> None:
    original = signed_lines(key_dir, [event(1, run={**event(1)["run"], "facets": {"m": {"v": [1, 2.5, "s"]}}})])[0]
    other = signed_lines(key_dir, [event(2)], stream="host/other")[0]
    line = original
    for offset, removed, inserted in edits:
        at = offset % (len(line) + 1)
        line = line[:at] + "".join(inserted) + line[at + removed :]
    if nesting:
        line = line.replace(SIGNATURE, SIGNATURE + '"n":' + "{" * nesting, 1)
    line = line.replace("\n", " ").replace("\r", " ")
    report = verify_files([write(tmp_path / "fuzz.jsonl", [line, other])], keyring)
    assert len(report.records) == 2 and report.records[1].status is Status.VALID
    mutated = report.records[0]
    assert isinstance(mutated.status, Status) and (mutated.status is Status.VALID or mutated.reason)
    if mutated.status.verified:  # only a change outside the signed content may still verify
        assert project_event(loads(line)) == project_event(loads(original))


_FIELD_VALUES = st.sampled_from(
    [
        None,
        "",
        "x",
        1,
        1.5,
        True,
        [],
        {},
        [{}],
        "2026-01-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "START",
        "DONE",
        "01900000-0000-7000-8000-000000000001",
        "01900000-0000-7000-8000-00000000000g",
        {"namespace": "n", "name": "d"},
    ]
)
_PLACES = [
    ("eventTime",),
    ("eventType",),
    ("producer",),
    ("schemaURL",),
    ("run",),
    ("run", "runId"),
    ("run", "facets"),
    ("run", "facets", "nominalTime"),
    ("run", "facets", "nominalTime", "nominalStartTime"),
    ("run", "facets", "nominalTime", "nominalEndTime"),
    ("job",),
    ("job", "name"),
    ("job", "namespace"),
    ("job", "facets"),
    ("inputs",),
    ("outputs",),
    ("inputs", 0),
    ("inputs", 0, "name"),
    ("inputs", 0, "facets"),
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_PLACES), _FIELD_VALUES), max_size=3))
def test_the_quick_shape_check_agrees_with_the_full_one(changes: list[tuple[tuple[Any, ...], Any]]) -> None:
    """The quick path's shape check (msgspec, typed) gives the verdict and words of the full one on any event."""
    from provlineage.verification.shape import event_problem, line_problem

    item: Any = event()
    item["run"]["facets"]["nominalTime"] = {"nominalStartTime": "2026-01-01T00:00:00Z"}
    item["inputs"] = [{"namespace": "n", "name": "d", "facets": {}}]
    for place, value in changes:
        target = item
        for step in place[:-1]:
            try:
                target = target[step]
            except (KeyError, IndexError, TypeError):
                break
        else:
            with contextlib.suppress(IndexError, TypeError):
                target[place[-1]] = copy.deepcopy(value)
    assert line_problem(json.dumps(item)) == event_problem(item)


def test_signature_member_moved_out_of_run_facets_behind_an_escaped_key(
    tmp_path: Path, key_dir: Path, keyring: Keyring
) -> None:
    """The genuine member moved into job.facets, an escaped copy in run.facets: the job gains an unsigned facet."""
    line = signed_lines(key_dir, [event()])[0]
    signed = json.loads(line)
    facet_text = json.dumps(signed["run"]["facets"]["provlineage_signature"], separators=(",", ":"), sort_keys=True)
    member = f'"provlineage_signature":{facet_text}'
    assert member in line
    moved = line.replace("," + member, "", 1).replace(member + ",", "", 1)
    moved = moved.replace('"job":{', '"job":{"facets":{' + member + "},", 1)
    moved = moved.replace('"run":{"facets":{', '"run":{"facets":{"provlineage\\u005fsignature":' + facet_text + ",", 1)
    parsed = json.loads(moved)
    assert parsed["job"]["facets"]["provlineage_signature"] == parsed["run"]["facets"]["provlineage_signature"]
    found = verify_files([write(tmp_path / "log.jsonl", [moved])], keyring).records[0]
    assert not found.status.verified, found


def test_a_huge_signed_sequence_number_is_a_gap_finding_not_a_hang(
    tmp_path: Path, key_dir: Path, keyring: Keyring
) -> None:
    signer = KeySigner.from_file(key_dir / "private_key.pem")
    first = sign_event_line(prepare(event(1)), signer, chain=ChainLink("host/s", 1, None))
    far = sign_event_line(prepare(event(2)), signer, chain=ChainLink("host/s", 10**15, first.digest))
    report = verify_files([write(tmp_path / "log.jsonl", [first.text, far.text])], keyring)
    assert [finding.detail for finding in report.chain if finding.kind == "gap"] == [
        f"missing sequence 2-{10**15 - 1} of {10**15} (deleted or never delivered)"
    ]
