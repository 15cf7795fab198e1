"""SigningTransport configuration: keys from the attrs fields, checks in from_dict, shared value parsers, and relative
paths resolved against the config file's directory (issue #10, finding 11)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import attr
import pytest
from click.testing import CliRunner

from provlineage._internal import values
from provlineage.cli import cli
from provlineage.errors import ConfigError
from provlineage.transport import SigningConfig

JOB = """
import provlineage
with provlineage.track("job", kind="training"):
    print("BODY RAN")
"""


def clean_env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("OPENLINEAGE", "PROVLINEAGE"))}
    return {**env, **extra}


def relative_setup(tmp_path: Path, key_dir: Path) -> tuple[Path, Path]:
    """``project/openlineage.yml`` naming its key, state and log by relative paths; ``elsewhere/`` to run from."""
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (project / "keys").mkdir(parents=True)
    elsewhere.mkdir()
    (project / "keys" / "private_key.pem").write_bytes((key_dir / "private_key.pem").read_bytes())
    (project / "openlineage.yml").write_text(
        "transport:\n"
        "  type: provlineage.transport.SigningTransport\n"
        "  private_key: keys/private_key.pem\n"
        "  state_dir: state\n"
        "  transport:\n"
        "    type: provlineage.transport.FileLogTransport\n"
        "    path: logs/events.jsonl\n"
    )
    return project, elsewhere


def test_relative_paths_in_the_config_file_follow_the_file(
    tmp_path: Path, key_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, elsewhere = relative_setup(tmp_path, key_dir)
    env = clean_env(OPENLINEAGE_CONFIG=str(project / "openlineage.yml"), PROVLINEAGE_STRICT="1")
    env["PROVLINEAGE_INFERENCE_LOG"] = str(tmp_path / "inferences.jsonl")
    result = subprocess.run(
        [sys.executable, "-c", JOB], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    log = project / "logs" / "events.jsonl"
    assert [json.loads(line)["eventType"] for line in log.read_text().splitlines()] == ["START", "COMPLETE"]
    assert (project / "state").is_dir() and not list(elsewhere.iterdir())
    verified = CliRunner().invoke(cli, ["verify", str(log), "--public-key", str(key_dir / "public_key.pem")])
    assert verified.exit_code == 0, verified.output

    monkeypatch.chdir(elsewhere)
    flushed = CliRunner().invoke(cli, ["flush", "--config", str(project / "openlineage.yml")])
    assert flushed.exit_code == 0, flushed.output  # flush --config reads the same paths ...
    assert not list(elsewhere.iterdir())  # ... and creates nothing where it runs


def test_relative_paths_from_the_environment_follow_the_working_directory(tmp_path: Path, key_dir: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_env(
        OPENLINEAGE__TRANSPORT__TYPE="provlineage.transport.SigningTransport",
        OPENLINEAGE__TRANSPORT__PRIVATE_KEY="my.pem",  # no config file holds it: the working directory's
        OPENLINEAGE__TRANSPORT__STATE_DIR="state",
        OPENLINEAGE__TRANSPORT__TRANSPORT='{"type": "provlineage.transport.FileLogTransport", "path": "events.jsonl"}',
        PROVLINEAGE_INFERENCE_LOG=str(tmp_path / "inferences.jsonl"),
        HOME=str(tmp_path),  # no ~/.openlineage/openlineage.yml of the machine
    )
    result = subprocess.run(
        [sys.executable, "-c", JOB], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and "BODY RAN" in result.stdout  # lenient: the job goes on ...
    assert result.stderr.count("NO LINEAGE EVENTS WILL BE RECORDED BY THIS PROCESS") == 1, result.stderr  # ... loudly
    assert "my.pem does not exist" in result.stderr and f"working directory ({elsewhere})" in result.stderr
    (elsewhere / "my.pem").write_bytes((key_dir / "private_key.pem").read_bytes())
    again = subprocess.run(
        [sys.executable, "-c", JOB], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0 and "NO LINEAGE" not in again.stderr, again.stderr
    assert len((elsewhere / "events.jsonl").read_text().splitlines()) == 2


def test_accepted_keys_are_the_attrs_fields(caplog: pytest.LogCaptureFixture) -> None:
    fields = {field.name for field in attr.fields(SigningConfig)} - {"problem", "problem_key"}
    assert SigningConfig.keys() == fields
    with caplog.at_level(logging.WARNING, logger="provlineage"):
        SigningConfig.from_dict({"private_key": "/k.pem", "transport": {"type": "console"}, "privat_key": "x"})
    assert "ignores unknown config keys privat_key" in caplog.text


def test_every_check_runs_in_from_dict(caplog: pytest.LogCaptureFixture) -> None:
    base: dict[str, Any] = {"private_key": "/k.pem", "transport": {"type": "console"}}
    with pytest.raises(ConfigError, match="retry_interval"):
        SigningConfig.from_dict({**base, "strict": "on", "retry_interval": "soon"})
    with caplog.at_level(logging.ERROR, logger="provlineage"):
        lenient = SigningConfig.from_dict({**base, "retry_interval": "soon"})
    assert lenient.retry_interval == 5.0 and "using the default 5.0" in caplog.text
    with pytest.raises(ConfigError, match="no `private_key`"):
        SigningConfig.from_dict({"transport": {"type": "console"}, "strict": True})
    missing = SigningConfig.from_dict({"transport": {"type": "console"}})
    assert missing.problem_key == "private_key" and missing.problem is not None
    assert SigningConfig.from_dict({**base, "transport": '{"type": "console"}'}).transport == {"type": "console"}
    parsed = SigningConfig.from_dict({**base, "strict": "FALSE", "resend_batch": "7", "delivery_timeout": "0.25"})
    assert (parsed.strict, parsed.resend_batch, parsed.delivery_timeout) == (False, 7, 0.25)


@pytest.mark.parametrize("word", ["true", "T", "1", "yes", "ON", " y "])
def test_shared_boolean_spellings_true(word: str) -> None:
    assert values.boolean(word) is True


@pytest.mark.parametrize("word", ["false", "F", "0", "no", "OFF", "n"])
def test_shared_boolean_spellings_false(word: str) -> None:
    assert values.boolean(word) is False


def test_shared_parsers_refuse_what_they_cannot_read() -> None:
    for bad in ("maybe", "", 2, None):
        with pytest.raises(ValueError, match="true or false"):
            values.boolean(bad)
    for bad in ("soon", -1, float("nan"), True):
        with pytest.raises(ValueError, match="number"):
            values.number(bad)
    assert values.number("5", int) == 5 and values.number("0.5") == 0.5
