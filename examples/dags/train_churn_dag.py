"""Train a churn model: prepare data -> train -> evaluate, with signed provenance on every task event.

Runs offline on generated data with the standard library only.  Files go to ``$PROVLINEAGE_EXAMPLE_DIR``
(default ``<tmp>/provlineage-churn``).  What provlineage records, without any code in the task bodies:

* ``prepare_data`` is marked ``provenance("data")``: its two CSV outlets are hashed after it ran.
* ``train_model`` is marked ``provenance("training")``: its inlet is hashed before it runs, its arguments
  after templating (``learning_rate``, ``epochs`` from ``params``; the ``tracking_api_key`` redacted) become
  ``provlineage_hyperparameters``, and the model outlet (``group="model"``) gets ``provlineage_datasetHash`` and
  ``provlineage_model``.
* ``evaluate_model`` is recognised by its task id; the dict it returns becomes ``provlineage_metrics``.

The inference DAG (``predict_churn_dag.py``) reads the same model asset, so the lineage connects.
"""

from __future__ import annotations

import csv
import json
import math
import os
import random
import tempfile
from pathlib import Path

import pendulum
from airflow.sdk import Asset, dag, task

from airflow_plugin import provenance

DATA_DIR = Path(
    os.environ.get("PROVLINEAGE_EXAMPLE_DIR") or Path(tempfile.gettempdir()) / "provlineage-churn"
).resolve()
TRAIN_CSV = Asset(f"file://{DATA_DIR}/data/train.csv")
TEST_CSV = Asset(f"file://{DATA_DIR}/data/test.csv")
CHURN_MODEL = Asset(f"file://{DATA_DIR}/models/churn_model.json", group="model")
FEATURES = ("tenure_months", "monthly_charges", "support_calls", "month_to_month")


def customer(rng: random.Random) -> dict[str, float]:
    """One synthetic customer; churn is likelier with short tenure, many support calls and no contract."""
    row = {
        "tenure_months": float(rng.randint(1, 72)),
        "monthly_charges": round(rng.uniform(20, 120), 2),
        "support_calls": float(rng.randint(0, 9)),
        "month_to_month": float(rng.random() < 0.55),
    }
    score = (
        -1.0
        - 0.05 * row["tenure_months"]
        + 0.012 * row["monthly_charges"]
        + 0.35 * row["support_calls"]
        + 1.1 * row["month_to_month"]
    )
    row["churned"] = float(rng.random() < 1 / (1 + math.exp(-score)))
    return row


def write_csv(path: Path, rows: list[dict[str, float]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def read_csv(path: Path) -> list[dict[str, float]]:
    with path.open(newline="") as handle:
        return [{key: float(value) for key, value in row.items()} for row in csv.DictReader(handle)]


def predict_proba(model: dict, row: dict[str, float]) -> float:
    z = model["bias"] + sum(
        w * (row[name] - mean) / std
        for w, name, mean, std in zip(model["weights"], model["features"], model["means"], model["stds"], strict=True)
    )
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


@dag(
    dag_id="provlineage_train_churn",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    render_template_as_native_obj=True,
    params={"n_rows": 2000, "seed": 7, "learning_rate": 0.5, "epochs": 60},
    tags=["provlineage", "example"],
)
def train_churn():
    @task(outlets=[TRAIN_CSV, TEST_CSV])
    @provenance("data")
    def prepare_data(n_rows: int, seed: int) -> None:
        rng = random.Random(seed)
        rows = [customer(rng) for _ in range(n_rows)]
        cut = int(len(rows) * 0.8)
        write_csv(Path(TRAIN_CSV.uri.removeprefix("file://")), rows[:cut])
        write_csv(Path(TEST_CSV.uri.removeprefix("file://")), rows[cut:])

    @task(inlets=[TRAIN_CSV], outlets=[CHURN_MODEL])
    @provenance("training", model_name="churn-logreg", framework="python-stdlib", model_version="1")
    def train_model(
        learning_rate: float, epochs: int, l2: float = 0.001, tracking_api_key: str = "demo-not-a-secret"
    ) -> dict:
        rows = read_csv(Path(TRAIN_CSV.uri.removeprefix("file://")))
        means = [sum(r[f] for r in rows) / len(rows) for f in FEATURES]
        stds = [
            max(1e-9, math.sqrt(sum((r[f] - m) ** 2 for r in rows) / len(rows)))
            for f, m in zip(FEATURES, means, strict=True)
        ]
        model = {
            "features": list(FEATURES),
            "means": means,
            "stds": stds,
            "weights": [0.0] * len(FEATURES),
            "bias": 0.0,
        }
        for _ in range(int(epochs)):
            grad_w, grad_b = [0.0] * len(FEATURES), 0.0
            for row in rows:
                error = predict_proba(model, row) - row["churned"]
                grad_b += error
                for i, (name, mean, std) in enumerate(zip(FEATURES, means, stds, strict=True)):
                    grad_w[i] += error * (row[name] - mean) / std
            model["bias"] -= learning_rate * grad_b / len(rows)
            model["weights"] = [
                w - learning_rate * (g / len(rows) + l2 * w) for w, g in zip(model["weights"], grad_w, strict=True)
            ]
        path = Path(CHURN_MODEL.uri.removeprefix("file://"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(model, indent=2))
        return {"rows": len(rows)}

    @task(inlets=[CHURN_MODEL, TEST_CSV])
    def evaluate_model() -> dict:
        model = json.loads(Path(CHURN_MODEL.uri.removeprefix("file://")).read_text())
        rows = read_csv(Path(TEST_CSV.uri.removeprefix("file://")))
        probabilities = [predict_proba(model, row) for row in rows]
        predicted = [p >= 0.5 for p in probabilities]
        actual = [row["churned"] == 1.0 for row in rows]
        true_pos = sum(p and a for p, a in zip(predicted, actual, strict=True))
        log_loss = -sum(
            math.log(max(1e-12, p if a else 1 - p)) for p, a in zip(probabilities, actual, strict=True)
        ) / len(rows)
        return {
            "accuracy": round(sum(p == a for p, a in zip(predicted, actual, strict=True)) / len(rows), 4),
            "precision": round(true_pos / max(1, sum(predicted)), 4),
            "recall": round(true_pos / max(1, sum(actual)), 4),
            "log_loss": round(log_loss, 4),
            "rows": len(rows),
        }

    prepared = prepare_data(n_rows="{{ params.n_rows }}", seed="{{ params.seed }}")
    trained = train_model(learning_rate="{{ params.learning_rate }}", epochs="{{ params.epochs }}")
    prepared >> trained >> evaluate_model()


train_churn()
