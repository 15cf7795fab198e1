"""Producers through ``provlineage gateway`` vs. straight into the same downstream, side by side in one run.

Run: ``python benchmarks/bench_gateway.py [--producers 8] [--seconds 6] [--rounds 3] [--store sqlite|postgresql://...] [--quick]``

Each of N concurrent producers (threads, one keep-alive HTTP session and one signing stream each) sends
pre-signed run events for a bounded time (and at most ``--events`` each).  *Through*: ``POST /api/v1/lineage`` on
a gateway process on 127.0.0.1 (API key, signature, chain and namespace checks, SQLite store with fsync per
commit, 201 once durably queued), which forwards to provlineage's file log.  *Straight*: the same producers
append the same kind of events to the same downstream, a ``FileLogTransport`` with ``durability: always`` (also
durable at return).  The two alternate for ``--rounds`` rounds (the machine's load drifts); reported per round and
as medians: events/s, p50/p99 latency per event, and for the gateway the time until everything had reached the
downstream.  Every event must arrive exactly once (checked by digest): exit 1 otherwise.
The real Marquez cannot be had on this machine, so the downstream is the file log in both columns.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests
import yaml

from provlineage._internal.signed_event import SignedEvent
from provlineage.gateway.auth import hash_api_key
from provlineage.keys import write_key_pair
from provlineage.signer import KeySigner
from provlineage.signing import ChainLink, sign_event_line
from provlineage.transport.file_log import FileLogConfig, FileLogTransport

API_KEY = "bench-" + uuid.uuid4().hex


def _event(index: int) -> dict[str, Any]:
    return {
        "eventType": "COMPLETE",
        "eventTime": "2026-11-30T08:00:00.000Z",
        "producer": "https://example.org/bench",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": str(uuid.uuid4()), "facets": {"provlineage_hyperparameters": {"lr": 0.01, "epoch": index}}},
        "job": {"namespace": "ml-bench", "name": f"train.{index % 7}", "facets": {}},
        "inputs": [{"namespace": "s3://bench", "name": f"data/{index}.parquet"}],
        "outputs": [],
    }


def _streams(signer: KeySigner, producers: int, per_producer: int) -> list[list[tuple[str, str]]]:
    """Pre-signed (digest, text) per producer: signing costs the same in both columns, so it is left out."""
    streams = []
    for number in range(producers):
        stream, head, events = f"bench/{number}/{uuid.uuid4().hex[:8]}", None, []
        for sequence in range(1, per_producer + 1):
            line = sign_event_line(_event(sequence), signer, chain=ChainLink(stream, sequence, head))
            head = line.digest
            events.append((line.digest, line.text))
        streams.append(events)
    return streams


def _run(producers: list[list[tuple[str, str]]], send: Any, seconds: float) -> tuple[list[float], list[str], float]:
    """Send from every producer at once until done or ``seconds`` pass; latencies, digests sent, wall time."""
    latencies: list[list[float]] = [[] for _ in producers]
    sent: list[list[str]] = [[] for _ in producers]
    start = threading.Barrier(len(producers) + 1)
    deadline = [0.0]
    failures: list[str] = []

    def work(index: int) -> None:
        context = send.open() if hasattr(send, "open") else None
        start.wait()
        for digest, text in producers[index]:
            if time.perf_counter() > deadline[0]:
                break
            began = time.perf_counter()
            problem = send(context, text)
            latencies[index].append(time.perf_counter() - began)
            if problem:
                failures.append(problem)
                break
            sent[index].append(digest)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(producers))]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    if failures:
        raise SystemExit(f"a send failed: {failures[0]}")
    return [x for part in latencies for x in part], [d for part in sent for d in part], wall


def _arrived(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [
        json.loads(line)["run"]["facets"]["provlineage_signature"]["digest"] for line in path.read_text().splitlines()
    ]


def _check(name: str, sent: list[str], path: Path) -> bool:
    arrived = _arrived(path)
    lost, extra = set(sent) - set(arrived), len(arrived) - len(set(arrived))
    ok = not lost and not extra and len(arrived) == len(sent)
    print(
        f"{name}: {len(sent)} sent, {len(arrived)} arrived, {len(lost)} lost, {extra} duplicated -> {'OK' if ok else 'FAIL'}"
    )
    return ok


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_gateway(work: Path, store: str, public_key: Path, downstream: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    config = {
        "store": store,
        "port": port,
        "producers": [{"name": "bench", "api_key_sha256": hash_api_key(API_KEY), "namespaces": ["ml-bench"],
                       "public_keys": [str(public_key)], "rate_limit": {"per_second": 0}}],
        "forward": {"spool_dir": str(work / "spool"),
                    "transport": {"type": "provlineage.transport.FileLogTransport", "path": str(downstream)}},
    }  # fmt: skip
    (work / "gateway.yml").write_text(yaml.safe_dump(config))
    command = [str(Path(sys.executable).parent / "provlineage"), "gateway", "--config", str(work / "gateway.yml")]
    process = subprocess.Popen([*command, "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(url + "/readyz", timeout=1).status_code == 200:
                return process, url
        except requests.RequestException:
            pass
        if process.poll() is not None:
            raise SystemExit(f"gateway failed to start: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        time.sleep(0.1)
    raise SystemExit("gateway not ready")


class _Post:
    def __init__(self, url: str) -> None:
        self.url = url + "/api/v1/lineage"
        self.headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}

    def open(self) -> requests.Session:
        return requests.Session()

    def __call__(self, session: requests.Session, text: str) -> str | None:
        answer = session.post(self.url, data=text.encode(), headers=self.headers, timeout=30)
        return None if answer.status_code == 201 else f"HTTP {answer.status_code}: {answer.text[:300]}"


class _Append:
    def __init__(self, path: Path) -> None:
        self.transport = FileLogTransport(FileLogConfig.from_dict({"path": str(path), "durability": "always"}))

    def __call__(self, _: Any, text: str) -> str | None:
        self.transport.emit(SignedEvent(json.loads(text), json_text=text))
        return None


def _row(name: str, latencies: list[float], count: int, wall: float) -> dict[str, float]:
    """Print and return one column's events/s, p50 and p99 (ms)."""
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0
    row = {"events_s": count / wall, "p50_ms": statistics.median(ordered) * 1000, "p99_ms": p99 * 1000}
    print(f"{name:<28}{row['events_s']:>12.0f}{row['p50_ms']:>12.2f}{row['p99_ms']:>12.2f}")
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--producers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=6.0, help="upper bound per column and round")
    parser.add_argument("--events", type=int, default=1000, help="upper bound per producer and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported")
    parser.add_argument("--store", default="sqlite", help="sqlite (default) or a postgresql:// URL")
    parser.add_argument("--quick", action="store_true", help="1 round of 3 s, 300 events per producer")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.events, args.rounds = 3.0, 300, 1
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as tmp:
        work = Path(tmp)
        write_key_pair(work / "keys", "ed25519")
        signer = KeySigner.from_file(work / "keys" / "private_key.pem")
        print(f"{args.producers} producers, {args.rounds} rounds of <= {args.seconds:g} s and <= {args.events} events "
              f"each, straight and through alternating", flush=True)  # fmt: skip
        straight_log, gateway_log = work / "straight.jsonl", work / "downstream.jsonl"
        store = f"sqlite:///{work / 'state.db'}" if args.store == "sqlite" else args.store
        process, url = _start_gateway(work, store, work / "keys" / "public_key.pem", gateway_log)
        rows: dict[str, list[dict[str, float]]] = {"straight": [], "through": []}
        sent_s: list[str] = []
        sent_g: list[str] = []
        drains: list[float] = []
        print(f"\n{'':<28}{'events/s':>12}{'p50 ms':>12}{'p99 ms':>12}")
        try:
            for number in range(1, args.rounds + 1):
                latencies, sent, wall = _run(
                    _streams(signer, args.producers, args.events), _Append(straight_log), args.seconds
                )
                rows["straight"].append(_row(f"round {number}: straight", latencies, len(sent), wall))
                sent_s += sent
                latencies, sent, wall = _run(_streams(signer, args.producers, args.events), _Post(url), args.seconds)
                rows["through"].append(_row(f"round {number}: through", latencies, len(sent), wall))
                sent_g += sent
                drain_start = time.perf_counter()
                while len(_arrived(gateway_log)) < len(sent_g) and time.perf_counter() - drain_start < 60:
                    time.sleep(0.05)
                drains.append(time.perf_counter() - drain_start)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
        median = {
            name: {key: statistics.median(r[key] for r in found) for key in found[0]} for name, found in rows.items()
        }
        print(f"{'median: straight (file log)':<28}{median['straight']['events_s']:>12.0f}"
              f"{median['straight']['p50_ms']:>12.2f}{median['straight']['p99_ms']:>12.2f}")  # fmt: skip
        print(f"{'median: through the gateway':<28}{median['through']['events_s']:>12.0f}"
              f"{median['through']['p50_ms']:>12.2f}{median['through']['p99_ms']:>12.2f}")  # fmt: skip
        ratios = [t["events_s"] / s["events_s"] for s, t in zip(rows["straight"], rows["through"], strict=True)]
        print(f"throughput ratio gateway / straight, per round: {', '.join(f'{r:.2f}' for r in ratios)}; "
              f"median {statistics.median(ratios):.2f}")  # fmt: skip
        print(f"gateway: all accepted events had reached the downstream {max(drains):.2f} s after the last 201 "
              f"(worst round); store {args.store}, cores {os.cpu_count()}\n")  # fmt: skip
        ok = _check("straight", sent_s, straight_log) & _check("through the gateway", sent_g, gateway_log)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
