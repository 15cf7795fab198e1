"""Tampering with a file log: deletion, reordering, duplication, truncation (with a signed checkpoint), rewriting."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.serde import Serde
from openlineage.client.transport import get_default_factory
from openlineage.client.uuid import generate_new_uuid

from provlineage._internal.canonical import prepare
from provlineage.checkpoint import (
    apply_checkpoint,
    build_checkpoint,
    compare_with_checkpoint,
    load_checkpoint,
    sign_checkpoint,
    write_checkpoint,
)
from provlineage.cli import cli
from provlineage.errors import ProvlineageError
from provlineage.keys import Keyring, write_key_pair
from provlineage.signer import KeySigner
from provlineage.signing import ChainLink, sign_event_line
from provlineage.verification import Report, verify_files

from fixtures.checkpoints import checkpoint_of, verify_with_checkpoint


def run_event(index: int) -> RunEvent:
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=f"2026-03-01T12:00:{index:02d}Z",
        run=Run(runId=str(generate_new_uuid())),
        job=Job(namespace="ml", name=f"step-{index}"),
        producer="https://example.com/tests",
    )


def emit(log: Path, key_dir: Path, state_dir: Path, indexes: range) -> None:
    transport = get_default_factory().create(
        {
            "type": "provlineage.transport.SigningTransport",
            "private_key": str(key_dir / "private_key.pem"),
            "state_dir": str(state_dir),
            "strict": True,
            "transport": {"type": "provlineage.transport.FileLogTransport", "path": str(log)},
        }
    )
    for index in indexes:
        transport.emit(run_event(index))


@pytest.fixture
def log(tmp_path: Path, key_dir: Path) -> Path:
    path = tmp_path / "events.jsonl"
    emit(path, key_dir, tmp_path / "state", range(6))
    return path


def rewrite(path: Path, edit: Any) -> Path:
    lines = path.read_text().splitlines()
    path.write_text("\n".join(edit(lines)) + "\n")
    return path


def verify(path: Path, key_dir: Path) -> Report:
    return verify_files([path], Keyring.from_files([key_dir / "public_key.pem"]))


def kinds(report: Report) -> list[str]:
    return [finding.kind for finding in report.chain]


@pytest.fixture(scope="session")
def auditor_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The auditor's key pair: it signs checkpoints, never events."""
    directory = tmp_path_factory.mktemp("auditor")
    write_key_pair(directory, "ed25519")
    return directory


def auditor_keyring(auditor_dir: Path) -> Keyring:
    return Keyring.from_files([auditor_dir / "public_key.pem"])


def event_keyring(key_dir: Path) -> Keyring:
    return Keyring.from_files([key_dir / "public_key.pem"])


def test_intact_log_verifies(log: Path, key_dir: Path) -> None:
    report = verify(log, key_dir)
    assert report.ok and not report.chain


def test_deletion(log: Path, key_dir: Path) -> None:
    report = verify(rewrite(log, lambda lines: lines[:2] + lines[3:]), key_dir)
    assert kinds(report) == ["gap"] and "missing sequence 3 of 6" in report.chain[0].detail
    assert not report.ok


def test_reordering(log: Path, key_dir: Path) -> None:
    report = verify(rewrite(log, lambda lines: [lines[0], lines[3], lines[2], lines[1], *lines[4:]]), key_dir)
    assert "out-of-order" in kinds(report) and not report.ok


def test_duplication(log: Path, key_dir: Path) -> None:
    report = verify(rewrite(log, lambda lines: [*lines, lines[1]]), key_dir)
    assert "duplicate" in kinds(report) and not report.ok


def test_truncation_needs_a_checkpoint(log: Path, key_dir: Path, tmp_path: Path, auditor_dir: Path) -> None:
    checkpoint = checkpoint_of(log, key_dir, tmp_path / "outside" / "checkpoint.json", auditor_dir)
    assert verify_with_checkpoint(log, key_dir, checkpoint, auditor_dir).exit_code == 0
    rewrite(log, lambda lines: lines[:4])
    assert verify(log, key_dir).ok  # a shorter chain is still a valid chain ...
    result = verify_with_checkpoint(log, key_dir, checkpoint, auditor_dir)
    assert result.exit_code == 1  # ... which the checkpoint exposes
    assert "truncated" in result.output and "events 5..6 were removed" in result.output
    assert "RESULT: FAILED" in result.output


def test_log_grown_after_the_checkpoint_still_verifies(
    log: Path, key_dir: Path, tmp_path: Path, auditor_dir: Path
) -> None:
    checkpoint = checkpoint_of(log, key_dir, tmp_path / "checkpoint.json", auditor_dir)
    emit(log, key_dir, tmp_path / "state", range(6, 9))
    report = apply_checkpoint(
        verify(log, key_dir), load_checkpoint(checkpoint, auditor_keyring(auditor_dir)), logs=[log]
    )
    assert report.ok, report.to_json()["chain"]


