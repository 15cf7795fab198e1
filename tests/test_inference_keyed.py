"""Keyed inference digests: a reader of the log cannot enumerate small inputs; the key holder can prove one (#11.5)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from openlineage.client.client import OpenLineageClient

import provlineage
from provlineage.inference import DigestKey, InferenceRecorder
from provlineage.keys import write_key_pair
from provlineage.transport import SigningTransport
from provlineage.transport.config import SigningConfig

CLI = [sys.executable, "-c", "from provlineage.cli import main; main()"]
SCORED = {"customer_id": 54321, "features": [0.4, 1.7, 0.2]}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, env=os.environ.copy())


def serve(root: Path, digest_key: Path | None) -> tuple[Path, Path, Path]:
    """A scoring job that logs three customers; returns (event log, inference log, public key)."""
    keys = write_key_pair(root / "keys", "ed25519")
    log, inferences = root / "lineage.jsonl", root / "inferences.jsonl"
    config = {
        "private_key": str(keys.private_key),
        "state_dir": str(root / "state"),
        "strict": True,
        "transport": {"type": "provlineage.transport.FileLogTransport", "path": str(log)},
    }
    client = OpenLineageClient(transport=SigningTransport(SigningConfig.from_dict(config)))
    with provlineage.track(
        "churn.score", kind="inference", client=client, inference_log=inferences, inference_digest_key=digest_key
    ) as run:
        for customer in (54320, 54321, 54322):
            run.log_inference({"customer_id": customer, "features": [0.4, 1.7, 0.2]}, {"churn": 0.1})
    return log, inferences, keys.public_key


def enumerate_customers(inferences: Path) -> set[int]:
    """The attack: hash every candidate customer and look for the digest in the log."""
    text = inferences.read_text()
    found = set()
    for customer in range(54000, 55000):
        canonical = json.dumps({"customer_id": customer, "features": [0.4, 1.7, 0.2]}, separators=(",", ":"))
        if hashlib.sha256(canonical.encode()).hexdigest() in text:
            found.add(customer)
    return found


@pytest.fixture
def digest_key(tmp_path: Path) -> Path:
    path = tmp_path / "inference-digest.key"
    made = cli("keygen", "--inference-digest-key", str(path))
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"inference digest key: {path} (id sha256:")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return path


def test_plain_digests_can_be_enumerated_which_is_why_keyed_ones_exist(tmp_path: Path) -> None:
    _, inferences, _ = serve(tmp_path, None)
    assert enumerate_customers(inferences) == {54320, 54321, 54322}


def test_keyed_digests_defeat_enumeration_and_the_key_holder_still_proves_the_input(
    tmp_path: Path, digest_key: Path
) -> None:
    log, inferences, public = serve(tmp_path, digest_key)
    assert enumerate_customers(inferences) == set()
    records = [json.loads(line) for line in inferences.read_text().splitlines()]
    assert all(r["inputDigest"].startswith("hmac-sha256:") for r in records if r["type"] == "inference")
    facet = json.loads(log.read_text().splitlines()[-1])["run"]["facets"]["provlineage_inference"]
    assert facet["digestKeyId"].startswith("sha256:")

    scored = tmp_path / "input.json"
    scored.write_text(json.dumps(SCORED))
    args = ["verify", str(log), "--public-key", str(public), "--inference-log", str(inferences)]
    proven = cli(*args, "--inference-input", str(scored), "--inference-digest-key", str(digest_key))
    assert proven.returncode == 0, proven.stdout + proven.stderr
    assert (
        f"INPUT       {scored}: scored as inf-" in proven.stdout and "proven against the Merkle root" in proven.stdout
    )

    without_key = cli(*args, "--inference-input", str(scored))
    assert without_key.returncode == 1
    assert "no verified run scored this input (with plain SHA-256 digests" in without_key.stdout
    assert "--inference-digest-key" in without_key.stdout


def test_an_input_that_was_not_scored_is_not_proven(tmp_path: Path, digest_key: Path) -> None:
    log, inferences, public = serve(tmp_path, digest_key)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"customer_id": 99999, "features": [0.4, 1.7, 0.2]}))
    result = cli(
        "verify", str(log), "--public-key", str(public), "--inference-log", str(inferences),
        "--inference-input", str(other), "--inference-digest-key", str(digest_key),
    )  # fmt: skip
    assert result.returncode == 1
    assert "no verified run scored this input (with the digest key given" in result.stdout


def test_a_digest_key_others_can_read_or_a_missing_one_fails_at_track_with_the_fix(
    tmp_path: Path, digest_key: Path
) -> None:
    digest_key.chmod(0o644)
    with pytest.raises(provlineage.errors.ConfigError, match=f"chmod 600 {digest_key}"):
        provlineage.track("job", kind="inference", inference_digest_key=digest_key)
    with pytest.raises(provlineage.errors.ConfigError, match="provlineage keygen --inference-digest-key"):
        provlineage.track("job", kind="inference", inference_digest_key=tmp_path / "missing.key")
    refused = cli("keygen", "--inference-digest-key", str(digest_key))
    assert refused.returncode == 2 and "already exists" in refused.stderr


def test_recorder_keyed_digests_are_the_documented_hmac_for_every_record(tmp_path: Path) -> None:
    key = DigestKey(bytes(range(32)))
    recorder = InferenceRecorder(
        tmp_path / "i.jsonl", run_id="r", job_namespace="ns", job_name="job", model_digest=None, digest_key=key
    )
    inputs = [({"a": 1}, b'{"a":1}'), ({"b": [0.5, "x"]}, b'{"b":[0.5,"x"]}')]
    for value, _ in inputs:
        recorder.record(value, {"p": 0.25})
    recorder.flush()
    lines = [json.loads(line) for line in (tmp_path / "i.jsonl").read_text().splitlines()]
    for line, (_, canonical) in zip(lines, inputs, strict=True):
        assert line["id"] == "inf-" + hmac.new(key.secret, b"\n" + canonical, hashlib.sha256).hexdigest()[:32]
        assert line["inputDigest"] == "hmac-sha256:" + hmac.new(key.secret, canonical, hashlib.sha256).hexdigest()
        assert line["outputDigest"] == "hmac-sha256:" + key.hexdigest(b'{"p":0.25}')
