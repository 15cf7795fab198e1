"""The signing transport is loaded in the task process only when the configuration names it (airflow_plugin.preload)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest_airflow import clean_env

pytest.importorskip(
    "airflow.providers.openlineage", reason="needs the airflow extra (apache-airflow-providers-openlineage)"
)

SIGNING = {"type": "provlineage.transport.SigningTransport", "private_key": "k.pem", "transport": {"type": "console"}}
PROBE = """
import sys
from airflow_plugin.preload import preload_signing_transport
assert "provlineage.transport.signing" not in sys.modules
preload_signing_transport()
print("loaded" if "provlineage.transport.signing" in sys.modules else "not loaded")
"""


def preloaded(tmp_path: Path, **env: str) -> str:
    (tmp_path / "airflow").mkdir(exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean_env(tmp_path), "PYTHONPATH": str(Path(__file__).resolve().parents[1]), **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_loaded_when_airflow_names_it(tmp_path: Path) -> None:
    assert preloaded(tmp_path, AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps(SIGNING)) == "loaded"


def test_loaded_when_the_config_file_names_it(tmp_path: Path) -> None:
    config = tmp_path / "ol.yml"
    config.write_text("transport:\n  type: provlineage.transport.SigningTransport\n  transport: {type: console}\n")
    assert preloaded(tmp_path, AIRFLOW__OPENLINEAGE__CONFIG_PATH=str(config)) == "loaded"
    assert preloaded(tmp_path, OPENLINEAGE_CONFIG=str(config)) == "loaded"


def test_not_loaded_for_other_transports(tmp_path: Path) -> None:
    assert preloaded(tmp_path, AIRFLOW__OPENLINEAGE__TRANSPORT='{"type": "console"}') == "not loaded"


def test_a_broken_configuration_never_stops_the_task(tmp_path: Path) -> None:
    """Preloading is an optimisation: a transport setting that cannot be read leaves the import to the emitters."""
    assert preloaded(tmp_path, AIRFLOW__OPENLINEAGE__TRANSPORT="{not json") == "not loaded"
    assert preloaded(tmp_path, AIRFLOW__OPENLINEAGE__CONFIG_PATH=str(tmp_path / "missing.yml")) == "not loaded"
