"""Real Airflow for the tests: one migrated SQLite home per session and two shared DAG runs.

``forked_run`` runs both example DAGs, an Airflow tutorial DAG with no provlineage code and an edge-case DAG in
the provider's default fork mode; ``threaded_run`` reruns some with ``[openlineage] execute_in_thread``.  Kept in
a conftest plugin so the plugin tests and the lineage tests share the same runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_DAGS = REPO / "examples" / "dags"

TRAIN_DAG, PREDICT_DAG, EDGE_DAG, TUTORIAL_DAG = (
    "provlineage_train_churn",
    "provlineage_predict_churn",
    "provlineage_edge_cases",
    "tutorial_taskflow_api",
)


# --- real Airflow --------------------------------------------------------------------------------------------
#: Secrets the edge-case DAG reaches through Airflow's own ways; none may appear anywhere in the signed log.
AIRFLOW_SECRETS = {
    "connection password": "Pr0d-Conn-Pw-7731",
    "sensitive variable": "svc-token-Qz81-xyzzy",
    "URL password in op_kwargs": "Lit3ral-Url-Pw-55",
    "TaskFlow default": "T4skfl0w-Def4ult-Pw",
    "DAG param": "Par4m-Pw-9182",
    "secret-named default": "hunter2-secret",
}
SECRET_ENV = {
    "AIRFLOW_CONN_PROD_DB": f"postgresql://etl_user:{AIRFLOW_SECRETS['connection password']}@db.internal:5432/prod",
    "AIRFLOW_VAR_SERVICE_TOKEN": AIRFLOW_SECRETS["sensitive variable"],
}

EDGE_CASES = """
from __future__ import annotations

import json
import os
from pathlib import Path

import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import Asset, dag, task

from airflow_plugin import provenance

EDGE = Path(os.environ["PROVLINEAGE_EXAMPLE_DIR"]) / "edge"
OUT = EDGE / "model.pkl"
CLASSIFIER = f"file://{EDGE}/classifier.json"
HOLDOUT = f"file://{EDGE}/holdout.csv"
TRAIN_CSV = f"file://{Path(os.environ['PROVLINEAGE_EXAMPLE_DIR']).resolve()}/data/train.csv"  # the train DAG's


def fit(lr, epochs, target, upstream, header, mirror, typed="0.5"):
    EDGE.mkdir(parents=True, exist_ok=True)
    Path(CLASSIFIER[7:]).write_text(json.dumps({"lr": lr}))
    Path(HOLDOUT[7:]).write_text("x,y\\n1,0\\n")


@dag(
    dag_id="provlineage_edge_cases",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    params={"lr": 0.1, "warehouse": "postgresql://wh:Par4m-Pw-9182@wh.internal/db"},
)
def edge_cases():
    @task(inlets=[Asset("file:///nonexistent/provlineage/missing.csv")], outlets=[Asset(f"file://{OUT}")])
    def train_with_broken_inlet(
        lr: float = 0.1,
        db_password: str = "hunter2-secret",
        endpoint: str = "mysql://svc:T4skfl0w-Def4ult-Pw@mysql.internal/app",
    ) -> str:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_bytes(b"model bytes")
        return "trained"

    @task
    @provenance("training")
    def crash() -> None:
        raise RuntimeError("intentional failure for provlineage tests")

    # Templated arguments without render_template_as_native_obj, and secrets reached through Airflow.
    train_classifier = PythonOperator(
        task_id="train_classifier",
        python_callable=fit,
        inlets=[Asset(TRAIN_CSV)],
        outlets=[Asset(CLASSIFIER, group="model"), Asset(HOLDOUT)],
        op_kwargs={
            "lr": "{{ params.lr }}",
            "epochs": "{{ 3 * 4 }}",
            "target": "{{ conn.prod_db.get_uri() }}",
            "upstream": "{{ conn.prod_db.password }}",
            "header": "Token {{ var.value.service_token }}",
            "mirror": "https://deploy:Lit3ral-Url-Pw-55@mirror.example.com/repo.git",
        },
    )

    # The model inlet says nothing about being a model: the training task above declared it.
    @task(inlets=[Asset(CLASSIFIER), Asset(HOLDOUT)])
    def evaluate_classifier() -> dict:
        return {"accuracy": 0.75}

    train_with_broken_inlet()
    crash()
    train_classifier >> evaluate_classifier()


