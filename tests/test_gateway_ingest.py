"""The gateway's ingest path on a real uvicorn server with a SQLite store and a file-log downstream."""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from provlineage.cli import cli
from provlineage.keys import Keyring
from provlineage.verification import verify_files

from fixtures.gateway import Chain, Party, gateway_config, post, run_event, serve_gateway, write_config


@pytest.fixture
def gateway(tmp_path: Path, parties: dict[str, Party]):
    with serve_gateway(gateway_config(tmp_path, parties)) as served:
        yield served


def downstream(tmp_path: Path) -> list[dict]:
    path = tmp_path / "downstream.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_in_order_events_are_accepted_forwarded_and_verify(gateway, tmp_path: Path, parties: dict[str, Party]) -> None:
    chain = Chain(parties["train"])
    answers = [post(gateway.url, chain.next(), parties["train"].api_key) for _ in range(5)]
    assert [a.status_code for a in answers] == [201] * 5
    assert answers[0].json()["status"] == "accepted" and answers[0].json()["sequence"] == 1
    gateway.settle()
    report = verify_files([tmp_path / "downstream.jsonl"], Keyring.from_files([parties["train"].public_key]))
    assert report.ok, report.to_json()
    assert [s.last_sequence for s in report.streams.values()] == [5]


def test_duplicate_is_answered_idempotently_and_forwarded_once(
    gateway, tmp_path: Path, parties: dict[str, Party]
) -> None:
    chain = Chain(parties["train"])
    first = chain.next()
    assert post(gateway.url, first, parties["train"].api_key).status_code == 201
    again = post(gateway.url, first, parties["train"].api_key)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    gateway.settle()
    assert len(downstream(tmp_path)) == 1
    assert gateway.store.quarantined() == []  # a producer's retry is not a refusal
    metrics = requests.get(gateway.url + "/metrics", timeout=5).text
    assert 'provlineage_gateway_duplicates_total{producer="train"} 1.0' in metrics


def test_late_event_opens_a_gap_that_closes_when_it_arrives(
    gateway, tmp_path: Path, parties: dict[str, Party], caplog: pytest.LogCaptureFixture
) -> None:
    chain = Chain(parties["train"])
    one, two, three = chain.next(), chain.next(), chain.next()
    key = parties["train"].api_key
    assert post(gateway.url, one, key).status_code == 201
    with caplog.at_level(logging.INFO, logger="provlineage.gateway"):
        ahead = post(gateway.url, three, key)  # two is still in the producer's spool
    assert ahead.status_code == 201 and ahead.json()["chain"] == f"sequence 2 of stream {chain.stream} not received yet"
    assert [r.event for r in caplog.records if getattr(r, "event", "").startswith("gap")] == ["gap-opened"]
    metrics = requests.get(gateway.url + "/metrics", timeout=5).text
    assert "provlineage_gateway_open_gap_events 1.0" in metrics
    [(stream, head, missing, since)] = gateway.store.open_gaps()
    assert (stream, head, missing) == (chain.stream, 3, 1) and time.time() - 60 < since <= time.time()
    oldest = re.search(r"^provlineage_gateway_open_gap_oldest_seconds (\S+)$", metrics, re.MULTILINE)
    assert oldest and 0 < float(oldest.group(1)) < 60
    config = write_config(tmp_path, gateway_config(tmp_path, parties))
    listed = CliRunner().invoke(cli, ["gateway", "--config", str(config), "gaps"])
    assert listed.exit_code == 0 and listed.output.startswith(f"{chain.stream}\thead 3\tmissing 1\topen since 20")
    assert post(gateway.url, two, key).status_code == 201
    assert gateway.store.open_gaps() == []
    metrics = requests.get(gateway.url + "/metrics", timeout=5).text
    assert "provlineage_gateway_open_gap_events 0.0" in metrics
    assert "provlineage_gateway_open_gap_oldest_seconds 0.0" in metrics
    assert CliRunner().invoke(cli, ["gateway", "--config", str(config), "gaps"]).output == "no open gaps\n"


def test_broken_link_is_refused(gateway, tmp_path: Path, parties: dict[str, Party]) -> None:
    chain = Chain(parties["train"])
    assert post(gateway.url, chain.next(), parties["train"].api_key).status_code == 201
    chain.head = "sha256:" + "0" * 64  # the next event links to something that is not event 1
    answer = post(gateway.url, chain.next(), parties["train"].api_key)
    assert answer.status_code == 409 and answer.json()["error"] == "broken-link"
    gateway.settle()
    assert len(downstream(tmp_path)) == 1


@pytest.mark.parametrize(
    "case",
    [
        (b'{"eventType": "START", "run": ', "application/json", 400, "malformed-json"),
        (b"\xff\xfe not text", "application/json", 400, "malformed-json"),
        (b'{"hello": "world"}', "application/json", 422, "not-an-event"),
        (b"[1, 2, 3]", "application/json", 422, "not-an-event"),
        (b"<event/>", "application/xml", 415, "wrong-content-type"),
        (b'{"a": 1}', "", 415, "wrong-content-type"),
    ],
)
def test_bad_bodies_get_a_clear_status_and_are_quarantined(
    gateway, parties: dict[str, Party], case: tuple[bytes, str, int, str]
) -> None:
    body, content_type, status, reason = case
    answer = post(gateway.url, body, parties["train"].api_key, content_type=content_type)
    assert answer.status_code == status
    assert answer.json()["error"] == reason and answer.json()["detail"]
    entry = gateway.store.quarantine_entry(answer.json()["quarantineId"])
    assert (entry.reason, entry.producer, entry.status) == (reason, "train", status)
    assert entry.body == body.decode("utf-8", "backslashreplace")
    assert requests.get(gateway.url + "/healthz", timeout=5).status_code == 200  # still up


