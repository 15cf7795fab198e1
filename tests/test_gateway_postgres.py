"""Two gateway processes sharing one real PostgreSQL: interleaved events of the same streams, no false gap, no
double forward.  Each stream's events alternate between the processes, some are sent to both at once (a retry
racing the original through a load balancer), and some consecutive pairs race each other."""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from provlineage._internal.canonical import loads
from provlineage.keys import Keyring
from provlineage.verification import verify_records

from fixtures.gateway import Chain, Party, free_port, gateway_config, post, run_event, start_process, stop_process
from fixtures.gateway import write_config as write_yaml

STREAMS, EVENTS = 6, 24


def _gauge(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match, name
    return float(match.group(1))


def _drained(urls: list[str], timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = [requests.get(url + "/metrics", timeout=5).text for url in urls]
        if all(
            _gauge(t, 'provlineage_gateway_forward_queue_depth{stage="outbox"}') == 0
            and _gauge(t, 'provlineage_gateway_forward_queue_depth{stage="spool"}') == 0
            for t in texts
        ):
            return texts[0]
        time.sleep(0.1)
    raise AssertionError("the gateways did not drain their outbox")


def _send_stream(urls: list[str], party: Party, namespace: str, index: int) -> list[int]:
    """One producer's stream, alternating between the two processes; returns every status seen."""
    chain = Chain(party)
    statuses: list[int] = []
    with ThreadPoolExecutor(2) as both:
        pending: list[str] = []
        for number in range(1, EVENTS + 1):
            pending.append(chain.next(run_event(namespace=namespace, name=f"job{index}")))
            if number % 6 == 0:  # the same event to both processes at once: one 201, one 200
                pair = list(both.map(lambda url: post(url, pending[-1], party.api_key).status_code, urls))
                assert sorted(pair) == [200, 201], pair
                statuses += pair
                pending.clear()
            elif number % 6 == 4:  # keep it for a race with the next one
                continue
            elif number % 6 == 5:  # events 4 and 5 race each other on the two processes
                jobs = [(urls[0], pending[0]), (urls[1], pending[1])]
                statuses += list(both.map(lambda job: post(job[0], job[1], party.api_key).status_code, jobs))
                pending.clear()
            else:
                statuses.append(post(urls[number % 2], pending.pop(), party.api_key).status_code)
    return statuses


def test_two_processes_on_one_postgres(tmp_path: Path, parties: dict[str, Party], postgres_url: str) -> None:
    downstream = tmp_path / "downstream.jsonl"
    processes, urls = [], []
    try:
        for name in ("a", "b"):
            directory = tmp_path / name
            directory.mkdir()
            port = free_port()
            forward = {
                "spool_dir": str(directory / "spool"),
                "transport": {"type": "provlineage.transport.FileLogTransport", "path": str(downstream)},
            }
            config = gateway_config(directory, parties, store=postgres_url, forward=forward, port=port)
            processes.append(start_process(write_yaml(directory, config), port))
            urls.append(f"http://127.0.0.1:{port}")
        producers = [(parties["train"], "ml-train"), (parties["serve"], "ml-serve")]
        with ThreadPoolExecutor(STREAMS) as pool:
            results = list(pool.map(lambda i: _send_stream(urls, *producers[i % 2], i), range(STREAMS)))
        for statuses in results:
            assert statuses.count(201) == EVENTS and set(statuses) <= {200, 201}, statuses
        metrics = _drained(urls)
        assert _gauge(metrics, "provlineage_gateway_open_gap_events") == 0
        assert _gauge(metrics, "provlineage_gateway_open_gap_streams") == 0
    finally:
        codes = [stop_process(process) for process in processes]
    assert [code for code, _ in codes] == [0, 0], [err[-2000:] for _, err in codes]
    lines = downstream.read_text().splitlines()
    digests = [json.loads(line)["run"]["facets"]["provlineage_signature"]["digest"] for line in lines]
    assert len(digests) == STREAMS * EVENTS == len(set(digests))  # nothing lost, nothing forwarded twice
    keyring = Keyring.from_files([parties["train"].public_key, parties["serve"].public_key])
    report = verify_records([("downstream", n, loads(line)) for n, line in enumerate(lines, 1)], keyring)
    assert report.ok, report.to_json()
    assert sorted(s.last_sequence for s in report.streams.values()) == [EVENTS] * STREAMS
