"""Withholding a value from a stored signed log: the secret is gone, everything else still verifies (#11 item 4)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from provlineage._internal import commitments
from provlineage._internal.canonical import loads, prepare
from provlineage.keys import Keyring, generate_private_key
from provlineage.signature_check import Status, check_event
from provlineage.signer import KeySigner
from provlineage.signing import ChainLink, sign_event_line
from provlineage.verification import verify_files

CLI = [sys.executable, "-c", "from provlineage.cli import main; main()"]
SECRET = "postgresql://app:S3cr3t-pw@db:5432/prod"
POINTER = "/run/facets/provlineage_hyperparameters/parameters/db"


def event(run_number: int, parameters: dict[str, Any]) -> dict[str, Any]:
    return prepare(
        {
            "eventType": "COMPLETE",
            "eventTime": "2026-11-30T10:00:00Z",
            "producer": "https://example.com/producer",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {
                "runId": f"01900000-0000-7000-8000-{run_number:012d}",
                "facets": {
                    "provlineage_hyperparameters": {
                        "_producer": "https://example.com/producer",
                        "_schemaURL": "https://provlineage.github.io/facets/1-0-0/HyperparametersRunFacet.json",
                        "parameters": parameters,
                        "redactedKeys": [],
                    }
                },
            },
            "job": {"namespace": "ml", "name": "train"},
            "inputs": [],
            "outputs": [],
        }
    )


@pytest.fixture(scope="module")
def signer() -> KeySigner:
    return KeySigner(generate_private_key("ed25519"))


@pytest.fixture(scope="module")
def keyring(signer: KeySigner) -> Keyring:
    return Keyring([signer._key.public_key()])


@pytest.fixture
def log(tmp_path: Path, signer: KeySigner) -> Path:
    """Three chained events; the middle one recorded a database URL with its password."""
    path = tmp_path / "lineage.jsonl"
    previous = None
    lines = []
    for number, parameters in enumerate(
        [{"lr": 0.1}, {"lr": 0.2, "db": SECRET, "layers": [64, 32]}, {"lr": 0.3}], start=1
    ):
        signed = sign_event_line(event(number, parameters), signer, chain=ChainLink("s1", number, previous))
        previous = signed.digest
        lines.append(signed.text)
    path.write_text("\n".join(lines) + "\n")
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, env=os.environ.copy())


def test_every_withholdable_leaf_is_salted_and_the_event_verifies_as_is(signer: KeySigner, keyring: Keyring) -> None:
    signed = event(1, {"lr": 0.2, "db": SECRET, "layers": [64, 32]})
    sign_event_line(signed, signer)
    salts = signed["run"]["facets"]["provlineage_signature"]["salts"]
    assert sorted(salts) == sorted(
        [
            POINTER,
            POINTER.replace("/db", "/lr"),
            POINTER.replace("/db", "/layers/0"),
            POINTER.replace("/db", "/layers/1"),
        ]
    )
    assert check_event(loads(json.dumps(signed)), keyring).status is Status.VALID


def test_withheld_value_is_gone_and_the_log_verifies_with_withheld_reported(
    log: Path, signer: KeySigner, key_dir: Path, tmp_path: Path
) -> None:
    public = tmp_path / "signer.pem"
    from cryptography.hazmat.primitives import serialization

    public.write_bytes(
        signer._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    done = run("withhold", str(log), "--value", "S3cr3t-pw")
    assert done.returncode == 0, done.stderr
    assert f"line 2  run 01900000-0000-7000-8000-000000000002  {POINTER}" in done.stdout
    assert "S3cr3t-pw" not in log.read_text()
    assert not list(tmp_path.glob("*.withhold-tmp"))

    verified = run("verify", str(log), "--public-key", str(public))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"WITHHELD    {log}:2  verified, with 1 value(s) withheld: {POINTER}" in verified.stdout
    assert "RESULT: OK (verified, with 1 value(s) withheld from 1 event(s))" in verified.stdout


def test_withheld_event_still_authenticates_through_the_chain_and_its_own_signature(
    log: Path, keyring: Keyring
) -> None:
    from provlineage.withholding import withhold_in_log

    withhold_in_log(log, pointer=POINTER)
    for every_signature in (False, True):
        report = verify_files([log], keyring, every_signature=every_signature)
        assert [r.status for r in report.records] == [Status.VALID, Status.WITHHELD, Status.VALID]
        assert report.ok and not report.chain


def test_a_change_to_another_value_after_withholding_is_still_caught(log: Path, keyring: Keyring) -> None:
    from provlineage.withholding import withhold_in_log

    withhold_in_log(log, pointer=POINTER)
    lines = log.read_text().splitlines()
    lines[1] = lines[1].replace('"lr":0.2', '"lr":0.9')
    log.write_text("\n".join(lines) + "\n")
    report = verify_files([log], keyring, every_signature=True)
    assert report.records[1].status is Status.FAILED


def test_a_marker_moved_to_another_field_fails(log: Path, keyring: Keyring) -> None:
    """The pointer is inside the commitment, so a withheld marker cannot stand for another field."""
    data = loads(log.read_text().splitlines()[1])
    facet = data["run"]["facets"]["provlineage_signature"]
    parameters = data["run"]["facets"]["provlineage_hyperparameters"]["parameters"]
    moved = copy.deepcopy(data)
    moved_parameters = moved["run"]["facets"]["provlineage_hyperparameters"]["parameters"]
    moved_parameters["lr"] = commitments.marker(POINTER, facet["salts"][POINTER], parameters["db"])
    del moved["run"]["facets"]["provlineage_signature"]["salts"][POINTER.replace("/db", "/lr")]
    assert check_event(moved, keyring).status is Status.FAILED


def test_withholding_a_value_signed_in_clear_is_refused_with_the_fix(log: Path) -> None:
    refused = run("withhold", str(log), "--path", "/job/name")
    assert refused.returncode == 2
    assert refused.stderr.strip().startswith(f"provlineage: error: no withholdable value at /job/name in {log}")
    assert "--list" in refused.stderr
    listed = run("withhold", str(log), "--list")
    assert listed.returncode == 0
    assert POINTER in listed.stdout and "6 withholdable value(s)" in listed.stdout


def test_an_interrupted_withholding_is_named_instead_of_run_twice(log: Path) -> None:
    log.with_name(log.name + ".withhold-tmp").write_text("")
    refused = run("withhold", str(log), "--path", POINTER)
    assert refused.returncode == 2
    assert "was interrupted" in refused.stderr and "mv " in refused.stderr
