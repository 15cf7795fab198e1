"""Verify throughput: `provlineage verify` on a 3,000-event log vs the older tool's verifier loop on 3,000 records.

The older loop (notes §5) parses each envelope, RSA-PSS-verifies ``signed_data`` and parses the record for its schema
check.  provlineage's log holds realistic events (environment facet with every installed distribution, a dataset hash,
hyperparameters), chained.  Both are timed in this process, alternating, and the median of several runs is compared.
The issue's target: provlineage >= 0.5x the old loop's records/s.

    python benchmarks/bench_verify.py [--events 3000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from openlineage.client.serde import Serde

from provlineage._internal.canonical import prepare
from provlineage.environment import collect_environment
from provlineage.facets import DatasetHashDatasetFacet
from provlineage.hyperparameters import hyperparameters_facet
from provlineage.keys import Keyring, write_key_pair
from provlineage.signer import KeySigner
from provlineage.signing import ChainLink, sign_event, signed_event_text
from provlineage.verification import verify_files

LEGACY_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)


def make_log(path: Path, signer: KeySigner, count: int) -> int:
    environment = Serde.to_dict(collect_environment())
    dataset = Serde.to_dict(DatasetHashDatasetFacet(algorithm="sha256", digest="ab" * 32, size=123456, fileCount=1))
    hyper = Serde.to_dict(hyperparameters_facet({"lr": 0.01, "epochs": 20, "l2": 1e-4, "api_token": "x"}))
    previous, size = None, 0
    with path.open("w") as handle:
        for sequence in range(1, count + 1):
            event = prepare(
                {
                    "eventType": "COMPLETE" if sequence % 2 == 0 else "START",
                    "eventTime": "2026-01-01T00:00:00.123456+00:00",
                    "producer": "https://github.com/provlineage/provlineage/tree/0.1.0",
                    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
                    "run": {
                        "runId": f"01900000-0000-7000-8000-{sequence:012d}",
                        "facets": {"provlineage_environment": environment, "provlineage_hyperparameters": hyper},
                    },
                    "job": {"namespace": "ml", "name": "train_churn"},
                    "inputs": [
                        {"namespace": "file", "name": "/data/churn.csv", "facets": {"provlineage_datasetHash": dataset}}
                    ],
                    "outputs": [],
                }
            )
            previous = sign_event(event, signer, chain=ChainLink("bench/stream", sequence, previous))
            line = signed_event_text(event) + "\n"
            size += len(line)
            handle.write(line)
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


def legacy_verifier_loop(path: Path, public_key: rsa.RSAPublicKey) -> int:
    """The older tool's companion verifier: parse, verify, schema check."""
    valid = 0
    with path.open() as handle:
        for line in handle:
            envelope = json.loads(line)
            try:
                public_key.verify(
                    base64.b64decode(envelope["signature"]),
                    envelope["signed_data"].encode(),
                    LEGACY_PSS,
                    hashes.SHA256(),
                )
            except Exception:
                continue
            record = json.loads(envelope["signed_data"])
            valid += record.get("schema_version") == envelope["schema_version"]
    return valid


def timed(function, *args, **kwargs) -> float:
    start = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        legacy_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        legacy_log = root / "legacy.jsonl"
        make_legacy_log(legacy_log, legacy_key, args.events)
        rows = []
        for algorithm in ("ed25519", "rsa-pss-2048", "ecdsa-p256"):
            keys = write_key_pair(root / algorithm, algorithm)
            signer = KeySigner.from_file(keys.private_key)
            log = root / f"{algorithm}.jsonl"
            line_size = make_log(log, signer, args.events)
            keyring = Keyring.from_files([keys.public_key])
            assert verify_files([log], keyring).ok
            ours, old = [], []
            for _ in range(args.repeat):
                old.append(timed(legacy_verifier_loop, legacy_log, legacy_key.public_key()))
                ours.append(timed(verify_files, [log], keyring))
            single = statistics.median(
                timed(verify_files, [log], keyring, workers=1) for _ in range(max(1, args.repeat // 2))
            )
            every = statistics.median(
                timed(verify_files, [log], keyring, every_signature=True) for _ in range(max(1, args.repeat // 2))
            )
            cli = statistics.median(
                timed(
                    subprocess.run,
                    [
                        sys.executable,
                        "-c",
                        "from provlineage.cli import main; main()",
                        "verify",
                        str(log),
                        "--public-key",
                        str(keys.public_key),
                    ],
                    capture_output=True,
                    check=True,
                )
                for _ in range(max(1, args.repeat // 2))
            )
            old_rate, our_rate = args.events / statistics.median(old), args.events / statistics.median(ours)
            rows.append(
                (algorithm, line_size, old_rate, our_rate, args.events / single, args.events / every, args.events / cli)
            )
        print(
            f"{args.events} records; old tool: RSA-PSS-2048 envelopes (~{legacy_log.stat().st_size // args.events} B/line)"
        )
        print(
            f"{'our key':14} {'B/event':>8} {'old rec/s':>10} {'ours rec/s':>11} {'1-core':>9} {'every-sig':>10} {'CLI e2e':>9} {'ratio':>6}  target >= 0.5"
        )
        for algorithm, size, old_rate, our_rate, single_rate, every_rate, cli_rate in rows:
            ratio = our_rate / old_rate
            verdict = "PASS" if ratio >= 0.5 else "FAIL"
            print(
                f"{algorithm:14} {size:8d} {old_rate:10.0f} {our_rate:11.0f} {single_rate:9.0f} {every_rate:10.0f} {cli_rate:9.0f} {ratio:6.2f}  {verdict}"
            )


if __name__ == "__main__":
    main()
