"""How fast inference records are logged and proven.

Measures, side by side in one run, for two record shapes (small: a 5-feature dict scored into 2 values; large: a
64-float feature vector with nested metadata scored into 10 class probabilities):

* ``Run.log_inference`` (the public API, through ``track()``, a hashed model, no payloads kept), timed from the
  first record to the end of the ``track()`` block (the last batch written and the seal), against the 50,000
  records/s target of issue #14 (small shape);
* the same with keyed digests (``inference_digest_key=``, HMAC-SHA-256);
* the same records with the canonical fast path turned off (every value through the general JSON converter), to
  show what the fast path buys;
* the anchor: the least a hand-written digest log does per record (``json.dumps(sort_keys=True)`` of input and
  output, two SHA-256 digests, one JSON line appended to a buffered file), with no ids, Merkle tree or locking;
* for a run of 10,000 small records: building an inclusion proof from the log, and verifying proofs.

Run: ``python benchmarks/bench_inference.py [--records N] [--rounds R] [--quick]``.  Each measurement is the best of R
interleaved runs (other processes on the machine slow single runs down).  Data is generated locally in a temp dir.
"""

from __future__ import annotations

import argparse
import hashlib
import json
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
from provlineage.inference import prove_inference, recorder, verify_inclusion, write_digest_key

TARGET = 50_000
Pair = tuple[dict[str, Any], dict[str, Any]]


def _small(count: int) -> list[Pair]:
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


def _large(count: int) -> list[Pair]:
    pairs = []
    for i in range(count):
        scores = [((i * 7 + k * 13) % 1000 + 1) / 1009 for k in range(10)]
        total = sum(scores)
        pairs.append(
            (
                {
                    "request": f"req-{i:09d}",
                    "features": [((i + k) % 997) / 997 * 3.7 - 1.3 for k in range(64)],
                    "meta": {"source": "batch", "region": ("eu", "us", "ap")[i % 3], "attempt": i % 4 + 1},
                },
                {"probabilities": [s / total for s in scores], "label": max(range(10), key=scores.__getitem__)},
            )
        )
    return pairs


def _log_run(directory: Path, name: str, pairs: list[Pair], digest_key: Path | None = None) -> tuple[float, Path, str]:
    """Seconds from the second record to the end of the run (last batch and seal), the log written, the first id."""
    client = OpenLineageClient(
        transport=FileTransport(FileConfig(log_file_path=str(directory / f"{name}.jsonl"), append=True))
    )
    model = directory / "model.bin"
    model.write_bytes(b"\x00" * 4096)
    with provlineage.track(
        f"bench.{name}", kind="inference", client=client, environment=False, inference_digest_key=digest_key
    ) as run:
        run.log_model(model, name="bench", role="input")
        first = run.log_inference(*pairs[0])  # opens the log: a once-per-run cost
        started = time.perf_counter()
        for features, prediction in pairs[1:]:
            run.log_inference(features, prediction)
    elapsed = time.perf_counter() - started
    assert run.inference_log is not None and first is not None
    return elapsed, run.inference_log, first


def _anchor(directory: Path, name: str, pairs: list[Pair]) -> float:
    """The hand-written digest log: sorted-key JSON, two SHA-256 digests, a line per record."""
    sha256, dumps = hashlib.sha256, json.dumps
    started = time.perf_counter()
    with open(directory / f"{name}.anchor.jsonl", "a", encoding="utf-8") as handle:
        for features, prediction in pairs[1:]:
            record = {
                "inputDigest": sha256(dumps(features, sort_keys=True).encode()).hexdigest(),
                "outputDigest": sha256(dumps(prediction, sort_keys=True).encode()).hexdigest(),
                "time": time.time(),
            }
            handle.write(dumps(record) + "\n")
    return time.perf_counter() - started


def _general_path(value: Any) -> bytes:
    return canonical_bytes(prepare(to_json_safe(value, exact_text=True)))


def _log_run_general(directory: Path, name: str, pairs: list[Pair]) -> float:
    """:func:`_log_run` with the canonical fast path off (every value through the general converter)."""
    original = recorder.canonical_json  # the name InferenceRecorder.record calls
    recorder.canonical_json = _general_path  # type: ignore[assignment]
    try:
        return _log_run(directory, name, pairs)[0]
    finally:
        recorder.canonical_json = original


def _shape(directory: Path, label: str, pairs: list[Pair], rounds: int) -> float:
    """Print one shape's rows (best of ``rounds`` interleaved runs each); returns log_inference's records/s."""
    count = len(pairs) - 1
    key = directory / f"{label}.digest-key"
    if not key.exists():
        write_digest_key(key)
    fast, keyed, general, anchor = [], [], [], []
    for round_ in range(rounds):
        fast.append(_log_run(directory, f"{label}-fast-{round_}", pairs)[0])
        keyed.append(_log_run(directory, f"{label}-keyed-{round_}", pairs, key)[0])
        general.append(_log_run_general(directory, f"{label}-general-{round_}", pairs))
        anchor.append(_anchor(directory, f"{label}-{round_}", pairs))
    fast_rate, general_rate, anchor_rate = count / min(fast), count / min(general), count / min(anchor)
    keyed_rate = count / min(keyed)
    sizes = f"{len(json.dumps(pairs[1][0])):,} + {len(json.dumps(pairs[1][1]))} bytes of JSON"
    print(f"{label}: {count:,} records of {sizes}, best of {rounds} interleaved runs")
    print(f"  log_inference             {fast_rate:>10,.0f} records/s   {fast_rate / anchor_rate:5.2f}x the anchor")
    print(f"  ... keyed digests (HMAC) {keyed_rate:>10,.0f} records/s   {keyed_rate / anchor_rate:5.2f}x the anchor")
    print(
        f"  general converter only    {general_rate:>10,.0f} records/s   fast path is {fast_rate / general_rate:4.2f}x"
    )
    print(f"  anchor (json+sha256+line) {anchor_rate:>10,.0f} records/s")
    return fast_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="small records (large: a fifth of these)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per measurement (the best counts)")
    parser.add_argument("--quick", action="store_true", help="20,000 small records, 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.records, args.rounds = 20_000, 2
    logging.basicConfig(level=logging.WARNING)
    small, large = _small(args.records + 1), _large(args.records // 5 + 1)
    with tempfile.TemporaryDirectory(prefix="bench-inference-") as tmp:
        directory = Path(tmp)
        _log_run(directory, "warmup", small[:2000])
        _log_run(directory, "warmup-large", large[:500])
        small_rate = _shape(directory, "small", small, args.rounds)
        _shape(directory, "large", large, args.rounds)

        _, log_path, first_id = _log_run(directory, "proofs", small[:10_000])
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

    verdict = "PASS" if small_rate >= TARGET else "FAIL"
    print(
        f"target (issue #14): log_inference >= {TARGET:,} records/s on small records: {small_rate / TARGET:.2f}x, {verdict}"
    )
    print(f"inclusion proofs, one run of {len(leaves):,} records:")
    print(f"  prove_inference (reads and re-hashes the whole log)  {prove_seconds * 1000:8.1f} ms")
    print(
        f"  verify_inclusion, per proof                          {verify_each * 1e6:8.1f} us   ({valid}/{len(proofs)} valid)"
    )


if __name__ == "__main__":
    main()
