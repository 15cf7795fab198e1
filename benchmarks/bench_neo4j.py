"""Neo4j export throughput: a 100,000-event signed log imported into a real Neo4j, then imported again.

The log (50,000 runs, START + COMPLETE each, one signing stream, Ed25519) is signed with provlineage's own
``sign_event_line``; one run in five trains a model (hyperparameters, metrics with a slice, two input datasets),
the others read one dataset and write another.  Neo4j is the test harness from ``tests/fixtures/neo4j/``
(started here, Bolt on 127.0.0.1), unless ``--uri`` names a running server (its database is NOT wiped: use an
empty one).  Printed, all in one run:

* read: verify + build the graph (``lineage_from_files``), events/s (log events / seconds, on every line);
* first import into an empty database (schema, UNWIND batches), events/s, and end to end (read + write);
* the same log again: with the watermarks (no run rewritten) and with ``--full`` (every run MERGEd again);
* the log grown by 1%: the incremental import, compared with the full import;
* rows/s per kind of row, and the same server's rate for the simplest batched MERGE (for scale).

Target: the grown-log import costs at most 0.25 of a full import (it writes only the new part).

    python benchmarks/bench_neo4j.py [--events 100000] [--batch-size 2000] [--uri bolt://...] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from provlineage._internal.canonical import prepare
from provlineage.export.neo4j import Neo4jExporter
from provlineage.keys import Keyring, write_key_pair
from provlineage.lineage import lineage_from_files
from provlineage.signer import KeySigner
from provlineage.signing import ChainLink, sign_event_line

REPO = Path(__file__).resolve().parents[1]
TARGET_GROWN = 0.25
PRODUCER = "https://github.com/provlineage/provlineage/tree/0.1.0"
SCHEMA = "https://provlineage.github.io/facets/1-0-0/"


def _facet(schema: str, **fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": f"{SCHEMA}{schema}.json", **fields}


def _dataset(name: str, digest_seed: int, **facets: Any) -> dict[str, Any]:
    digest = f"sha256:{digest_seed:064x}"
    hashed = _facet("DatasetHashDatasetFacet", algorithm="sha256", digest=digest, size=1000 + digest_seed, fileCount=1)
    return {"namespace": "file", "name": name, "facets": {"provlineage_datasetHash": hashed, **facets}}


def run_events(index: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """START and COMPLETE of run ``index``: every fifth trains a model, the others transform a dataset."""
    run_id = f"01900000-0000-7000-8000-{index:012d}"
    minute, second = divmod(index % 3600, 60)
    day = 1 + index // 3600 % 28
    job = {"namespace": "bench", "name": f"bench.job_{index % 100}"}
    environment = _facet(
        "EnvironmentRunFacet",
        python={"version": "3.11.9", "implementation": "CPython"},
        os={"name": "Linux", "release": "6.8.0"},
        architecture="x86_64",
        hostname=f"worker-{index % 4}",
        distributions={"numpy": "1.26.4", "scikit-learn": "1.5.0"},
        distributionsDigest="sha256:" + "d" * 64,
    )
    start: dict[str, Any] = {
        "eventType": "START",
        "eventTime": f"2026-03-{day:02d}T10:{minute:02d}:{second:02d}.000000Z",
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run_id, "facets": {"provlineage_environment": environment}},
        "job": job,
    }
    complete = {**start, "eventType": "COMPLETE", "eventTime": start["eventTime"].replace("10:", "11:", 1)}
    complete["run"] = {"runId": run_id, "facets": {}}
    if index % 5 == 0:
        model_digest = f"sha256:{(10**9 + index):064x}"
        model = _facet("ModelDatasetFacet", name=f"model-{index % 200}", digest=model_digest, version=str(index))
        complete["inputs"] = [_dataset(f"/data/train_{index % 1000}.csv", index), _dataset("/data/holdout.csv", 7)]
        complete["outputs"] = [
            {
                "namespace": "file",
                "name": f"/models/model_{index % 200}.json",
                "facets": {"provlineage_model": model},
            }
        ]
        complete["run"]["facets"] = {
            "provlineage_hyperparameters": _facet(
                "HyperparametersRunFacet", parameters={"C": index % 7, "max_iter": 200}, redactedKeys=[]
            ),
            "provlineage_metrics": _facet(
                "MetricsRunFacet",
                metrics={"auc": 0.8 + index % 10 / 100},
                dataset={"namespace": "file", "name": "/data/holdout.csv"},
                slices=[{"name": "recent", "metrics": {"auc": 0.75}}],
            ),
        }
    else:
        complete["inputs"] = [_dataset(f"/data/raw_{index % 5000}.csv", 10**6 + index % 5000)]
        complete["outputs"] = [_dataset(f"/data/clean_{index}.csv", 2 * 10**6 + index)]
    return start, complete


def make_log(
    path: Path, signer: KeySigner, runs: range, previous: tuple[int, str | None] = (0, None)
) -> tuple[int, str | None]:
    """Append the signed events of ``runs`` to ``path``, continuing the chain at ``previous``; returns its new end."""
    sequence, digest = previous
    with path.open("a", encoding="utf-8") as handle:
        for index in runs:
            for event in run_events(index):
                sequence += 1
                signed = sign_event_line(prepare(event), signer, chain=ChainLink("bench/stream", sequence, digest))
                digest = signed.digest
                handle.write(signed.text + "\n")
    return sequence, digest


@contextmanager
def neo4j_uri(uri: str | None, work: Path) -> Iterator[str]:
    if uri:
        yield uri
        return
    sys.path.insert(0, str(REPO / "tests"))
    from fixtures.neo4j import running_neo4j

    with running_neo4j(work, heap="2g", pagecache_mb=512) as server:
        yield server.uri


def raw_merge_rate(driver: Any, count: int, batch: int) -> float:
    """Rows/s of the simplest batched MERGE on this server (a uniquely constrained label, one property set)."""
    driver.execute_query("CREATE CONSTRAINT bench_baseline IF NOT EXISTS FOR (b:BenchBaseline) REQUIRE b.id IS UNIQUE")
    rows = [{"id": f"baseline-{i}", "value": i} for i in range(count)]
    start = time.perf_counter()
    for first in range(0, count, batch):
        driver.execute_query(
            "UNWIND $rows AS row MERGE (b:BenchBaseline {id: row.id}) SET b.value = row.value",
            rows=rows[first : first + batch],
        )
    seconds = time.perf_counter() - start
    driver.execute_query("MATCH (b:BenchBaseline) DETACH DELETE b")
    driver.execute_query("DROP CONSTRAINT bench_baseline IF EXISTS")
    return count / seconds


def timed(label: str, events: int, action: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = action()
    seconds = time.perf_counter() - start
    print(f"{label:58} {seconds:8.2f} s  {events / seconds:10,.0f} events/s", flush=True)
    return seconds, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events in the log (two per run)")
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--uri", help="a running, empty Neo4j (default: start the test harness)")
    parser.add_argument("--quick", action="store_true", help="10,000 events")
    args = parser.parse_args()
    events = 10_000 if args.quick else args.events
    runs = events // 2
    grown_runs = max(runs // 100, 1)
    import neo4j

    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        keys = write_key_pair(work / "keys", "ed25519")
        signer, keyring = KeySigner.from_file(keys.private_key), Keyring.from_files([keys.public_key])
        log = work / "lineage.jsonl"
        start = time.perf_counter()
        end = make_log(log, signer, range(runs))
        print(f"generated and signed {2 * runs:,} events in {time.perf_counter() - start:.1f} s", flush=True)
        with (
            neo4j_uri(args.uri, work) as uri,
            neo4j.GraphDatabase.driver(uri, auth=None, notifications_min_severity="OFF") as driver,
        ):
            exporter = Neo4jExporter(driver, batch_size=args.batch_size)
            baseline = raw_merge_rate(driver, 50_000 if not args.quick else 10_000, args.batch_size)
            read_s, lineage = timed(
                "read: verify + build the graph", 2 * runs, lambda: lineage_from_files([log], keyring)
            )
            write_s, first = timed(
                "first import into an empty database (write only)", 2 * runs, lambda: exporter.export(lineage, keyring)
            )
            row_ops = sum(first.rows.values())
            for name, seconds in first.seconds.items():
                if first.rows.get(name):
                    rate = first.rows[name] / seconds
                    print(f"    {name:14} {first.rows[name]:9,} rows {seconds:8.2f} s {rate:9,.0f} rows/s")
            total = 2 * runs / (read_s + write_s)
            print(f"{'first import end to end (read + write)':58} {read_s + write_s:8.2f} s  {total:10,.0f} events/s")
            again_s, _ = timed(
                "same log again, watermarks (write only)", 2 * runs, lambda: exporter.export(lineage, keyring)
            )
            full_s, _ = timed(
                "same log again, --full: every run MERGEd (write only)",
                2 * runs,
                lambda: exporter.export(lineage, keyring, full=True),
            )
            make_log(log, signer, range(runs, runs + grown_runs), end)
            grown = lineage_from_files([log], keyring)
            grown_s, result = timed(
                f"log grown by {2 * grown_runs:,} events: incremental (write only)",
                2 * (runs + grown_runs),
                lambda: exporter.export(grown, keyring),
            )
            nodes = driver.execute_query("MATCH (n) RETURN count(n) AS n").records[0]["n"]
            rels = driver.execute_query("MATCH ()-[r]->() RETURN count(r) AS n").records[0]["n"]
    ratio = grown_s / write_s
    ours = row_ops / write_s
    print(
        f"\nrows written by the first import: {row_ops:,} in {write_s:.1f} s = {ours:,.0f} rows/s; the same server's "
        f"bare UNWIND MERGE (one property, one label): {baseline:,.0f} rows/s; ratio {ours / baseline:.2f} (information)"
    )
    print(f"\ngraph: {nodes:,} nodes, {rels:,} relationships; grown import wrote {result.runs_written:,} runs")
    print(f"re-import ratios to the first import: watermarks {again_s / write_s:.3f}, --full {full_s / write_s:.2f}")
    verdict = "PASS" if ratio <= TARGET_GROWN else "FAIL"
    print(f"{verdict}: grown-log import / full import = {ratio:.3f} (target <= {TARGET_GROWN})")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
