"""Verify throughput: `provlineage verify` vs the older tool's verifier, both timed as whole processes.

Anchor (issue #14): the older tool's companion verifier (notes §5) parses each envelope, RSA-PSS-verifies
``signed_data`` and parses the record for its schema check.  It runs as its own Python process over N of its own
records; ``provlineage verify LOG --public-key PEM`` runs as a process over N signed, chained events.  Both are
timed alternately in the same run, and the medians are compared as records/s.  Two event shapes:

* ``small``: an ordinary ~2-3 KB event (parent, nominal-time, schema and one custom facet, the dataset hash);
* ``large``: an Airflow-like event (environment facet with ~200 distributions, a dataset hash, hyperparameters,
  whose values are signed as salted commitments and so take the parsing path).

Target: ours / anchor >= 0.8 on small events, by wall time.  Also printed: the same ratio by CPU time (user +
system of each whole process, far less disturbed when other work shares the machine), both again for
``--workers 1`` (one process, whatever the log size), start-up (``verify --help``) and in-process records/s on one
core and with the default worker choice (all cores from ``PARALLEL_BYTES`` of log; forking this benchmark's big
process costs more than forking the CLI's small one, as every page a child touches is copied).

    python benchmarks/bench_verify.py [--events 3000] [--repeat 7] [--algorithm ed25519] [--quick] [--break-even]

``--break-even`` adds the measurement behind ``PARALLEL_BYTES`` (the log size from which ``verify`` forks one
process per core): whole ``verify`` processes with ``--workers 1`` and ``--workers 2``, side by side, by log size.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from provlineage._internal.canonical import prepare
from provlineage.keys import Keyring, write_key_pair
from provlineage.signer import KeySigner
from provlineage.signing import ChainLink, sign_event_line
from provlineage.verification import verify_files

TARGET_SMALL = 0.8
LEGACY_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)

# The older tool's verifier, run as a process of its own: ``python legacy_verify.py LOG PUBLIC_PEM``.
LEGACY_VERIFIER = textwrap.dedent(
    """
    import base64, json, sys
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)
    key = serialization.load_pem_public_key(open(sys.argv[2], "rb").read())
    valid = 0
    with open(sys.argv[1]) as handle:
        for line in handle:
            envelope = json.loads(line)
            try:
                key.verify(base64.b64decode(envelope["signature"]), envelope["signed_data"].encode(), PSS,
                           hashes.SHA256())
            except Exception:
                continue
            record = json.loads(envelope["signed_data"])
            valid += record.get("schema_version") == envelope["schema_version"]
    print(valid)
    """
)


def small_event(sequence: int) -> dict[str, Any]:
    """An ordinary task event: parent, nominal time, a dataset schema and one custom facet (~2-3 KB signed)."""
    fields = [{"name": f"column_{i}", "type": "DOUBLE" if i % 3 else "VARCHAR"} for i in range(18)]
    return {
        "eventType": "COMPLETE" if sequence % 2 == 0 else "START",
        "eventTime": f"2026-03-01T10:{sequence // 60 % 60:02d}:{sequence % 60:02d}.123456+00:00",
        "producer": "https://github.com/provlineage/provlineage/tree/0.1.0",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {
            "runId": f"01900000-0000-7000-8000-{sequence:012d}",
            "facets": {
                "parent": {
                    "_producer": "https://github.com/apache/airflow",
                    "_schemaURL": "https://openlineage.io/spec/facets/1-1-0/ParentRunFacet.json#/$defs/ParentRunFacet",
                    "run": {"runId": "01900000-0000-7000-8000-000000000000"},
                    "job": {"namespace": "airflow", "name": "etl_daily"},
                },
                "nominalTime": {
                    "_producer": "https://github.com/apache/airflow",
                    "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet",
                    "nominalStartTime": "2026-03-01T00:00:00Z",
                    "nominalEndTime": "2026-03-02T00:00:00Z",
                },
            },
        },
        "job": {"namespace": "airflow", "name": "etl_daily.transform"},
        "inputs": [
            {
                "namespace": "postgres://db:5432",
                "name": "analytics.public.orders",
                "facets": {
                    "provlineage_datasetHash": {
                        "_producer": "https://github.com/provlineage/provlineage/tree/0.1.0",
                        "_schemaURL": "https://provlineage.github.io/facets/1-0-0/DatasetHashDatasetFacet.json",
                        "algorithm": "sha256",
                        "digest": "sha256:" + "ab" * 32,
                        "size": 20_000_000,
                        "fileCount": 20,
                    },
                    "schema": {
                        "_producer": "https://github.com/apache/airflow",
                        "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
                        "fields": fields,
                    },
                },
            }
        ],
        "outputs": [{"namespace": "postgres://db:5432", "name": "analytics.public.orders_daily"}],
    }


def large_event(sequence: int) -> dict[str, Any]:
    """An Airflow-like event: environment facet with ~200 distributions, hyperparameters (salted, withholdable)."""
    event = small_event(sequence)
    event["run"]["facets"]["provlineage_environment"] = {
        "_producer": "https://github.com/provlineage/provlineage/tree/0.1.0",
        "_schemaURL": "https://provlineage.github.io/facets/1-0-0/EnvironmentRunFacet.json",
        "python": {"version": "3.11.7", "implementation": "CPython"},
        "os": {"system": "Linux", "release": "6.8.0"},
        "hostname": "worker-1",
        "distributions": {f"package-{i:03d}": f"{i % 7}.{i % 13}.{i % 5}" for i in range(200)},
    }
    event["run"]["facets"]["provlineage_hyperparameters"] = {
        "_producer": "https://github.com/provlineage/provlineage/tree/0.1.0",
        "_schemaURL": "https://provlineage.github.io/facets/1-0-0/HyperparametersRunFacet.json",
        "parameters": {"learning_rate": 0.001, "epochs": 20, "batch_size": 64, "dropout": 0.25},
    }
    return event


def make_log(path: Path, signer: KeySigner, count: int, shape: Callable[[int], dict[str, Any]]) -> int:
    """Sign ``count`` chained events into ``path`` as the file backend stores them; returns bytes per line."""
    previous, size = None, 0
    with path.open("w", encoding="utf-8") as handle:
        for sequence in range(1, count + 1):
            signed = sign_event_line(
                prepare(shape(sequence)), signer, chain=ChainLink("bench/stream", sequence, previous)
            )
            previous = signed.digest
            size += len(signed.text) + 1
            handle.write(signed.text + "\n")
    return size // count


def make_legacy_log(path: Path, key: rsa.RSAPrivateKey, count: int) -> None:
    with path.open("w") as handle:
        for i in range(count):
            record = {
                "type": "dataset",
                "path": f"/data/{i}.csv",
                "hash": "ab" * 32,
                "description": "training data",
                "timestamp": 1.7e9 + i,
                "schema_version": "1.1",
            }
            signed_data = json.dumps(record, sort_keys=True)
            signature = base64.b64encode(key.sign(signed_data.encode(), LEGACY_PSS, hashes.SHA256())).decode()
            handle.write(
                json.dumps({"schema_version": "1.1", "signed_data": signed_data, "signature": signature}) + "\n"
            )


# Both processes run as installed software does: with bytecode caches (pip writes them at install time).  A
# PYTHONDONTWRITEBYTECODE=1 environment would make every run recompile provlineage's modules from source (tens of
# milliseconds, charged to start-up) but not the anchor's stdlib and cryptography imports, whose caches exist.
_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def run_process(command: list[str]) -> float:
    return run_process_timed(command)[0]


def run_process_timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one whole process; CPU time is much less disturbed by other load."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True, env=_ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def timed(function: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    start = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--algorithm", default="ed25519", choices=["ed25519", "ecdsa-p256", "rsa-pss-2048"])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--break-even", action="store_true", help="also time 1 vs 2 processes by log size")
    args = parser.parse_args()
    repeat = 3 if args.quick else args.repeat
    verify_cli = [sys.executable, "-c", "from provlineage.cli import main; main()", "verify"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        legacy_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        legacy_pem = root / "legacy_public.pem"
        legacy_pem.write_bytes(
            legacy_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        legacy_log, legacy_script = root / "legacy.jsonl", root / "legacy_verify.py"
        make_legacy_log(legacy_log, legacy_key, args.events)
        legacy_script.write_text(LEGACY_VERIFIER)
        keys = write_key_pair(root / "keys", args.algorithm)
        signer, keyring = KeySigner.from_file(keys.private_key), Keyring.from_files([keys.public_key])
        run_process([*verify_cli, "--help"])  # warm-up: bytecode caches written, files in the page cache
        startup = statistics.median(run_process([*verify_cli, "--help"]) for _ in range(repeat))
        print(
            f"{args.events} records per log; anchor: the older tool's verifier as a process "
            f"(RSA-PSS-2048, ~{legacy_log.stat().st_size // args.events} B/line); ours: {args.algorithm}, "
            f"CLI start-up {startup * 1000:.0f} ms"
        )
        print(
            f"{'shape':6} {'B/event':>8} {'anchor rec/s':>12} {'ours rec/s':>11} {'ratio':>6} {'CPU ratio':>10} "
            f"{'1-proc ratio':>13} {'1-proc CPU':>11} {'in-proc 1-core':>15} {'in-proc auto':>13}  target"
        )
        for name, shape in (("small", small_event), ("large", large_event)):
            log = root / f"{name}.jsonl"
            line_size = make_log(log, signer, args.events, shape)
            if not verify_files([log], keyring).ok:
                raise SystemExit(f"the {name} log does not verify")
            ours, old, one = [], [], []
            run_process([sys.executable, str(legacy_script), str(legacy_log), str(legacy_pem)])  # warm-up
            for _ in range(repeat):
                old.append(run_process_timed([sys.executable, str(legacy_script), str(legacy_log), str(legacy_pem)]))
                ours.append(run_process_timed([*verify_cli, str(log), "--public-key", str(keys.public_key)]))
                one.append(
                    run_process_timed([*verify_cli, str(log), "--public-key", str(keys.public_key), "--workers", "1"])
                )
            single = statistics.median(timed(verify_files, [log], keyring, workers=1) for _ in range(repeat))
            auto = statistics.median(timed(verify_files, [log], keyring) for _ in range(repeat))
            old_rate = args.events / statistics.median(wall for wall, _ in old)
            our_rate = args.events / statistics.median(wall for wall, _ in ours)
            ratio = our_rate / old_rate
            cpu_ratio = statistics.median(cpu for _, cpu in old) / statistics.median(cpu for _, cpu in ours)
            one_ratio = statistics.median(wall for wall, _ in old) / statistics.median(wall for wall, _ in one)
            one_cpu = statistics.median(cpu for _, cpu in old) / statistics.median(cpu for _, cpu in one)
            verdict = (
                ("PASS" if ratio >= TARGET_SMALL else "FAIL") + f" (>= {TARGET_SMALL})" if name == "small" else "-"
            )
            print(
                f"{name:6} {line_size:8d} {old_rate:12.0f} {our_rate:11.0f} {ratio:6.2f} {cpu_ratio:10.2f} "
                f"{one_ratio:13.2f} {one_cpu:11.2f} {args.events / single:15.0f} {args.events / auto:13.0f}  {verdict}"
            )
        if args.break_even:
            break_even(root, signer, keys.public_key, verify_cli, repeat)


def break_even(root: Path, signer: KeySigner, public_key: Path, verify_cli: list[str], repeat: int) -> None:
    """Whole ``verify`` processes on one and on two processes, by log size: where forking starts to pay."""
    print(f"\n{'shape':6} {'log KiB':>8} {'1 process ms':>13} {'2 processes ms':>15} {'speed-up':>9}")
    for name, shape, counts in (
        ("small", small_event, (200, 400, 800, 1600, 3200)),
        ("large", large_event, (70, 140, 280, 560)),
    ):
        for count in counts:
            log = root / f"break-even-{name}-{count}.jsonl"
            make_log(log, signer, count, shape)
            command = [*verify_cli, str(log), "--public-key", str(public_key), "--workers"]
            run_process([*command, "1"])
            one, two = [], []
            for _ in range(repeat):
                one.append(run_process([*command, "1"]))
                two.append(run_process([*command, "2"]))
            one_ms, two_ms = statistics.median(one) * 1000, statistics.median(two) * 1000
            print(f"{name:6} {log.stat().st_size // 1024:8d} {one_ms:13.1f} {two_ms:15.1f} {one_ms / two_ms:9.2f}")


if __name__ == "__main__":
    main()
