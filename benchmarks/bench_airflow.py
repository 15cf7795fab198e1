"""Airflow plugin overhead: the same 5-task DAG (no datasets to hash) with the plugin on vs off.

Both modes use the same signing transport (``SigningTransport`` -> ``FileLogTransport``) in the provider's
default fork mode; only ``AIRFLOW__PROVLINEAGE__ENABLED`` differs.  Each sample is one subprocess that runs
``dag.test()`` ``--runs`` times; the first run of each process (imports, first-time set-up, very noisy) is
discarded.  Modes alternate, medians are compared.  The issue's target: ratio <= 1.05x, or <= 50 ms added
per task.

``dag.test()`` runs every task in one process, but a real worker starts a process per task, which pays the
plugin's one-time costs (importing its task-side modules, collecting the environment facet) once per task.
Those are measured separately, in fresh interpreters that have already imported what a task runner has.

    python benchmarks/bench_airflow.py [--rounds 3] [--runs 4]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TASKS = 5
DAG = f"""
from __future__ import annotations

import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG


def work(n: int) -> int:
    return sum(i * i for i in range(n))


with DAG("bench_plain", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False):
    previous = None
    for index in range({TASKS}):
        current = PythonOperator(task_id=f"step_{{index}}", python_callable=work, op_kwargs={{"n": 10_000}})
        if previous is not None:
            previous >> current
        previous = current
"""

RUNNER = """
import json, sys, time
from airflow.dag_processing.dagbag import DagBag

dag = DagBag(dag_folder=sys.argv[1]).dags["bench_plain"]
times = []
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    run = dag.test()
    times.append(time.perf_counter() - start)
    assert str(run.state) == "success", run.state
print("TIMES " + json.dumps(times))
"""


def environment(home: Path, enabled: bool) -> dict[str, str]:
    transport = {
        "type": "provlineage.transport.SigningTransport",
        "private_key": str(home / "keys" / "private_key.pem"),
        "state_dir": str(home / "state"),
        "transport": {"type": "provlineage.transport.FileLogTransport", "path": str(home / "events.jsonl")},
    }
    keep = {key: os.environ[key] for key in ("PATH", "LANG", "TMPDIR") if key in os.environ}
    return {
        **keep,
        "HOME": str(home),
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport),
        "AIRFLOW__PROVLINEAGE__ENABLED": str(enabled),
        "PROVLINEAGE_CACHE_DIR": str(home / "hash-cache"),
    }


def sample(home: Path, enabled: bool, runs: int) -> list[float]:
    done = subprocess.run(
        [sys.executable, str(home / "runner.py"), str(home / "dags"), str(runs)],
        env=environment(home, enabled),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark run failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return json.loads(next(line for line in done.stdout.splitlines() if line.startswith("TIMES "))[6:])


FRESH_PROCESS = """
import time
import airflow.providers.openlineage.plugins.listener, airflow.sdk.execution_time.task_runner  # a task runner has these
start = time.perf_counter()
import airflow_plugin.capture, airflow_plugin.facets, airflow_plugin.listener, airflow_plugin.provider
from airflow_plugin.settings import settings
settings()
airflow_plugin.capture.environment_facet()
print("FRESH", time.perf_counter() - start)
"""


def fresh_process_cost(home: Path) -> float:
    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS], env=environment(home, True), capture_output=True, text=True, check=True
    )
    return float(next(line for line in done.stdout.splitlines() if line.startswith("FRESH "))[6:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="subprocesses per mode (alternating)")
    parser.add_argument("--runs", type=int, default=4, help="dag.test() runs per subprocess (the first is cold)")
    args = parser.parse_args()

    from provlineage.keys import write_key_pair
    from provlineage.verification import verify_files

    with tempfile.TemporaryDirectory(prefix="provlineage-bench-airflow-") as tmp:
        home = Path(tmp)
        (home / "dags").mkdir()
        (home / "dags" / "bench_dag.py").write_text(DAG)
        (home / "runner.py").write_text(RUNNER)
        write_key_pair(home / "keys", "ed25519")
        airflow = Path(sys.executable).parent / "airflow"
        subprocess.run([str(airflow), "db", "migrate"], env=environment(home, False), check=True, capture_output=True)

        warm: dict[bool, list[float]] = {False: [], True: []}
        for round_number in range(args.rounds):
            for enabled in (False, True) if round_number % 2 == 0 else (True, False):
                warm[enabled].extend(sample(home, enabled, args.runs)[1:])
        fresh = statistics.median(fresh_process_cost(home) for _ in range(5))

        from provlineage.keys import Keyring

        report = verify_files([home / "events.jsonl"], Keyring.from_files([home / "keys" / "public_key.pem"]))
        print(f"DAG: {TASKS} PythonOperator tasks, no datasets; signing transport in both modes; fork mode")
        print(f"events written: {len(report.records)}, verify: {'OK' if report.ok else 'FAILED'}")
        off, on = statistics.median(warm[False]), statistics.median(warm[True])
        print(f"DAG run wall time, median of {len(warm[False])} runs per mode:")
        print(
            f"  plugin off {off * 1000:.0f} ms   plugin on {on * 1000:.0f} ms   ratio {on / off:.3f}x   "
            f"added {(on - off) * 1000 / TASKS:.1f} ms/task"
        )
        print(f"one-time cost per task process (imports + environment facet): {fresh * 1000:.1f} ms")


if __name__ == "__main__":
    main()
