"""Airflow plugin overhead on two event shapes, plugin on vs off, measured side by side in one run.

Shapes (neither has datasets to hash):

* ``small``: ``bench_plain``, 5 ``PythonOperator`` tasks provlineage does not recognise.  Their events carry
  only ``provlineage_environment`` from the plugin (ordinary small events);
* ``large``: ``bench_training``, 5 training tasks (recognised by task id) with templated ``op_kwargs`` and DAG
  ``params``.  Their events also carry ``provlineage_hyperparameters`` (redacted by Airflow's masker and
  provlineage's redaction), like the example training DAG.

Both modes use the same signing transport (``SigningTransport`` -> ``FileLogTransport``) in the provider's
default fork mode; only ``AIRFLOW__PROVLINEAGE__ENABLED`` differs.  Each sample is one subprocess that runs one
DAG ``--runs`` times (one shape per process, as in a worker: the large shape's secret detection does not weigh on
the small one's forks); the first run of each process (imports, first-time set-up) is discarded.  Modes and shapes
alternate; medians are compared.  Wall time is what a user waits; CPU time (the process and its reaped children:
the provider's forked emitters, git) is the work done, and it is far less disturbed by other load on the machine.

``dag.test()`` runs every task in one process, but a worker that starts a process per task also pays the
plugin's one-time costs in each task process (its modules, the environment facet); those are measured in fresh
interpreters that have already imported what a task runner has, and added to give the per-task figure of such
a worker.  Target (issue 14): at most 20 ms added per task on the DAG with no datasets to hash.

    python benchmarks/bench_airflow.py [--rounds 3] [--runs 4] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

TASKS = 5
TARGET_MS = 20
SHAPES = {"small": "bench_plain", "large": "bench_training"}
DAG = f"""
from __future__ import annotations

import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG


def work(n: int) -> int:
    return sum(i * i for i in range(n))


def fit(n, learning_rate, epochs, optimizer, tracking_uri, seed=7):
    return work(n)


with DAG("bench_plain", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False):
    previous = None
    for index in range({TASKS}):
        current = PythonOperator(task_id=f"step_{{index}}", python_callable=work, op_kwargs={{"n": 10_000}})
        if previous is not None:
            previous >> current
        previous = current

with DAG(
    "bench_training",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    params={{"learning_rate": 0.05, "epochs": 30, "features": ["tenure", "charges", "calls", "contract"]}},
):
    previous = None
    for index in range({TASKS}):
        current = PythonOperator(
            task_id=f"train_{{index}}",
            python_callable=fit,
            op_kwargs={{
                "n": 10_000,
                "learning_rate": "{{{{ params.learning_rate }}}}",
                "epochs": "{{{{ params.epochs }}}}",
                "optimizer": {{"name": "adam", "betas": [0.9, 0.999], "weight_decay": 0.0001}},
                "tracking_uri": "https://mlflow.example.com/api/2.0",
            }},
        )
        if previous is not None:
            previous >> current
        previous = current
"""

RUNNER = """
import json, resource, sys, time
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
dags = [bag.dags[dag_id] for dag_id in sys.argv[3:]]


def cpu():
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


times = {dag.dag_id: [] for dag in dags}
for run in range(int(sys.argv[2])):
    for dag in dags if run % 2 == 0 else reversed(dags):
        wall, work = time.perf_counter(), cpu()
        state = dag.test().state
        times[dag.dag_id].append((time.perf_counter() - wall, cpu() - work))
        assert str(state) == "success", state
print("TIMES " + json.dumps(times))
"""

FRESH_PROCESS = """
import resource, sys, time
import airflow.providers.openlineage.plugins.listener, airflow.sdk.execution_time.task_runner  # a task runner has these


def cpu():
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


wall, work = time.perf_counter(), cpu()
import airflow_plugin.capture, airflow_plugin.facets, airflow_plugin.listener, airflow_plugin.provider
from airflow_plugin.settings import settings
settings()
from airflow_plugin.preload import preload_signing_transport
preload_signing_transport()  # the signing transport, loaded once here instead of in every forked emitter
from provlineage.environment import collect_environment
collect_environment(entry_file=sys.argv[2])  # the DAG file: its digest, and git looked up from its directory
if sys.argv[1] == "large":  # a recognised task also records its arguments (and loads the redaction)
    import provlineage.hyperparameters
    try:
        import airflow_plugin.arguments
    except ImportError:  # releases before the plugin's arguments module
        pass
