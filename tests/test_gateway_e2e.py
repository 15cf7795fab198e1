"""End to end: producers with openlineage-python's stock ``http`` transport (API key in its standard ``auth``
config) behind ``SigningTransport``, a gateway relaying over HTTP to a second gateway, events arriving in the
downstream file log, and ``provlineage verify`` passing on what arrived.

The real Marquez cannot be had here, so the downstream is provlineage's file log; gateway A forwards with the
same ``http`` transport a Marquez URL would use, to gateway B, a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from provlineage.gateway.auth import hash_api_key

from conftest_airflow import TRAIN_DAG, clean_env
from fixtures.gateway import Party, gateway_config, serve_gateway

PROVLINEAGE = str(Path(sys.executable).parent / "provlineage")
RELAY_KEY = "relay-key-for-gateway-a"


def _signing_transport(url: str, party: Party, state_dir: Path) -> dict:
    return {
        "type": "provlineage.transport.SigningTransport",
        "private_key": str(party.key_dir / "private_key.pem"),
        "state_dir": str(state_dir),
        "transport": {
            "type": "http",
            "url": url,
            "auth": {"type": "api_key", "apiKey": party.api_key},
            "retry": {"total": 0},
        },
    }


def _verify(log: Path, party: Party) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PROVLINEAGE, "verify", str(log), "--public-key", str(party.public_key)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_track_job_through_two_gateways(tmp_path: Path, parties: dict[str, Party]) -> None:
    from openlineage.client import OpenLineageClient

    import provlineage

    b_dir, a_dir = tmp_path / "b", tmp_path / "a"
    b_dir.mkdir()
    a_dir.mkdir()
    b_config = gateway_config(b_dir, parties)
    b_config["producers"].append(
        {"name": "relay", "api_key_sha256": hash_api_key(RELAY_KEY), "namespaces": ["*"],
         "public_keys": [str(parties["train"].public_key), str(parties["serve"].public_key)]}
    )  # fmt: skip
    with serve_gateway(b_config) as b:
        forward = {
            "spool_dir": str(a_dir / "spool"),
            "transport": {
                "type": "http",
                "url": b.url,
                "auth": {"type": "api_key", "apiKey": RELAY_KEY},
                "compression": "gzip",
            },
        }
        with serve_gateway(gateway_config(a_dir, parties, forward=forward)) as a:
            client = OpenLineageClient(
                config={"transport": _signing_transport(a.url, parties["train"], tmp_path / "st")}
            )
            model = tmp_path / "model.bin"
            model.write_bytes(b"weights")
            with provlineage.track("churn.train", kind="training", namespace="ml-train", client=client) as run:
                run.log_hyperparameters({"lr": 0.1})
                run.log_model(str(model), name="churn")
            a.settle()
            b.settle()
            assert a.store.quarantined() == [] and b.store.quarantined() == []
    arrived = b_dir / "downstream.jsonl"
    events = [json.loads(line) for line in arrived.read_text().splitlines()]
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    assert all(e["job"]["name"] == "churn.train" for e in events)
    assert not any((tmp_path / "st").rglob("*.json")), "the producer had to spool: the gateway did not take an event"
    done = _verify(arrived, parties["train"])
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.airflow
def test_airflow_dag_through_the_gateway(airflow_home: Path, tmp_path: Path, parties: dict[str, Party]) -> None:
    """The provider's stock http transport, wrapped by SigningTransport, with the key in its `auth` config."""
    with serve_gateway(gateway_config(tmp_path, parties)) as gateway:
        transport = _signing_transport(gateway.url, parties["train"], tmp_path / "state")
        env = {
            **clean_env(airflow_home),
            "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport),
            "AIRFLOW__OPENLINEAGE__NAMESPACE": "airflow",
        }
        done = subprocess.run(
            [sys.executable, str(airflow_home / "runner.py"), str(airflow_home / "dags"), TRAIN_DAG],
            env=env, capture_output=True, text=True, timeout=300, cwd=os.fspath(tmp_path),
        )  # fmt: skip
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
        results = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULTS "))[8:])
        assert results[TRAIN_DAG]["state"].endswith("success"), results
        gateway.settle()
        assert gateway.store.quarantined() == []
    arrived = tmp_path / "downstream.jsonl"
    events = [json.loads(line) for line in arrived.read_text().splitlines()]
    jobs = {e["job"]["name"] for e in events}
    assert TRAIN_DAG in jobs and any(name.startswith(f"{TRAIN_DAG}.") for name in jobs), jobs
    assert {e["job"]["namespace"] for e in events} == {"airflow"}
    done = _verify(arrived, parties["train"])
    assert done.returncode == 0, done.stdout + done.stderr
