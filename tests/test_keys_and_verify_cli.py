"""keygen and verify from the command line: files, modes, exit codes, one-line errors, legacy records."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from provlineage._internal.canonical import prepare
from provlineage.errors import KeyLoadError
from provlineage.keys import load_private_key, write_key_pair
from provlineage.signer import KeySigner
from provlineage.signing import ChainLink, sign_event

CLI = [sys.executable, "-c", "from provlineage.cli import main; main()"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, f"expected a one-line error, got: {result.stderr}"
    return lines[0]


@pytest.mark.parametrize("algorithm", ["ed25519", "ecdsa-p256", "rsa-pss-2048"])
def test_keygen_writes_keys_and_prints_key_id(tmp_path: Path, algorithm: str) -> None:
    result = run("keygen", "--algorithm", algorithm, "--out-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    private, public = tmp_path / "private_key.pem", tmp_path / "public_key.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    der = serialization.load_pem_public_key(public.read_bytes()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert f"key id: sha256:{hashlib.sha256(der).hexdigest()}" in result.stdout


def test_keygen_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    assert run("keygen", "--out-dir", str(tmp_path)).returncode == 0
    before = (tmp_path / "private_key.pem").read_bytes()
    assert "--force" in one_line_error(run("keygen", "--out-dir", str(tmp_path)))
    assert (tmp_path / "private_key.pem").read_bytes() == before
    assert run("keygen", "--out-dir", str(tmp_path), "--force").returncode == 0
    assert (tmp_path / "private_key.pem").read_bytes() != before


def test_encrypted_key_needs_the_right_passphrase(tmp_path: Path) -> None:
    result = run("keygen", "--out-dir", str(tmp_path), "--passphrase-env", "PL_PASS", env={"PL_PASS": "correct horse"})
    assert result.returncode == 0, result.stderr
    assert b"ENCRYPTED" in (tmp_path / "private_key.pem").read_bytes()
    os.environ["PL_TEST_PASS"] = "correct horse"
    try:
        assert load_private_key(tmp_path / "private_key.pem", passphrase_env="PL_TEST_PASS") is not None
        os.environ["PL_TEST_PASS"] = "wrong"
        with pytest.raises(Exception, match=r"wrong passphrase for private key .*private_key\.pem"):
            load_private_key(tmp_path / "private_key.pem", passphrase_env="PL_TEST_PASS")
    finally:
        del os.environ["PL_TEST_PASS"]
    with pytest.raises(Exception, match="is encrypted and no passphrase was given"):
        load_private_key(tmp_path / "private_key.pem")
    with pytest.raises(Exception, match="PL_UNSET_VAR is not set"):
        load_private_key(tmp_path / "private_key.pem", passphrase_env="PL_UNSET_VAR")


def test_keygen_refuses_an_empty_passphrase_variable(tmp_path: Path) -> None:
    error = one_line_error(
        run("keygen", "--out-dir", str(tmp_path), "--passphrase-env", "PL_PASS", env={"PL_PASS": ""})
    )
    assert "passphrase variable PL_PASS is empty" in error
    assert not (tmp_path / "private_key.pem").exists()


def test_an_empty_passphrase_for_an_encrypted_key_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("keygen", "--out-dir", str(tmp_path), "--passphrase-env", "P", env={"P": "pw"}).returncode == 0
    monkeypatch.setenv("PL_EMPTY_PASS", "")
    with pytest.raises(KeyLoadError, match="passphrase variable PL_EMPTY_PASS is empty") as caught:
        load_private_key(tmp_path / "private_key.pem", passphrase_env="PL_EMPTY_PASS")
    assert "PKCS#8" not in str(caught.value)


def test_an_unencrypted_key_with_a_passphrase_configured_warns_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    write_key_pair(tmp_path, "ed25519")
    monkeypatch.setenv("PL_SOME_PASS", "pw")
    with caplog.at_level(logging.WARNING, logger="provlineage.keys"):
        for _ in range(3):
            assert load_private_key(tmp_path / "private_key.pem", passphrase_env="PL_SOME_PASS") is not None
    warnings = [r.getMessage() for r in caplog.records if "is not encrypted" in r.getMessage()]
    assert len(warnings) == 1 and "PL_SOME_PASS" in warnings[0]


def test_keygen_modes_do_not_follow_the_umask(tmp_path: Path) -> None:
    out = tmp_path / "new" / "keys"
    old = os.umask(0)
    try:
        result = run("keygen", "--out-dir", str(out))
    finally:
        os.umask(old)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE((out / "private_key.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "public_key.pem").stat().st_mode) == 0o644
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE(out.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize("force", [False, True])
def test_keygen_never_writes_through_a_symbolic_link(tmp_path: Path, force: bool) -> None:
    target = tmp_path / "elsewhere" / "planted.pem"
    target.parent.mkdir()
    out = tmp_path / "keys"
    out.mkdir()
    (out / "public_key.pem").symlink_to(target)  # dangling: the target does not exist
    error = one_line_error(run("keygen", "--out-dir", str(out), *(["--force"] if force else [])))
    assert "is a symbolic link" in error
    assert not target.exists() and not (out / "private_key.pem").exists()


def test_verify_marquez_never_prints_credentials_from_the_url(key_dir: Path) -> None:
    url = "http://auditor:S3cretMarquezPw@127.0.0.1:9"
    result = run("verify", "--marquez", url, "--public-key", str(key_dir / "public_key.pem"))
    error = one_line_error(result)
    assert "cannot reach Marquez at http://127.0.0.1:9" in error
    assert "S3cretMarquezPw" not in result.stderr + result.stdout and "auditor" not in result.stderr
    bad = run("verify", "--marquez", "ftp://u:S3cretFtpPw@host", "--public-key", str(key_dir / "public_key.pem"))
    assert "S3cretFtpPw" not in one_line_error(bad)


def test_public_key_where_private_is_needed(key_dir: Path) -> None:
    with pytest.raises(Exception, match="holds a public key where a private key is needed"):
        load_private_key(key_dir / "public_key.pem")


def write_log(path: Path, key_dir: Path, count: int) -> list[dict]:
    signer = KeySigner.from_file(key_dir / "private_key.pem")
    events, previous = [], None
    for sequence in range(1, count + 1):
        event = prepare(
            {
                "eventType": "COMPLETE",
                "eventTime": "2026-01-01T00:00:00Z",
                "producer": "https://example.com",
                "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
                "run": {"runId": f"01900000-0000-7000-8000-{sequence:012d}", "facets": {}},
                "job": {"namespace": "ns", "name": "job"},
            }
        )
        previous = sign_event(event, signer, chain=ChainLink("host/s", sequence, previous))
        events.append(event)
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return events


def test_verify_ok_and_json_report(tmp_path: Path, key_dir: Path) -> None:
    log = tmp_path / "events.jsonl"
    write_log(log, key_dir, 5)
    result = run("verify", str(log), "--public-key", str(key_dir / "public_key.pem"), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["counts"]["valid"] == 5
    assert report["streams"][0]["last_sequence"] == 5


def test_verify_names_each_failure_with_its_line(tmp_path: Path, key_dir: Path) -> None:
    log = tmp_path / "events.jsonl"
    events = write_log(log, key_dir, 4)
    events[1]["job"]["name"] = "tampered"
    lines = [json.dumps(e) for e in events]
    lines.insert(3, "this is not json")
    lines.append('{"eventType": "START", "run": {"runId": "x", "facets": {}}, "job": {"namespace": "n", "name": "j"}}')
    lines.append('{"eventType": "START", "run": {"runId": "x", "fac')
    log.write_text("\n".join(lines) + "\n")
    result = run("verify", str(log), "--public-key", str(key_dir / "public_key.pem"))
    assert result.returncode == 1
    out = result.stdout
    assert f"FAILED      {log}:2  signature does not match" in out
    assert f"MALFORMED   {log}:4  not JSON" in out
    assert f"UNSIGNED    {log}:6  event has no run facets" in out
    assert f"TORN        {log}:7" in out
    assert "valid 3  failed 1  unsigned 1  unknown-key 0  malformed 1  legacy 0  torn 1" in out


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing-key", "public key file .*missing.pem does not exist.*provlineage keygen"),
        ("private-key", "holds a private key where a public key is needed"),
        ("missing-log", "log file .*nope.jsonl does not exist"),
        ("key-directory", "public key file .* is a directory. pass the PEM file inside it"),
    ],
)
def test_verify_bad_input_one_line(tmp_path: Path, key_dir: Path, case: str, expected: str) -> None:
    import re

    log = tmp_path / "events.jsonl"
    write_log(log, key_dir, 1)
    key = {
        "missing-key": str(tmp_path / "missing.pem"),
        "private-key": str(key_dir / "private_key.pem"),
        "key-directory": str(key_dir),
    }.get(case, str(key_dir / "public_key.pem"))
    target = str(tmp_path / "nope.jsonl") if case == "missing-log" else str(log)
    assert re.search(expected, one_line_error(run("verify", target, "--public-key", key)))


def test_unwritable_output_paths_are_one_line_errors(tmp_path: Path, key_dir: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    keygen = one_line_error(run("keygen", "--out-dir", str(a_file / "keys")))
    assert f"key pair cannot be written to {a_file / 'keys'}" in keygen and "--out-dir" in keygen
    log = tmp_path / "events.jsonl"
    write_log(log, key_dir, 1)
    out = a_file / "checkpoint.json"
    auditor = write_key_pair(tmp_path / "auditor", "ed25519")  # checkpoints are signed by the auditor's own key
    checkpoint = one_line_error(
        run(
            "checkpoint",
            str(log),
            "--out",
            str(out),
            "--private-key",
            str(auditor.private_key),
            "--public-key",
            str(key_dir / "public_key.pem"),
        )
    )
    assert f"checkpoint file {out} cannot be written" in checkpoint and "--out" in checkpoint


@pytest.mark.parametrize(
    ("transport", "expected"),
    [("type: no_such_module.Transport", "ImportError"), ("type: http", "`url` key not passed")],
)
def test_flush_with_a_transport_that_cannot_be_built(tmp_path: Path, transport: str, expected: str) -> None:
    config = tmp_path / "openlineage.yml"
    config.write_text(f"transport:\n  {transport}\n")
    result = run("flush", "--config", str(config))
    assert result.returncode == 2
    # openlineage-python logs its own warning about a failed import first; ours is the one error line
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("provlineage: error:")]
    assert "Traceback" not in result.stderr
    assert f"the transport in config file {config} cannot be built" in error and expected in error
    assert "fix its `transport` section" in error


def test_verify_usage_error_exits_2(key_dir: Path) -> None:
    assert run("verify", "--public-key", str(key_dir / "public_key.pem")).returncode == 2
    assert run("verify", "x.jsonl").returncode == 2


def legacy_line(key: rsa.RSAPrivateKey, record: dict) -> str:
    """An envelope exactly as the older ProvenanceTracker writes it (notes §5)."""
    signed_data = json.dumps(record, sort_keys=True)
    signature = key.sign(
        signed_data.encode(),
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH),
        hashes.SHA256(),
    )
    return json.dumps(
        {"schema_version": "1.1", "signed_data": signed_data, "signature": base64.b64encode(signature).decode()}
    )


def test_verify_reports_old_tool_records_as_legacy(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = tmp_path / "legacy_public.pem"
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    records = [
        {
            "type": "dataset",
            "path": "/d.csv",
            "hash": "ab" * 32,
            "description": "d",
            "timestamp": time.time(),
            "schema_version": "1.1",
        },
        {
            "type": "model",
            "model_name": "m",
            "hyperparameters": {},
            "git_commit": "x",
            "environment": {},
            "dataset_hashes": [],
            "timestamp": 1.0,
            "schema_version": "1.1",
        },
    ]
    lines = [legacy_line(key, r) for r in records]
    forged = json.loads(lines[1])
    forged["signed_data"] = forged["signed_data"].replace('"m"', '"m2"')
    lines.append(json.dumps(forged))
    log = tmp_path / "legacy.jsonl"
    log.write_text("\n".join(lines) + "\n")
    result = run("verify", str(log), "--public-key", str(public), "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 1
    assert report["counts"]["legacy"] == 2 and report["counts"]["failed"] == 1
    assert report["failures"][0]["line"] == 3


def test_every_signature_checks_each_records_own_signature(tmp_path: Path, key_dir: Path) -> None:
    log = tmp_path / "events.jsonl"
    events = write_log(log, key_dir, 4)
    events[1]["run"]["facets"]["provlineage_signature"]["signature"] = "A" * 88  # content intact, signature broken
    log.write_text("".join(json.dumps(e) + "\n" for e in events))
    key = str(key_dir / "public_key.pem")
    default = json.loads(run("verify", str(log), "--public-key", key, "--json").stdout)
    assert default["ok"] is True, "the successor's signed link authenticates the content"
    every = run("verify", str(log), "--public-key", key, "--json", "--every-signature")
    assert every.returncode == 1
    assert json.loads(every.stdout)["failures"][0]["line"] == 2


def test_unreachable_marquez_is_one_line(key_dir: Path) -> None:
    result = run("verify", "--marquez", "http://127.0.0.1:9", "--public-key", str(key_dir / "public_key.pem"))
    assert "cannot reach Marquez at http://127.0.0.1:9" in one_line_error(result)