def test_oversize_body_is_refused_with_413(tmp_path: Path, parties: dict[str, Party]) -> None:
    config = gateway_config(tmp_path, parties, limits={"max_body_bytes": 2048})
    with serve_gateway(config) as served:
        event = run_event()
        event["run"]["facets"]["padding"] = {"x": "y" * 5000}
        answer = post(served.url, json.dumps(event), parties["train"].api_key)
        assert answer.status_code == 413 and answer.json()["error"] == "too-large"

        def chunks():  # no Content-Length: the limit holds while reading too
            yield b'{"run": {"facets": {"pad": "'
            for _ in range(10):
                yield b"z" * 1000

        chunked = requests.post(
            served.url + "/api/v1/lineage", data=chunks(),
            headers={"Authorization": f"Bearer {parties['train'].api_key}", "Content-Type": "application/json"},
            timeout=10,
        )  # fmt: skip
        assert chunked.status_code == 413
        assert {e.reason for e in served.store.quarantined()} == {"too-large"}
        assert post(served.url, Chain(parties["train"]).next(), parties["train"].api_key).status_code == 201


def test_flood_from_one_producer_gets_429_and_others_go_through(tmp_path: Path, parties: dict[str, Party]) -> None:
    config = gateway_config(tmp_path, parties, limits={"rate_limit": {"per_second": 0.01, "burst": 5}})
    with serve_gateway(config) as served:
        flood = Chain(parties["train"])
        statuses = [post(served.url, flood.next(), parties["train"].api_key).status_code for _ in range(12)]
        assert statuses[:5] == [201] * 5 and 429 in statuses[5:]
        limited = post(served.url, flood.next(), parties["train"].api_key)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
        other = Chain(parties["serve"])
        event = run_event(namespace="ml-serve")
        assert post(served.url, other.next(event), parties["serve"].api_key).status_code == 201
        metrics = requests.get(served.url + "/metrics", timeout=5).text
        assert 'provlineage_gateway_rate_limited_total{producer="train"}' in metrics


def test_health_readiness_and_metrics(gateway, parties: dict[str, Party]) -> None:
    assert requests.get(gateway.url + "/healthz", timeout=5).json() == {"status": "ok"}
    assert requests.get(gateway.url + "/readyz", timeout=5).json() == {"ready": True}
    assert post(gateway.url, Chain(parties["train"]).next(), parties["train"].api_key).status_code == 201
    assert post(gateway.url, b"{}", None).status_code == 401
    gateway.settle()
    metrics = requests.get(gateway.url + "/metrics", timeout=5)
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    for expected in (
        'provlineage_gateway_accepted_total{producer="train"} 1.0',
        'provlineage_gateway_rejected_total{reason="unauthenticated"} 1.0',
        'provlineage_gateway_forward_queue_depth{stage="outbox"} 0.0',
        'provlineage_gateway_forward_queue_depth{stage="spool"} 0.0',
        "provlineage_gateway_forward_lag_seconds 0.0",
        'provlineage_gateway_request_seconds_bucket{le="0.5",status="201"} 1.0',
        "provlineage_gateway_forwarded_total 1.0",
        "provlineage_gateway_store_up 1.0",
    ):
        assert expected in text, expected


def test_store_failure_answers_503_and_accepts_nothing(tmp_path: Path, parties: dict[str, Party]) -> None:
    with serve_gateway(gateway_config(tmp_path, parties)) as served:
        served.store.close()  # as if the database went away under the running gateway
        answer = post(served.url, Chain(parties["train"]).next(), parties["train"].api_key)
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
        assert answer.json()["error"] == "unavailable"
        assert requests.get(served.url + "/readyz", timeout=5).status_code == 503
        assert requests.get(served.url + "/healthz", timeout=5).status_code == 200


def test_gzip_bodies_as_openlineage_http_sends_them(tmp_path: Path, parties: dict[str, Party]) -> None:
    import gzip

    config = gateway_config(tmp_path, parties, limits={"max_body_bytes": 4096})
    headers = {"Authorization": f"Bearer {parties['train'].api_key}", "Content-Type": "application/json"}
    with serve_gateway(config) as served:
        packed = gzip.compress(Chain(parties["train"]).next().encode())
        answer = requests.post(served.url + "/api/v1/lineage", data=packed,
                               headers={**headers, "Content-Encoding": "gzip"}, timeout=10)  # fmt: skip
        assert answer.status_code == 201
        bomb = gzip.compress(b'{"run": "' + b"0" * 1_000_000 + b'"}')  # ~1 KB on the wire
        assert len(bomb) < 4096
        answer = requests.post(served.url + "/api/v1/lineage", data=bomb,
                               headers={**headers, "Content-Encoding": "gzip"}, timeout=10)  # fmt: skip
        assert answer.status_code == 413
        answer = requests.post(served.url + "/api/v1/lineage", data=b"{}",
                               headers={**headers, "Content-Encoding": "br"}, timeout=10)  # fmt: skip
        assert answer.status_code == 415 and answer.json()["error"] == "wrong-content-encoding"
