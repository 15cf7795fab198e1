"""Signed emission into the provlineage file backend vs openlineage-python's stock unsigned FileTransport.

Run: ``python benchmarks/bench_emit.py [--events 3000] [--rounds 5] [--profile]``

Both transports get the same realistic run events (an environment facet with ~200 distributions, a dataset
hash facet with a small manifest, hyperparameters), as attrs objects exactly as a client emits them, in the same
process, alternating rounds; each round writes a fresh file.  Reported: median events/s of each, their ratio
(target: signed >= 0.5 x stock, with FileLogTransport's default durability), and raw signing throughput of
Ed25519, ECDSA P-256 and RSA-2048-PSS.  ``--profile`` prints where the signed path spends its time.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import job_type_job, parent_run
from openlineage.client.transport.file import FileConfig, FileTransport
from openlineage.client.uuid import generate_new_uuid

from provlineage.facets import (
    DatasetHashDatasetFacet,
    EnvironmentRunFacet,
    HyperparametersRunFacet,
    ManifestEntry,
    ModelDatasetFacet,
)
from provlineage.keys import generate_private_key, write_key_pair
from provlineage.signer import KeySigner
from provlineage.transport import SigningConfig, SigningTransport

TARGET_RATIO = 0.5


def make_events(count: int) -> list[RunEvent]:
    """``count`` events of one realistic shape (distinct run ids and times)."""
    distributions = {f"package-{i:03d}": f"{i % 7}.{i % 13}.{i % 5}" for i in range(200)}
    manifest = [
        ManifestEntry(
            path=f"part-{i:04d}.parquet",
            digest="sha256:" + hashlib.sha256(b"part-%d" % i).hexdigest(),
            size=1_000_000 + i,
        )
        for i in range(20)
    ]
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    events = []
    for i in range(count):
        environment = EnvironmentRunFacet(
            python={"version": "3.11.7", "implementation": "CPython"},
            os={"system": "Linux", "release": "6.8.0"},
            architecture="x86_64",
            hostname="worker-1",
            cpuCount=8,
            memoryBytes=34_359_738_368,
            distributions=distributions,
            distributionsDigest="sha256:" + hashlib.sha256(b"distributions").hexdigest(),
            git={"commit": "0123456789abcdef0123456789abcdef01234567", "branch": "main", "dirty": False},
        )
        events.append(
            RunEvent(
                eventType=RunState.COMPLETE,
                eventTime=(start + timedelta(seconds=i)).isoformat(),
                run=Run(
                    runId=str(generate_new_uuid()),
                    facets={
                        "provlineage_environment": environment,
                        "provlineage_hyperparameters": HyperparametersRunFacet(
                            parameters={
                                "learning_rate": 0.001,
                                "epochs": 20,
                                "batch_size": 64,
                                "optimizer": "adam",
                                "dropout": 0.25,
                            }
                        ),
                        "parent": parent_run.ParentRunFacet(
                            run=parent_run.Run(runId=str(generate_new_uuid())),
                            job=parent_run.Job(namespace="airflow", name="train_dag"),
                        ),
                    },
                ),
                job=Job(
                    namespace="ml",
                    name="train_churn",
                    facets={"jobType": job_type_job.JobTypeJobFacet("BATCH", "PYTHON", "MODEL")},
                ),
                producer="https://example.com/bench",
                inputs=[
                    InputDataset(
                        "file",
                        "/data/churn/train",
                        facets={
                            "provlineage_datasetHash": DatasetHashDatasetFacet(
                                algorithm="sha256",
                                digest="sha256:" + hashlib.sha256(b"dataset").hexdigest(),
                                size=20_000_000,
                                fileCount=20,
                                kind="directory",
                                manifest=manifest,
                            )
                        },
                    )
                ],
                outputs=[
                    OutputDataset(
                        "file",
                        "/models/churn.pkl",
                        facets={
                            "provlineage_model": ModelDatasetFacet(
                                name="churn",
                                digest="sha256:" + hashlib.sha256(b"model").hexdigest(),
                                framework="sklearn",
                            )
                        },
                    )
                ],
            )
        )
    return events


def stock_transport(directory: Path) -> FileTransport:
    return FileTransport(FileConfig(log_file_path=str(directory / "stock.jsonl"), append=True))


def signed_transport(directory: Path, key: Path) -> SigningTransport:
    return SigningTransport(
        SigningConfig.from_dict(
            {
                "private_key": str(key),
                "state_dir": str(directory / "state"),
                "transport": {
                    "type": "provlineage.transport.FileLogTransport",
                    "path": str(directory / "signed.jsonl"),
                },
            }
        )
    )


def run_round(transport: Any, events: list[RunEvent]) -> tuple[float, float]:
    """Events per second of wall time and of this process's CPU time (steadier on a busy machine)."""
    emit = transport.emit
    started, cpu_started = time.perf_counter(), time.process_time()
    for event in events:
        emit(event)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    transport.close()
    return len(events) / elapsed, len(events) / cpu