print("FRESH", time.perf_counter() - wall, cpu() - work)
"""


def environment(home: Path, enabled: bool) -> dict[str, str]:
    transport = {
        "type": "provlineage.transport.SigningTransport",
        "private_key": str(home / "keys" / "private_key.pem"),
        "state_dir": str(home / "state"),
        "transport": {"type": "provlineage.transport.FileLogTransport", "path": str(home / f"events-{enabled}.jsonl")},
    }
    keep = {key: os.environ[key] for key in ("PATH", "LANG", "TMPDIR", "PYTHONPATH") if key in os.environ}
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


def sample(home: Path, enabled: bool, runs: int, dag_id: str) -> dict[str, list[tuple[float, float]]]:
    done = subprocess.run(
        [sys.executable, str(home / "runner.py"), str(home / "dags"), str(runs), dag_id],
        env=environment(home, enabled),
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark run failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return json.loads(next(line for line in done.stdout.splitlines() if line.startswith("TIMES "))[6:])


def fresh_process_cost(home: Path, shape: str) -> tuple[float, float]:
    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, shape, str(home / "dags" / "bench_dags.py")],
        env=environment(home, True),
        capture_output=True,
        text=True,
        check=True,
    )
    wall, cpu = next(line for line in done.stdout.splitlines() if line.startswith("FRESH ")).split()[1:]
    return float(wall), float(cpu)


def event_sizes(log: Path) -> dict[tuple[str, str], list[int]]:
    """Bytes of each stored (signed, canonical) line, by (DAG, event type), task events only."""
    sizes: dict[tuple[str, str], list[int]] = defaultdict(list)
    for line in log.read_bytes().splitlines():
        event = json.loads(line)
        dag, _, task = event["job"]["name"].partition(".")
        if task:
            sizes[(dag, event["eventType"])].append(len(line))
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="subprocesses per mode (alternating)")
    parser.add_argument("--runs", type=int, default=4, help="runs of each DAG per subprocess (the first is cold)")
    parser.add_argument("--quick", action="store_true", help="one round of 3 runs per mode")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.runs = 1, 3

    from provlineage.keys import Keyring, write_key_pair
    from provlineage.verification import verify_files

    with tempfile.TemporaryDirectory(prefix="provlineage-bench-airflow-") as tmp:
        home = Path(tmp)
        (home / "dags").mkdir()
        (home / "dags" / "bench_dags.py").write_text(DAG)
        (home / "runner.py").write_text(RUNNER)
        write_key_pair(home / "keys", "ed25519")
        airflow = Path(sys.executable).parent / "airflow"
        subprocess.run([str(airflow), "db", "migrate"], env=environment(home, False), check=True, capture_output=True)

        warm: dict[tuple[str, bool], list[tuple[float, float]]] = defaultdict(list)
        for round_number in range(args.rounds):
            for enabled in (False, True) if round_number % 2 == 0 else (True, False):
                for shape_dag in SHAPES.values():
                    for dag_id, times in sample(home, enabled, args.runs, shape_dag).items():
                        warm[(dag_id, enabled)].extend(times[1:])
        fresh = {
            shape: [fresh_process_cost(home, shape) for _ in range(5)] for shape in SHAPES
        }  # after the runs, so the distribution list is cached as in a worker's steady state

        keyring = Keyring.from_files([home / "keys" / "public_key.pem"])
        sizes = {enabled: event_sizes(home / f"events-{enabled}.jsonl") for enabled in (False, True)}
        verified = all(verify_files([home / f"events-{enabled}.jsonl"], keyring).ok for enabled in (False, True))
        print(f"{TASKS} PythonOperator tasks per DAG, no datasets; signing transport in both modes; fork mode")
        print(f"both logs verify: {'OK' if verified else 'FAILED'}")
        print(f"median of {len(warm[(SHAPES['small'], False)])} warm dag.test() runs per DAG and mode:")
        failed = False
        for shape, dag_id in SHAPES.items():
            (off_wall, off_cpu), (on_wall, on_cpu) = (
                tuple(statistics.median(sample[i] for sample in warm[(dag_id, enabled)]) for i in (0, 1))
                for enabled in (False, True)
            )
            fresh_wall = statistics.median(wall for wall, _ in fresh[shape])
            fresh_cpu = statistics.median(cpu for _, cpu in fresh[shape])
            added_wall, added_cpu = (on_wall - off_wall) * 1000 / TASKS, (on_cpu - off_cpu) * 1000 / TASKS
            print(f"  {shape} events ({dag_id}):")
            print(
                f"    wall: plugin off {off_wall * 1000:.0f} ms, on {on_wall * 1000:.0f} ms, ratio {on_wall / off_wall:.3f}x,"
                f" added {added_wall:+.1f} ms/task"
            )
            print(
                f"    CPU:  plugin off {off_cpu * 1000:.0f} ms, on {on_cpu * 1000:.0f} ms, ratio {on_cpu / off_cpu:.3f}x,"
                f" added {added_cpu:+.1f} ms/task"
            )
            print(
                f"    once per task process (plugin modules, signing transport, environment facet): wall {fresh_wall * 1000:.1f} ms, "
                f"CPU {fresh_cpu * 1000:.1f} ms"
            )
            per_task = added_cpu + fresh_cpu * 1000
            print(
                f"    per task in a worker that starts a process per task: wall {added_wall + fresh_wall * 1000:+.1f} ms,"
                f" CPU {per_task:+.1f} ms"
            )
            if shape == "small":
                verdict = "PASS" if per_task <= TARGET_MS else "FAIL"
                failed |= verdict == "FAIL"
                print(f"    {verdict}: {per_task:+.1f} ms of CPU added per task, target <= {TARGET_MS} ms")
            for event_type in ("START", "COMPLETE"):
                off_size, on_size = (
                    statistics.median(sizes[enabled].get((dag_id, event_type), [0])) for enabled in (False, True)
                )
                print(
                    f"    {event_type:<8} event: plugin off {off_size / 1024:.1f} KiB, on {on_size / 1024:.1f} KiB"
                    f" ({on_size / off_size:.2f}x)"
                )
        if failed or not verified:
            sys.exit(1)


if __name__ == "__main__":
    main()
