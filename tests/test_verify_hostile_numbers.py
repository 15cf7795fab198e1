"""Number spellings in stored events: exact re-spellings verify, value changes do not (issue #10 item 8, #9's 1e21)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from provlineage._internal.canonical import loads, prepare
from provlineage.keys import Keyring
from provlineage.signature_check import Status
from provlineage.signer import KeySigner
from provlineage.signing import sign_event_line
from provlineage.verification import verify_files, verify_records

VALUES = {"big": 9007199254740992, "odd": 2**53 + 1, "huge": 1e21, "tiny": 5e-324, "zero": -0.0, "wide": 2**70}


def signed_line(key_dir: Path, values: dict[str, Any] = VALUES) -> str:
    """One signed event whose run facet ``values`` holds ``values``."""
    event: dict[str, Any] = {
        "eventType": "COMPLETE",
        "eventTime": "2026-01-01T00:00:00Z",
        "producer": "https://example.com",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "01900000-0000-7000-8000-000000000001", "facets": {"values": values}},
        "job": {"namespace": "ns", "name": "job"},
    }
    return sign_event_line(prepare(event), KeySigner.from_file(key_dir / "private_key.pem")).text


@pytest.fixture
def keyring(key_dir: Path) -> Keyring:
    return Keyring.from_files([key_dir / "public_key.pem"])


def test_the_stored_spellings(key_dir: Path) -> None:
    line = signed_line(key_dir)
    expected = '"big":9007199254740992,"huge":1e+21,"odd":9007199254740993,"tiny":5e-324,"wide":1180591620717411303424,"zero":0'
    assert expected in line


@pytest.mark.parametrize(
    ("stored", "respelled"),
    [
        ('"odd":9007199254740993', '"odd":9.007199254740993E15'),
        ('"odd":9007199254740993', '"odd":9007199254740993.000'),
        ('"huge":1e+21', '"huge":1000000000000000000000'),  # PostgreSQL jsonb
        ('"huge":1e+21', '"huge":1.0E21'),  # Jackson
        ('"huge":1e+21', '"huge":1e21'),
        ('"tiny":5e-324', '"tiny":5.0E-324'),
        ('"zero":0', '"zero":-0.0'),
        ('"wide":1180591620717411303424', '"wide":1.180591620717411303424E21'),
        ('"big":9007199254740992', '"big":9007199254740992.0'),
    ],
)
def test_exact_respellings_verify(tmp_path: Path, key_dir: Path, keyring: Keyring, stored: str, respelled: str) -> None:
    line = signed_line(key_dir)
    assert stored in line
    log = tmp_path / "log.jsonl"
    log.write_text(line.replace(stored, respelled) + "\n")
    assert [r.status for r in verify_files([log], keyring).records] == [Status.VALID]
    marquez = verify_records([("marquez", 1, loads(line.replace(stored, respelled)))], keyring)
    assert marquez.ok


@pytest.mark.parametrize(
    ("stored", "changed"),
    [
        ('"big":9007199254740992', '"big":9007199254740993.0'),  # rounds to the same double, but another value
        ('"big":9007199254740992', '"big":9007199254740993'),
        ('"odd":9007199254740993', '"odd":9007199254740992'),
        ('"huge":1e+21', '"huge":1000000000000000000001'),
        ('"wide":1180591620717411303424', '"wide":1180591620717411303425'),
        ('"wide":1180591620717411303424', '"wide":1.1805916207174113e+21'),  # its nearest double's spelling
    ],
)
def test_value_changes_do_not_verify(
    tmp_path: Path, key_dir: Path, keyring: Keyring, stored: str, changed: str
) -> None:
    line = signed_line(key_dir)
    log = tmp_path / "log.jsonl"
    log.write_text(line.replace(stored, changed) + "\n")
    assert [r.status for r in verify_files([log], keyring).records] == [Status.FAILED]
