"""Verifying whole logs: chain-transitive authentication, the quick path, parallel checking, and chain findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provlineage._internal.canonical import prepare
from provlineage.keys import Keyring
from provlineage.signature_check import Status
from provlineage.signer import KeySigner
from provlineage.signing import ChainLink, sign_event, signed_event_text
from provlineage.verification import check_lines, read_log, verify_files, verify_records


def signed_events(key_dir: Path, count: int, stream: str = "host/s") -> list[dict]:
    signer = KeySigner.from_file(key_dir / "private_key.pem")
    events, previous = [], None
    for sequence in range(1, count + 1):
        event = prepare(
            {
                "eventType": "COMPLETE",
                "eventTime": f"2026-01-01T00:00:{sequence % 60:02d}.5+01:00",
                "producer": "https://example.com",
                "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
                "run": {"runId": f"01900000-0000-7000-8000-{sequence:012d}", "facets": {"m": {"acc": 0.5, "n": 10.0}}},
                "job": {"namespace": "ns", "name": "job"},
            }
        )
        previous = sign_event(event, signer, chain=ChainLink(stream, sequence, previous))
        events.append(event)
    return events


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


@pytest.fixture
def keyring(key_dir: Path) -> Keyring:
    return Keyring.from_files([key_dir / "public_key.pem"])


def test_one_signature_check_authenticates_a_whole_stream(tmp_path: Path, key_dir: Path, keyring: Keyring) -> None:
    log = write(tmp_path / "log.jsonl", [signed_event_text(e) for e in signed_events(key_dir, 20)])
    report = verify_files([log], keyring)
    assert report.ok
    assert [r.authenticated_by for r in report.records] == ["chain"] * 19 + ["signature"]
    every = verify_files([log], keyring, every_signature=True)
    assert every.ok and {r.authenticated_by for r in every.records} == {"signature"}


def test_tampered_middle_event_fails_and_neighbours_stay_valid(tmp_path: Path, key_dir: Path, keyring: Keyring) -> None:
    events = signed_events(key_dir, 10)
    events[4]["run"]["facets"]["m"]["acc"] = 0.99
    log = write(tmp_path / "log.jsonl", [signed_event_text(e) for e in events])
    report = verify_files([log], keyring)
    statuses = [r.status for r in report.records]
    assert statuses[4] is Status.FAILED
    assert statuses[:4] + statuses[5:] == [Status.VALID] * 9
    assert not report.ok


def test_corrupted_signature_of_a_chained_record_needs_every_signature(
    tmp_path: Path, key_dir: Path, keyring: Keyring
) -> None:
    """The content is proven by the successor's signed link; only --every-signature checks each record's own."""
    events = signed_events(key_dir, 5)
    events[1]["run"]["facets"]["provlineage_signature"]["signature"] = "A" * 88
    log = write(tmp_path / "log.jsonl", [signed_event_text(e) for e in events])
    assert verify_files([log], keyring).ok
    every = verify_files([log], keyring, every_signature=True)
    assert [r.status for r in every.records][1] is Status.FAILED


@pytest.mark.parametrize(
    ("edit", "kind"),
    [
        (lambda lines: lines[:3] + lines[4:], "gap"),
        (lambda lines: [lines[0], lines[2], lines[1], *lines[3:]], "out-of-order"),
        (lambda lines: [*lines[:3], lines[2], *lines[3:]], "duplicate"),
    ],
    ids=["deletion", "reordering", "replay"],
)
def test_chain_findings(tmp_path: Path, key_dir: Path, keyring: Keyring, edit, kind: str) -> None:
    lines = [signed_event_text(e) for e in signed_events(key_dir, 6)]
    report = verify_files([write(tmp_path / "log.jsonl", edit(lines))], keyring)
    assert kind in {finding.kind for finding in report.chain}
    assert not report.ok


def test_torn_line_in_the_middle_is_reported_as_torn(tmp_path: Path, key_dir: Path, keyring: Keyring) -> None:
    lines = [signed_event_text(e) for e in signed_events(key_dir, 4)]
    lines[2] = lines[2][: len(lines[2]) // 2]
    report = verify_files([write(tmp_path / "log.jsonl", lines)], keyring)
    assert [r.status for r in report.records] == [Status.VALID, Status.VALID, Status.TORN, Status.VALID]


def test_reserialized_lines_still_verify(tmp_path: Path, key_dir: Path, keyring: Keyring) -> None:
    """Lines not in canonical form (another writer, pretty-printing, Java number spelling) take the full path."""
    events = signed_events(key_dir, 5)
    lines = [json.dumps(e, indent=None, sort_keys=False).replace('"n": 10', '"n": 10.0') for e in events]
    report = verify_files([write(tmp_path / "log.jsonl", lines)], keyring)
    assert report.ok, report.to_json()


def test_parallel_and_serial_agree(tmp_path: Path, key_dir: Path, keyring: Keyring) -> None:
    events = signed_events(key_dir, 400)
    events[123]["job"]["name"] = "tampered"
    lines = [signed_event_text(e) for e in events]
    lines[300] = "not json"
    log = read_log(write(tmp_path / "log.jsonl", lines))
    serial = check_lines(log, keyring, workers=1)
    parallel = check_lines(log, keyring, workers=2)
    assert [(r.line, r.status, r.digest) for r in serial] == [(r.line, r.status, r.digest) for r in parallel]
    assert serial[123].status is Status.FAILED and serial[300].status is Status.MALFORMED


def test_forked_pooled_and_failed_workers_agree_with_serial(
    tmp_path: Path, key_dir: Path, keyring: Keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forked children, the spawn pool (used while other threads run) and a child that dies give the serial answer."""
    from provlineage._internal import forked as forking

    events = signed_events(key_dir, 90)
    events[40]["job"]["name"] = "tampered"
    log = read_log(write(tmp_path / "log.jsonl", [signed_event_text(e) for e in events]))
    serial = [(r.line, r.status, r.digest) for r in check_lines(log, keyring, workers=1)]
    forked = check_lines(log, keyring, workers=3)
    assert [(r.line, r.status, r.digest) for r in forked] == serial  # a range's last event: by signature
    monkeypatch.setattr(forking.threading, "active_count", lambda: 2)
    pooled = check_lines(log, keyring, workers=2)
    assert [(r.line, r.status, r.digest) for r in pooled] == serial
    monkeypatch.undo()
    import pickle

    monkeypatch.setattr(pickle, "dumps", lambda *_, **__: 1 / 0)  # every child fails
    assert [(r.line, r.status, r.digest) for r in check_lines(log, keyring, workers=3)] == serial


