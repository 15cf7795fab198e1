"""Signed emission into the provlineage file backend vs openlineage-python's stock unsigned FileTransport.

Run: ``python benchmarks/bench_emit.py [--events 3000] [--rounds 5] [--profile small|large]``

Two event shapes, as attrs objects exactly as a client emits them:

* ``small``: an ordinary event of about 2-3 KB (a parent facet, a nominal-time facet, a schema facet on the input,
  one custom facet), where fixed per-event costs dominate;
* ``large``: an Airflow-like event (an environment facet with 200 distributions, a dataset hash facet with a
  manifest, hyperparameters), where serialization dominates.

For each shape both transports get the same events in the same process, in alternating rounds, each round into
a fresh file.  Reported per shape: median events/s of each (wall clock and per CPU-second of this process, which is
steadier on a busy machine), and their ratio, against the targets signed/stock >= 0.8 (small) and >= 1.0 (large)
with FileLogTransport's default durability; then raw signing throughput of Ed25519, ECDSA P-256 and
RSA-2048-PSS.  ``--profile SHAPE`` prints where the signed path spends its time on that shape.
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
from openlineage.client.facet_v2 import job_type_job, nominal_time_run, parent_run, schema_dataset
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

TARGETS = {"small": 0.8, "large": 1.0}


def make_small_events(count: int) -> list[RunEvent]:
    """``count`` ordinary events of ~2.5 KB: parent, nominal time, an input schema of 12 columns, one custom facet."""
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    fields = [
        schema_dataset.SchemaDatasetFacetFields(name=f"column_{i:02d}", type="VARCHAR", description="a column")
        for i in range(12)
    ]
    return [
        RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=(start + timedelta(seconds=i)).isoformat(),
            run=Run(
                runId=str(generate_new_uuid()),
                facets={
                    "parent": parent_run.ParentRunFacet(
                        run=parent_run.Run(runId=str(generate_new_uuid())),
                        job=parent_run.Job(namespace="airflow", name="etl_dag"),
                    ),
                    "nominalTime": nominal_time_run.NominalTimeRunFacet(
                        nominalStartTime=(start + timedelta(hours=i)).isoformat()
                    ),
                    "provlineage_hyperparameters": HyperparametersRunFacet(parameters={"batch": i % 7, "mode": "full"}),
                },
            ),
            job=Job(namespace="airflow", name="etl_dag.load_orders"),
            producer="https://example.com/bench",
            inputs=[
                InputDataset(
                    "postgres://db:5432",
                    "shop.public.orders",
                    facets={"schema": schema_dataset.SchemaDatasetFacet(fields=fields)},
                )
            ],
            outputs=[OutputDataset("s3://warehouse", "orders/daily")],
        )
        for i in range(count)
    ]


def make_large_events(count: int) -> list[RunEvent]:
    """``count`` Airflow-like events (distinct run ids and times) with a 200-distribution environment facet."""
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


def compare(events: list[RunEvent], rounds: int, workdir: Path, key: Path) -> tuple[dict[str, float], int]:
    """Alternating rounds of both transports on ``events``: median rates and the signed event size."""
    stock_rates: list[tuple[float, float]] = []
    signed_rates: list[tuple[float, float]] = []
    for index in range(rounds):
        for kind in ("stock", "signed") if index % 2 == 0 else ("signed", "stock"):
            directory = workdir / f"round-{index}-{kind}"
            directory.mkdir()
            if kind == "stock":
                stock_rates.append(run_round(stock_transport(directory), events))
            else:
                signed_rates.append(run_round(signed_transport(directory, key), events))
    size = len((workdir / "round-0-signed" / "signed.jsonl").read_bytes().split(b"\n", 1)[0])
    rates = {
        "stock": statistics.median(r[0] for r in stock_rates),
        "signed": statistics.median(r[0] for r in signed_rates),
        "stock_cpu": statistics.median(r[1] for r in stock_rates),
        "signed_cpu": statistics.median(r[1] for r in signed_rates),
    }
    return rates, size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="1000 events, 3 rounds")
    parser.add_argument("--profile", choices=("small", "large"), help="profile one signed round of that shape")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.rounds = 1000, 3

    workdir = Path(tempfile.mkdtemp(prefix="provlineage-bench-"))
    failed = False
    try:
        key = write_key_pair(workdir / "key", "ed25519").private_key
        print(f"events per round: {args.events}, rounds: {args.rounds} (alternating, median reported)")
        print("shape  size    stock ev/s (per CPU-s)   signed ev/s (per CPU-s)   ratio wall  ratio CPU  target")
        sizes = {}
        for shape, make in (("small", make_small_events), ("large", make_large_events)):
            directory = workdir / shape
            directory.mkdir()
            rates, sizes[shape] = compare(make(args.events), args.rounds, directory, key)
            ratio, ratio_cpu = rates["signed"] / rates["stock"], rates["signed_cpu"] / rates["stock_cpu"]
            verdict = "PASS" if ratio >= TARGETS[shape] else "FAIL"
            failed |= verdict == "FAIL"
            print(
                f"{shape:6} {sizes[shape]:6d} B {rates['stock']:9.0f} ({rates['stock_cpu']:9.0f})     "
                f"{rates['signed']:9.0f} ({rates['signed_cpu']:9.0f})      {ratio:5.2f}      {ratio_cpu:5.2f}    "
                f">= {TARGETS[shape]}  {verdict}"
            )
        print("raw signing throughput (sign/s over a message of the small / large signed event's size):")
        small_rates, large_rates = signing_throughput(sizes["small"]), signing_throughput(sizes["large"])
        for name in small_rates:
            print(f"  {name:13} {small_rates[name]:9.0f} / {large_rates[name]:9.0f}")
        if args.profile:
            directory = workdir / "profile"
            directory.mkdir()
            transport = signed_transport(directory, key)
            make = make_small_events if args.profile == "small" else make_large_events
            profiler = cProfile.Profile()
            profiler.runcall(run_round, transport, make(args.events))
            pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(25)
        return 1 if failed else 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
