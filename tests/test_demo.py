"""`provlineage demo`: keys, signed events from the example jobs, verification and the model's lineage, end to end."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from provlineage.cli import cli


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVLINEAGE_CACHE_DIR", str(tmp_path / "hash-cache"))
    monkeypatch.delenv("PROVLINEAGE_INFERENCE_LOG", raising=False)
    monkeypatch.delenv("OPENLINEAGE_CONFIG", raising=False)
    # The user's own OpenLineage settings must not redirect the demo's events.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "openlineage.yml").write_text("transport:\n  type: console\n")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "console")


def test_demo_runs_end_to_end_and_its_next_steps_work(
    tmp_path: Path, event_validator: Callable[[dict[str, Any]], None]
) -> None:
    directory = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "--dir", str(directory)])
    assert result.exit_code == 0, result.output
    assert "DEMO OK" in result.output and "MODEL churn-logreg" in result.output
    assert (directory / "keys" / "private_key.pem").exists() and (directory / "openlineage.yml").exists()

    events = [json.loads(line) for line in (directory / "lineage.jsonl").read_text().splitlines()]
    assert [(e["job"]["name"], e["eventType"]) for e in events] == [
        ("churn.train", "START"),
        ("churn.train", "COMPLETE"),
        ("churn.predict", "START"),
        ("churn.predict", "COMPLETE"),
    ]
    for event in events:
        event_validator(event)
        assert "provlineage_signature" in event["run"]["facets"]
    model = str(directory / "models" / "churn_model.json")
    written = [d for d in events[1]["outputs"] if d["name"] == model]
    read = [d for d in events[3]["inputs"] if d["name"] == model]
    assert written and read and written[0]["namespace"] == read[0]["namespace"] == "file"
    assert events[3]["run"]["facets"]["provlineage_inference"]["count"] == 300
    assert events[1]["run"]["facets"]["provlineage_hyperparameters"]["parameters"]["tracking_api_key"] == "***"

    after = result.output.split("Next steps:", 1)[1]
    next_steps = [line.strip() for line in after.splitlines() if line.strip().startswith("provlineage ")]
    assert len(next_steps) == 3
    for command in next_steps:
        step = CliRunner().invoke(cli, shlex.split(command)[1:])
        assert step.exit_code == 0, f"{command}\n{step.output}"


def test_demo_reuses_its_keys_and_the_chain_continues(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    first = CliRunner().invoke(cli, ["demo", "--dir", str(directory)])
    key = (directory / "keys" / "private_key.pem").read_bytes()
    second = CliRunner().invoke(cli, ["demo", "--dir", str(directory)])
    assert first.exit_code == second.exit_code == 0, second.output
    assert "using " in second.output and (directory / "keys" / "private_key.pem").read_bytes() == key
    assert "8 events: 8 valid, chain errors 0" in second.output
