"""Emit latency with a network backend beside the file log: healthy, and hung, against the file log alone.

Run: ``python benchmarks/bench_delivery.py [--events 200] [--processes 4] [--quick]``

Three configurations of SigningTransport, each emitting the same small run events from ``--processes`` processes
at once into one stream (one key, state directory and destinations):

* ``file``: a FileLogTransport only (the baseline);
* ``file+http``: a composite of the same file log and openlineage-python's ``http`` transport to a local endpoint
  that answers 200 at once;
* ``file+hung``: the same, but the endpoint holds every request without answering (openlineage-python's default
  HTTP retries, a read timeout of an hour).

Reported: per configuration, median and maximum emit latency over all processes, and the ratios to ``file``.  The
target for ``file+hung`` is that no emit waits much longer than ``delivery_timeout`` (the default, 2 s): the
maximum must stay below 2.5 s, whatever the backend does.  The local endpoint is a plain HTTP server, not Marquez.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from provlineage.keys import write_key_pair

CHILD = """
import json, sys, time
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.transport import get_default_factory
from openlineage.client.uuid import generate_new_uuid

config, count = json.loads(sys.argv[1]), int(sys.argv[2])
transport = get_default_factory().create(config)
latencies = []
for index in range(count):
    event = RunEvent(eventType=RunState.COMPLETE, eventTime="2026-03-01T12:00:00Z",
                     run=Run(runId=str(generate_new_uuid())), job=Job(namespace="bench", name=f"step-{index}"),
                     producer="https://example.com/bench")
    started = time.perf_counter()
    transport.emit(event)
    latencies.append(time.perf_counter() - started)
print(json.dumps(latencies))
import os; os._exit(0)  # leave a hung sender behind without waiting exit_timeout
"""


class Endpoint:
    """A local HTTP endpoint that answers 200, or holds every request while ``hung`` is set."""

    def __init__(self) -> None:
        self.hung = threading.Event()
        self.release = threading.Event()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if endpoint.hung.is_set():
                    endpoint.release.wait()
                    return
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def config(directory: Path, key: Path, url: str | None) -> dict[str, Any]:
    file_log = {"type": "provlineage.transport.FileLogTransport", "path": str(directory / "events.jsonl")}
    inner: dict[str, Any] = file_log
    if url is not None:
        http = {"type": "http", "url": url, "timeout": 3600}
        inner = {"type": "composite", "transports": {"http": http, "file": file_log}}
    return {
        "type": "provlineage.transport.SigningTransport",
        "private_key": str(key),
        "state_dir": str(directory / "state"),
        "transport": inner,
    }


def run(directory: Path, key: Path, url: str | None, processes: int, events: int) -> list[float]:
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, json.dumps(config(directory, key, url)), str(events)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    latencies: list[float] = []
    for child in children:
        out, _ = child.communicate()
        latencies += json.loads(out.strip().splitlines()[-1])
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200, help="events per process")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="50 events per process")
    args = parser.parse_args()
    events = 50 if args.quick else args.events
    endpoint = Endpoint()
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        write_key_pair(root / "keys", "ed25519")
        key = root / "keys" / "private_key.pem"
        results = {
            "file": run(root / "file", key, None, args.processes, events),
            "file+http": run(root / "http", key, endpoint.url, args.processes, events),
        }
        endpoint.hung.set()
        results["file+hung"] = run(root / "hung", key, endpoint.url, args.processes, events)
        endpoint.release.set()
    base = statistics.median(results["file"])
    print(f"{args.processes} processes x {events} events each, one stream")
    print(f"{'configuration':<12} {'median ms':>10} {'max ms':>10} {'median / file':>14}")
    for name, latencies in results.items():
        median = statistics.median(latencies)
        print(f"{name:<12} {median * 1000:>10.2f} {max(latencies) * 1000:>10.0f} {median / base:>14.2f}")
    worst = max(results["file+hung"])
    verdict = "PASS" if worst < 2.5 else "FAIL"
    print(f"{verdict}: longest emit with a hung HTTP backend {worst:.2f} s (target < 2.5 s, delivery_timeout 2 s)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
