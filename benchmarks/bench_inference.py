"""How fast inference records are logged and proven.

Measures, side by side in one run:

* ``Run.log_inference`` (the public API, through ``track()``) for small dict inputs scored by a hashed model,
  against the 20,000 records/s target;
* the same records with the canonical fast path turned off (every value through the general JSON converter),
  to show what the fast path buys;
* for a run of 10,000 records: building an inclusion proof from the log, and verifying proofs.

Run: ``python benchmarks/bench_inference.py [--records N]``.  Data is generated locally in a temp dir.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from openlineage.client.client import OpenLineageClient
from openlineage.client.transport.file import FileConfig, FileTransport

import provlineage
from provlineage import inference
from provlineage._internal import merkle
from provlineage._internal.canonical import canonical_bytes, prepare
from provlineage._internal.jsonsafe import to_json_safe
from provlineage.inference import prove_inference, verify_inclusion

TARGET = 20_000


def _inputs(count: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    plans = ("month-to-month", "one-year", "two-year")
    return [
        (
            {
                "customer": f"c{i:07d}",
                "tenure": i % 72,
                "monthly_charges": 19.5 + (i % 997) * 0.113,
                "contract": plans[i % 3],
                "support": i % 2 == 0,
            },
            {"churn_probability": (i % 1000) / 1001, "label": int(i % 5 == 0)},
        )
        for i in range(count)
    ]


def _log_run(directory: Path, name: str, pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> tuple[float, Path, str]:
    """Seconds spent in log_inference, the inference log written, and the first id."""
    client = OpenLineageClient(
        transport=FileTransport(FileConfig(log_file_path=str(directory / f"{name}.jsonl"), append=True))
    )
    model = directory / "model.bin"
    model.write_bytes(b"\x00" * 4096)
    with provlineage.track(f"bench.{name}", kind="inference", client=client, environment=False) as run:
        run.log_model(model, name="bench", role="input")
        first = run.log_inference(*pairs[0])
        started = time.perf_counter()
        for features, prediction in pairs[1:]:
            run.log_inference(features, prediction)
        elapsed = time.perf_counter() - started
    assert run.inference_log is not None and first is not None
    return elapsed, run.inference_log, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    pairs = _inputs(args.records + 1)
    with tempfile.TemporaryDirectory(prefix="bench-inference-") as tmp:
        directory = Path(tmp)
        _log_run(directory, "warmup", pairs[:2000])
        fast, _, _ = _log_run(directory, "fast", pairs)

        original = inference.canonical_json
        inference.canonical_json = lambda value: canonical_bytes(prepare(to_json_safe(value)))  # type: ignore[assignment]
        try:
            general, _, _ = _log_run(directory, "general", pairs)
        finally:
            inference.canonical_json = original

        _, log_path, first_id = _log_run(directory, "proofs", pairs[:10_000])
        started = time.perf_counter()
        proof = prove_inference(log_path, first_id)
        prove_seconds = time.perf_counter() - started
        (run,) = inference.read_inference_log(log_path, keep_records=True).values()
        leaves = run.leaf_list()
        proofs = [
            inference.InclusionProof(
                run.run_id,
                str(run.records[i]["id"]),
                i,
                len(leaves),
                run.records[i],
                [s.hex() for s in merkle.audit_path(i, leaves)],
                proof.merkle_root,
            )
            for i in range(0, len(leaves), 10)
        ]
        started = time.perf_counter()
        valid = sum(verify_inclusion(p, proof.merkle_root) for p in proofs)
        verify_each = (time.perf_counter() - started) / len(proofs)

    fast_rate, general_rate = args.records / fast, args.records / general
    print(f"log_inference, {args.records:,} small dict records (model digest, no payloads):")
    print(f"  fast canonical path   {fast_rate:>10,.0f} records/s   {fast_rate / TARGET:5.2f}x the {TARGET:,}/s target")
    print(
        f"  general converter     {general_rate:>10,.0f} records/s   fast path is {fast_rate / general_rate:4.2f}x faster"
    )
    print(f"inclusion proofs, one run of {len(leaves):,} records:")
    print(f"  prove_inference (reads and re-hashes the whole log)  {prove_seconds * 1000:8.1f} ms")
    print(
        f"  verify_inclusion, per proof                          {verify_each * 1e6:8.1f} us   ({valid}/{len(proofs)} valid)"
    )


if __name__ == "__main__":
    main()