def signing_throughput(message_size: int, seconds: float = 0.5) -> dict[str, float]:
    message = b"x" * message_size
    rates = {}
    for name in ("ed25519", "ecdsa-p256", "rsa-pss-2048"):
        signer = KeySigner(generate_private_key(name))
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            signer.sign(message)
            count += 1
        rates[name] = count / (time.perf_counter() - started)
    return rates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="profile one signed round with cProfile")
    args = parser.parse_args(argv)

    events = make_events(args.events)
    workdir = Path(tempfile.mkdtemp(prefix="provlineage-bench-"))
    try:
        key = write_key_pair(workdir / "key", "ed25519").private_key
        stock_rates: list[tuple[float, float]] = []
        signed_rates: list[tuple[float, float]] = []
        for index in range(args.rounds):
            for kind in ("stock", "signed") if index % 2 == 0 else ("signed", "stock"):
                directory = workdir / f"round-{index}-{kind}"
                directory.mkdir()
                if kind == "stock":
                    stock_rates.append(run_round(stock_transport(directory), events))
                else:
                    signed_rates.append(run_round(signed_transport(directory, key), events))
        line = (workdir / "round-0-signed" / "signed.jsonl").read_text().splitlines()[0]
        stock, signed = statistics.median(r[0] for r in stock_rates), statistics.median(r[0] for r in signed_rates)
        stock_cpu, signed_cpu = (
            statistics.median(r[1] for r in stock_rates),
            statistics.median(r[1] for r in signed_rates),
        )
        ratio = signed / stock
        print(f"events per round: {args.events}, rounds: {args.rounds}, signed event size: {len(line.encode())} bytes")
        print("median events/s                              wall      (per CPU-second)   rounds (wall)")
        print(
            f"stock FileTransport(append=True), unsigned {stock:9.0f}  ({stock_cpu:9.0f})       "
            f"{', '.join(f'{r[0]:.0f}' for r in stock_rates)}"
        )
        print(
            f"SigningTransport -> FileLogTransport       {signed:9.0f}  ({signed_cpu:9.0f})       "
            f"{', '.join(f'{r[0]:.0f}' for r in signed_rates)}"
        )
        print(
            f"ratio signed/stock: {ratio:.2f} wall, {signed_cpu / stock_cpu:.2f} CPU  (target >= {TARGET_RATIO})  "
            f"{'PASS' if ratio >= TARGET_RATIO else 'FAIL'}"
        )
        print("raw signing throughput (sign/s over a message of the signed event's size):")
        for name, rate in signing_throughput(max(len(line.encode()), 1)).items():
            print(f"  {name:13} {rate:9.0f}")
        if args.profile:
            directory = workdir / "profile"
            directory.mkdir()
            transport = signed_transport(directory, key)
            profiler = cProfile.Profile()
            profiler.runcall(run_round, transport, events)
            pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(25)
        return 0 if ratio >= TARGET_RATIO else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