edge_cases()
"""

RUNNER = """
import json, sys
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
if bag.import_errors:
    raise SystemExit(f"DAG import errors: {bag.import_errors}")
results = {}
for dag_id in sys.argv[2:]:
    run = bag.dags[dag_id].test()
    results[dag_id] = {"state": str(run.state), "tasks": {ti.task_id: str(ti.state) for ti in run.get_task_instances()}}
print("RESULTS " + json.dumps(results))
"""


def clean_env(home: Path) -> dict[str, str]:
    keep = {key: os.environ[key] for key in ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT") if key in os.environ}
    return {
        **keep,
        "HOME": str(home),
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "PROVLINEAGE_EXAMPLE_DIR": str(home / "data"),
        "PROVLINEAGE_CACHE_DIR": str(home / "hash-cache"),
        "PYTHONUNBUFFERED": "1",
    }


@dataclass
class AirflowRun:
    results: dict[str, Any]
    output: str
    log: Path
    events: list[dict[str, Any]]

    def task_events(self, dag_id: str, task_id: str) -> dict[str, dict[str, Any]]:
        found = [e for e in self.events if e["job"]["name"] == f"{dag_id}.{task_id}"]
        return {event["eventType"]: event for event in found}


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite Airflow home with the example DAGs, an edge-case DAG and an Airflow tutorial DAG."""
    pytest.importorskip("airflow.providers.openlineage", reason="needs the `airflow` extra")
    home = tmp_path_factory.mktemp("airflow")
    dags = home / "dags"
    dags.mkdir()
    for source in EXAMPLE_DAGS.glob("*.py"):
        shutil.copy(source, dags / source.name)
    (dags / "edge_cases_dag.py").write_text(EDGE_CASES)
    import airflow.example_dags

    shutil.copy(
        Path(airflow.example_dags.__file__).parent / "tutorial_taskflow_api.py", dags / "tutorial_taskflow_api.py"
    )
    (home / "runner.py").write_text(RUNNER)
    migrate = subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
        env=clean_env(home),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    return home


def _run_dags(home: Path, key_dir: Path, name: str, dag_ids: list[str], *, in_thread: bool) -> AirflowRun:
    log = home / f"{name}.jsonl"
    transport = {
        "type": "provlineage.transport.SigningTransport",
        "private_key": str(key_dir / "private_key.pem"),
        "state_dir": str(home / f"state-{name}"),
        "transport": {"type": "provlineage.transport.FileLogTransport", "path": str(log)},
    }
    env = {
        **clean_env(home),
        **SECRET_ENV,
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport),
        "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": str(in_thread),
    }
    done = subprocess.run(
        [sys.executable, str(home / "runner.py"), str(home / "dags"), *dag_ids],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    results = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULTS "))[8:])
    events = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return AirflowRun(results, output, log, events)


@pytest.fixture(scope="session")
def forked_run(airflow_home: Path, key_dir: Path) -> AirflowRun:
    """The provider's default: events built in a forked child of the task process."""
    return _run_dags(airflow_home, key_dir, "forked", [TRAIN_DAG, PREDICT_DAG, TUTORIAL_DAG, EDGE_DAG], in_thread=False)


@pytest.fixture(scope="session")
def threaded_run(airflow_home: Path, key_dir: Path, forked_run: AirflowRun) -> AirflowRun:
    """``execute_in_thread``: events built in a thread; the inference DAG reuses the model of the forked run."""
    return _run_dags(airflow_home, key_dir, "threaded", [PREDICT_DAG, EDGE_DAG], in_thread=True)
