"""Strict mode (issue #10, finding 10): one rule for its three switches, checked as a real job would run.

The rule: strict mode is on when the transport config says ``strict: true``, or ``PROVLINEAGE_STRICT`` is true, or
the code calls ``track(strict=True)``; ``track(strict=False)`` turns it off for that run.  When it is on, a config
that cannot record events stops the job before its body runs, and an unsignable event raises.  When it is off, the
job goes on and says once, loudly, that nothing is recorded.  The misconfiguration used throughout is the one the
issue found: the *public* key given as ``private_key``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.uuid import generate_new_uuid

import provlineage
from provlineage.errors import ConfigError, KeyLoadError, ProvlineageError
from provlineage.transport import SigningConfig, SigningTransport

JOB = """
import sys, provlineage
strict = {"on": True, "off": False}.get(sys.argv[1])
with provlineage.track("job", kind="training", strict=strict):
    print("BODY RAN")
"""


def write_config(tmp_path: Path, key: Path, *, strict: bool | None) -> Path:
    transport: dict[str, Any] = {
        "type": "provlineage.transport.SigningTransport",
        "private_key": str(key),
        "state_dir": str(tmp_path / "state"),
        "transport": {"type": "provlineage.transport.FileLogTransport", "path": str(tmp_path / "events.jsonl")},
    }
    if strict is not None:
        transport["strict"] = strict
    path = tmp_path / "openlineage.yml"
    path.write_text(json.dumps({"transport": transport}))
    return path


def run_job(tmp_path: Path, config: Path, *, track_strict: str = "unset", env_strict: str | None = None) -> Any:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("OPENLINEAGE", "PROVLINEAGE"))}
    env["OPENLINEAGE_CONFIG"] = str(config)
    env["PROVLINEAGE_INFERENCE_LOG"] = str(tmp_path / "inferences.jsonl")
    if env_strict is not None:
        env["PROVLINEAGE_STRICT"] = env_strict
    return subprocess.run(
        [sys.executable, "-c", JOB, track_strict], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def public_key(key_dir: Path) -> Path:
    return key_dir / "public_key.pem"


def test_transport_switch_stops_the_job_before_its_body(tmp_path: Path, public_key: Path) -> None:
    result = run_job(tmp_path, write_config(tmp_path, public_key, strict=True))
    assert result.returncode != 0
    assert "BODY RAN" not in result.stdout
    assert "holds a public key where a private key is needed" in result.stderr


def test_environment_switch_over_a_lenient_transport(tmp_path: Path, public_key: Path) -> None:
    result = run_job(tmp_path, write_config(tmp_path, public_key, strict=False), env_strict="1")
    assert result.returncode != 0 and "BODY RAN" not in result.stdout
    assert "holds a public key where a private key is needed" in result.stderr


def test_code_switch_over_a_lenient_transport(tmp_path: Path, public_key: Path) -> None:
    result = run_job(tmp_path, write_config(tmp_path, public_key, strict=None), track_strict="on")
    assert result.returncode != 0 and "BODY RAN" not in result.stdout
    assert "holds a public key where a private key is needed" in result.stderr


def test_off_the_job_goes_on_and_says_so_once_loudly(tmp_path: Path, public_key: Path) -> None:
    result = run_job(tmp_path, write_config(tmp_path, public_key, strict=None))
    assert result.returncode == 0 and "BODY RAN" in result.stdout
    assert result.stderr.count("NO LINEAGE EVENTS WILL BE RECORDED BY THIS PROCESS") == 1, result.stderr
    assert "point private_key at the signing key" in result.stderr  # the fix, in the same line


def test_code_switch_off_overrides_the_transport(tmp_path: Path, public_key: Path) -> None:
    result = run_job(tmp_path, write_config(tmp_path, public_key, strict=True), track_strict="off")
    assert result.returncode == 0 and "BODY RAN" in result.stdout
    assert "NO LINEAGE EVENTS WILL BE RECORDED" in result.stderr


def test_environment_switch_without_track(tmp_path: Path, public_key: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Any OpenLineageClient (Airflow's too) follows PROVLINEAGE_STRICT: the transport cannot be built."""
    monkeypatch.setenv("PROVLINEAGE_STRICT", "true")
    config = json.loads(write_config(tmp_path, public_key, strict=False).read_text())
    with pytest.raises(KeyLoadError, match="public key"):
        OpenLineageClient(config=config)


def test_unsignable_event_raises_under_each_switch(
    tmp_path: Path, key_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dataset event cannot carry a signature: dropped with a log line when lenient, raised when strict."""
    config = json.loads(write_config(tmp_path, key_dir / "private_key.pem", strict=False).read_text())["transport"]
    lenient = SigningTransport(SigningConfig.from_dict(config))
    event = {"eventTime": "2026-03-01T12:00:00Z", "producer": "https://example.com/tests", "schemaURL": "x"}
    assert lenient.emit(event) is None
    with pytest.raises(ProvlineageError), provlineage._internal.strictness.scope(True):
        lenient.emit(event)
    monkeypatch.setenv("PROVLINEAGE_STRICT", "yes")
    with pytest.raises(ProvlineageError):
        SigningTransport(SigningConfig.from_dict(config)).emit(event)
    monkeypatch.delenv("PROVLINEAGE_STRICT")
    with pytest.raises(ProvlineageError):
        SigningTransport(SigningConfig.from_dict({**config, "strict": "true"})).emit(event)
    good = RunEvent(
        eventType=RunState.COMPLETE,
        eventTime="2026-03-01T12:00:00Z",
        run=Run(runId=str(generate_new_uuid())),
        job=Job(namespace="ml", name="ok"),
        producer="https://example.com/tests",
    )
    assert lenient.emit(good) is not None  # the same transport records a run event


def test_a_switch_that_is_not_a_boolean_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVLINEAGE_STRICT", "maybe")
    with pytest.raises(ConfigError, match="PROVLINEAGE_STRICT is 'maybe'"):
        SigningConfig.from_dict({"transport": {"type": "console"}, "private_key": "k.pem"})
    with pytest.raises(ConfigError, match="PROVLINEAGE_STRICT"), provlineage.track("job", kind="training"):
        pass