def test_rewritten_history_disagrees_with_the_checkpoint(tmp_path: Path, key_dir: Path, auditor_dir: Path) -> None:
    """Someone with the event key re-signs a different event 6 after 5: the chain is valid, the head differs."""
    log = tmp_path / "events.jsonl"
    emit(log, key_dir, tmp_path / "state", range(6))
    checkpoint = checkpoint_of(log, key_dir, tmp_path / "checkpoint.json", auditor_dir)
    lines = log.read_text().splitlines()
    fifth = json.loads(lines[4])["run"]["facets"]["provlineage_signature"]
    forged = Serde.to_dict(run_event(50))
    signed = sign_event_line(
        prepare(forged),
        KeySigner.from_file(key_dir / "private_key.pem"),
        chain=ChainLink(fifth["stream"], 6, fifth["digest"]),
    )
    log.write_text("\n".join([*lines[:5], signed.text]) + "\n")
    assert verify(log, key_dir).ok
    report = apply_checkpoint(
        verify(log, key_dir), load_checkpoint(checkpoint, auditor_keyring(auditor_dir)), logs=[log]
    )
    assert kinds(report) == ["disagrees"] and "sequence 6" in report.chain[0].detail


def test_tampered_or_foreign_checkpoint(log: Path, key_dir: Path, tmp_path: Path, auditor_dir: Path) -> None:
    keyring = auditor_keyring(auditor_dir)
    checkpoint = checkpoint_of(log, key_dir, tmp_path / "checkpoint.json", auditor_dir)
    document = json.loads(checkpoint.read_text())
    document["checkpoint"]["streams"][0]["lastSequence"] = 3  # hide later truncation
    checkpoint.write_text(json.dumps(document))
    report = apply_checkpoint(verify(log, key_dir), load_checkpoint(checkpoint, keyring))
    assert kinds(report) == ["checkpoint-invalid"] and "altered" in report.chain[0].detail

    other = write_key_pair(tmp_path / "other", "ecdsa-p256")
    foreign = tmp_path / "foreign.json"
    write_checkpoint(
        foreign, sign_checkpoint(build_checkpoint(verify(log, key_dir), [log]), KeySigner.from_file(other.private_key))
    )
    report = apply_checkpoint(verify(log, key_dir), load_checkpoint(foreign, keyring))
    assert kinds(report) == ["checkpoint-invalid"] and "not among the trusted" in report.chain[0].detail

    (tmp_path / "junk.json").write_text("{}")
    with pytest.raises(ProvlineageError, match="not a provlineage checkpoint"):
        load_checkpoint(tmp_path / "junk.json", keyring)


def test_checkpoint_refuses_a_log_that_does_not_verify(
    log: Path, key_dir: Path, tmp_path: Path, auditor_dir: Path
) -> None:
    rewrite(log, lambda lines: lines[:2] + lines[3:])
    arguments = [
        "checkpoint",
        str(log),
        "--out",
        str(tmp_path / "c.json"),
        "--private-key",
        str(auditor_dir / "private_key.pem"),
        "--public-key",
        str(key_dir / "public_key.pem"),
    ]
    refused = CliRunner().invoke(cli, arguments)
    assert refused.exit_code != 0 and "does not verify" in str(refused.exception)
    assert not (tmp_path / "c.json").exists()
    forced = CliRunner().invoke(cli, [*arguments, "--force"])
    assert forced.exit_code == 0 and "sequence 6" in forced.output


# --- issue #11 item 10: the checkpoint key and the event keys keep their roles ----------------------------------
def test_checkpoint_command_refuses_an_event_key(log: Path, key_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "checkpoint",
            str(log),
            "--out",
            str(tmp_path / "c.json"),
            "--private-key",
            str(key_dir / "private_key.pem"),
            "--public-key",
            str(key_dir / "public_key.pem"),
        ],
    )
    assert result.exit_code != 0 and "auditor's own key" in str(result.exception)
    assert not (tmp_path / "c.json").exists()


def test_checkpoint_signed_with_an_event_key_is_not_accepted(
    log: Path, key_dir: Path, tmp_path: Path, auditor_dir: Path
) -> None:
    """Whoever holds the event key (the log's writer) must not be able to re-sign the checkpoint after truncating."""
    forged = tmp_path / "forged.json"
    writer = KeySigner.from_file(key_dir / "private_key.pem")
    write_checkpoint(forged, sign_checkpoint(build_checkpoint(verify(log, key_dir), [log]), writer))
    loaded = load_checkpoint(forged, auditor_keyring(auditor_dir), event_keyring=event_keyring(key_dir))
    assert loaded.problem is not None and "signs events" in loaded.problem
    result = verify_with_checkpoint(log, key_dir, forged, auditor_dir)
    assert result.exit_code == 1 and "checkpoint-invalid" in result.output
    # even when the writer's key is (wrongly) also offered as a checkpoint key
    both = verify_with_checkpoint(log, key_dir, forged, key_dir)
    assert isinstance(both.exception, ProvlineageError) and "both as an event key" in str(both.exception)


