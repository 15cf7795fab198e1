"""201 means durably queued: a gateway killed with SIGKILL loses no accepted event, the producer's retry after
the crash is answered idempotently, and a downstream outage is bridged by provlineage's spool."""

from __future__ import annotations

import json
import re
import signal
import time
from pathlib import Path

import requests

from provlineage.gateway.auth import hash_api_key
from provlineage.keys import Keyring
from provlineage.verification import verify_files

from fixtures.gateway import (
    Chain,
    Party,
    free_port,
    gateway_config,
    post,
    serve_gateway,
    start_process,
    stop_process,
    write_config,
)


def _metric(url: str, name: str) -> float:
    text = requests.get(url + "/metrics", timeout=5).text
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match, name
    return float(match.group(1))


def test_sigkill_after_201_loses_nothing_and_the_retry_duplicates_nothing(
    tmp_path: Path, parties: dict[str, Party]
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a directory should be: neither downstream nor spool can be written")
    broken = {
        "spool_dir": str(blocker / "spool"),
        "transport": {"type": "provlineage.transport.FileLogTransport", "path": str(blocker / "downstream.jsonl")},
    }
    config = gateway_config(tmp_path, parties, forward=broken)
    process = start_process(write_config(tmp_path, config), config["port"])
    url = f"http://127.0.0.1:{config['port']}"
    chain = Chain(parties["train"])
    bodies = [chain.next() for _ in range(5)]
    try:
        assert [post(url, body, parties["train"].api_key).status_code for body in bodies] == [201] * 5
        assert _metric(url, 'provlineage_gateway_forward_queue_depth{stage="outbox"}') == 5
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    config["forward"] = {
        "spool_dir": str(tmp_path / "spool"),
        "transport": {"type": "provlineage.transport.FileLogTransport", "path": str(tmp_path / "downstream.jsonl")},
    }
    process = start_process(write_config(tmp_path, config), config["port"])
    try:
        # the producer never saw some answers (say) and retries all of them
        assert [post(url, body, parties["train"].api_key).status_code for body in bodies] == [200] * 5
        deadline = time.monotonic() + 20
        while _metric(url, 'provlineage_gateway_forward_queue_depth{stage="outbox"}') and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        code, log = stop_process(process)
    assert code == 0, log[-2000:]
    report = verify_files([tmp_path / "downstream.jsonl"], Keyring.from_files([parties["train"].public_key]))
    assert report.ok, report.to_json()
    assert len(report.records) == 5


def test_downstream_outage_is_bridged_by_the_spool(tmp_path: Path, parties: dict[str, Party]) -> None:
    """Gateway A forwards over HTTP to gateway B, which is down at first; A answers 201 and spools."""
    b_dir, a_dir = tmp_path / "b", tmp_path / "a"
    b_dir.mkdir()
    a_dir.mkdir()
    b_port = free_port()
    forward = {
        "spool_dir": str(a_dir / "spool"),
        "retry_interval": 0.2,
        "transport": {"type": "http", "url": f"http://127.0.0.1:{b_port}", "retry": {"total": 0},
                      "auth": {"type": "api_key", "apiKey": "relay"}},
    }  # fmt: skip
    chain = Chain(parties["train"])
    with serve_gateway(gateway_config(a_dir, parties, forward=forward)) as a:
        assert [post(a.url, chain.next(), parties["train"].api_key).status_code for _ in range(4)] == [201] * 4
        deadline = time.monotonic() + 20
        while a.gateway.forwarder.spool_state()[0] < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _metric(a.url, 'provlineage_gateway_forward_queue_depth{stage="spool"}') == 4
        assert _metric(a.url, "provlineage_gateway_forward_lag_seconds") > 0
        b_config = gateway_config(b_dir, parties, port=b_port)
        b_config["producers"].append(
            {"name": "relay", "api_key_sha256": hash_api_key("relay"), "namespaces": ["*"],
             "public_keys": [str(parties["train"].public_key)]}
        )  # fmt: skip
        with serve_gateway(b_config) as b:
            assert post(a.url, chain.next(), parties["train"].api_key).status_code == 201
            a.settle()
            b.settle()
    events = [json.loads(line) for line in (b_dir / "downstream.jsonl").read_text().splitlines()]
    assert [e["run"]["facets"]["provlineage_signature"]["sequence"] for e in events] == [1, 2, 3, 4, 5]
    report = verify_files([b_dir / "downstream.jsonl"], Keyring.from_files([parties["train"].public_key]))
    assert report.ok, report.to_json()