def test_records_from_an_unordered_source_are_checked_by_sequence(key_dir: Path, keyring: Keyring) -> None:
    from provlineage._internal.canonical import loads

    events = signed_events(key_dir, 6)
    shuffled = [events[i] for i in (3, 0, 5, 1, 4, 2)]
    records = [("marquez", i, loads(json.dumps(e))) for i, e in enumerate(shuffled)]
    report = verify_records(records, keyring)
    assert report.ok
    del records[0]  # sequence 4 (deleting the last one would be truncation: see checkpoints)
    report = verify_records(records, keyring)
    assert [f.kind for f in report.chain] == ["gap"]


def _moved_signature_member(line: str, position: int) -> str:
    """``line`` with its signature member cut out and spliced in again at ``position`` of the remaining text."""
    start = line.index('"provlineage_signature":')
    _facet, end = json.JSONDecoder().raw_decode(line, start + len('"provlineage_signature":'))
    member = line[start:end]
    view = line[: start - 1] + line[end:] if line[start - 1] == "," else line[:start] + line[end + 1 :]
    assert json.loads(view)["run"]["facets"].get("provlineage_signature") is None
    return view[:position] + member + "," + view[position:]


@pytest.mark.parametrize("keep_events", [False, True])
def test_signature_member_moved_into_a_string_or_an_escape_is_rejected(
    tmp_path: Path, key_dir: Path, keyring: Keyring, keep_events: bool
) -> None:
    """Cutting the moved member out leaves the signed text, but the line is not JSON or means something else."""
    event = signed_events(key_dir, 1)[0]
    del event["run"]["facets"]["provlineage_signature"]
    event["run"]["facets"]["hp"] = {'k"m': "lr=0.1", "note": "hello world"}
    sign_event(event, KeySigner.from_file(key_dir / "private_key.pem"), chain=ChainLink("host/s", 1, None))
    line = signed_event_text(event)
    assert verify_files([write(tmp_path / "ok.jsonl", [line])], keyring).ok
    inside_string = _moved_signature_member(line, line.index("hello") + 2)
    # splits the \" escape: the key k"m becomes m, and a new key k"provlineage_signature appears
    split_escape = _moved_signature_member(line, line.index('k\\"m') + 2)
    assert json.loads(split_escape)["run"]["facets"]["hp"]["m"] == "lr=0.1"
    # valid JSON, but the uncovered facet now sits in job.facets, where a reader takes it for signed content
    other_object = _moved_signature_member(line, line.index('"job":{') + len('"job":{'))
    assert "provlineage_signature" in json.loads(other_object)["job"]
    for name, forged in [("string", inside_string), ("escape", split_escape), ("object", other_object)]:
        report = verify_files([write(tmp_path / f"{name}.jsonl", [forged])], keyring, keep_events=keep_events)
        assert not report.ok, name
        assert report.records[0].status in (Status.MALFORMED, Status.UNSIGNED), (name, report.records[0])


def test_deeply_nested_line_is_malformed_not_a_crash(tmp_path: Path, keyring: Keyring) -> None:
    line = '{"run":{"facets":{"x":' + "[" * 100_000 + "]" * 100_000 + '}},"job":{}}'
    report = verify_files([write(tmp_path / "log.jsonl", [line])], keyring)
    assert report.records[0].status is Status.MALFORMED
    assert "nested too deeply" in report.records[0].reason


@pytest.mark.parametrize(
    ("facets", "quick"),
    [
        ({}, True),
        ({"a": {"x": [1, {"y": 2}]}, "zz": {"c": "[{"}}, True),
        ({"a": {"x": [1, {"y": "}"}]}}, False),  # a bracket inside a string before the member: full check
    ],
)
def test_lines_provlineage_writes_take_the_quick_path(
    tmp_path: Path, key_dir: Path, keyring: Keyring, facets: dict, quick: bool
) -> None:
    """The quick path proves where the signature member sits without parsing; honest lines must pass that proof."""
    from provlineage.signature_check import inspect_signed_line

    event = prepare(
        {
            "eventType": "COMPLETE",
            "eventTime": "2026-01-01T00:00:00Z",
            "producer": "https://example.com",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {"runId": "01900000-0000-7000-8000-000000000001", "facets": facets},
            "job": {"namespace": "ns", "name": "job", "facets": {"run": {"facets": {}}}},
        }
    )
    sign_event(event, KeySigner.from_file(key_dir / "private_key.pem"), chain=ChainLink("host/s", 1, None))
    line = signed_event_text(event)
    pending = inspect_signed_line(line, keyring)
    assert (pending is not None) is quick
    if pending is not None:
        assert pending.by_signature().status is Status.VALID
    assert verify_files([write(tmp_path / "log.jsonl", [line])], keyring).ok