def test_the_checkpoint_key_is_not_trusted_for_events(tmp_path: Path, key_dir: Path, auditor_dir: Path) -> None:
    """Events signed by the auditor's key are unknown-key, even when the auditor's checkpoint of them is passed."""
    log = tmp_path / "events.jsonl"
    emit(log, auditor_dir, tmp_path / "state", range(3))
    checkpoint = tmp_path / "c.json"
    auditor = KeySigner.from_file(auditor_dir / "private_key.pem")
    report = verify_files([log], auditor_keyring(auditor_dir))
    write_checkpoint(checkpoint, sign_checkpoint(build_checkpoint(report, [log]), auditor))
    result = verify_with_checkpoint(log, key_dir, checkpoint, auditor_dir, "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["counts"]["unknown-key"] == 3


def test_verify_with_a_checkpoint_needs_the_checkpoint_key(
    log: Path, key_dir: Path, tmp_path: Path, auditor_dir: Path
) -> None:
    checkpoint = checkpoint_of(log, key_dir, tmp_path / "checkpoint.json", auditor_dir)
    result = CliRunner().invoke(
        cli, ["verify", str(log), "--public-key", str(key_dir / "public_key.pem"), "--checkpoint", str(checkpoint)]
    )
    assert isinstance(result.exception, ProvlineageError) and "--checkpoint-key" in str(result.exception)


# --- issue #10 item 6: a malformed checkpoint is a one-line error, never a traceback ----------------------------
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c.update(logs=5), '"logs" is not a list'),
        (lambda c: c.update(logs=[5]), "log entry 0"),
        (lambda c: c.update(logs=[{"path": "x", "size": "big"}]), "size must be a byte count"),
        (lambda c: c.update(streams={"a": 1}), '"streams" is not a list'),
        (lambda c: c["streams"][0].update(lastSequence=True), "positive lastSequence"),
        (lambda c: c["streams"][0].update(lastSequence=-1), "positive lastSequence"),
        (lambda c: c["streams"][0].update(headDigest=7), "must be strings"),
        (lambda c: c.update(createdAt=[]), "createdAt"),
        (lambda c: c.update(version="1"), "version"),
    ],
)
def test_malformed_checkpoint_is_one_line(  # noqa: PLR0917 - fixtures and parameters
    log: Path, key_dir: Path, tmp_path: Path, auditor_dir: Path, edit: Any, message: str
) -> None:
    checkpoint = checkpoint_of(log, key_dir, tmp_path / "checkpoint.json", auditor_dir)
    document = json.loads(checkpoint.read_text())
    edit(document["checkpoint"])
    checkpoint.write_text(json.dumps(document))
    with pytest.raises(ProvlineageError, match=re.escape(message)):
        load_checkpoint(checkpoint, auditor_keyring(auditor_dir))
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from provlineage.cli import main; main()",
            "verify",
            str(log),
            "--public-key",
            str(key_dir / "public_key.pem"),
            "--checkpoint",
            str(checkpoint),
            "--checkpoint-key",
            str(auditor_dir / "public_key.pem"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("provlineage: error: checkpoint")


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.lists(
        st.sampled_from(
            [
                "checkpoint",
                "signature",
                "streams",
                "logs",
                0,
                "lastSequence",
                "path",
                "size",
                "keyId",
                "stream",
                "headDigest",
            ]
        ),
        min_size=1,
        max_size=4,
    ),
    value=_json_values,
)
def test_fuzzed_checkpoints_never_raise_anything_but_a_one_line_error(
    good_checkpoint: dict[str, Any], tmp_path: Path, path: list[Any], value: Any
) -> None:
    document = json.loads(json.dumps(good_checkpoint))
    target = document
    for step in path[:-1]:
        try:
            target = target[step]
        except (KeyError, IndexError, TypeError):
            break
    try:
        target[path[-1]] = value
    except (IndexError, TypeError):
        document = value
    file = tmp_path / "fuzzed.json"
    file.write_text(json.dumps(document))
    keyring = Keyring()
    try:
        checkpoint = load_checkpoint(file, keyring, event_keyring=keyring)
    except ProvlineageError as error:
        assert "\n" not in str(error)
        return
    compare_with_checkpoint(Report(), checkpoint, logs=[file])


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    keys = tmp_path_factory.mktemp("fuzz-keys")
    write_key_pair(keys, "ed25519")
    payload = {
        "type": "provlineage-checkpoint",
        "version": 1,
        "createdAt": "2026-01-01T00:00:00Z",
        "records": 1,
        "logs": [{"path": "/tmp/x.jsonl", "size": 10}],
        "streams": [{"stream": "s", "keyId": "k", "lastSequence": 1, "headDigest": "sha256:00"}],
    }
    return sign_checkpoint(payload, KeySigner.from_file(keys / "private_key.pem"))
