"""Batch inference with the model ``train_churn_dag.py`` trained: prepare a batch -> predict.

Runs offline (standard library only) after the training DAG, in the same ``$PROVLINEAGE_EXAMPLE_DIR``.
``predict_churn`` is recognised as inference by its task id: the model and the batch are hashed before it
runs (the model input also gets ``provlineage_model``), the predictions after.  The model is the same
dataset -- ``("file", "<dir>/models/churn_model.json")`` -- as the training DAG's output, so
dataset -> training -> model -> inference is one connected graph.
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
CHURN_MODEL = Asset(f"file://{DATA_DIR}/models/churn_model.json", group="model")
BATCH_CSV = Asset(f"file://{DATA_DIR}/batches/customers.csv")
PREDICTIONS_CSV = Asset(f"file://{DATA_DIR}/predictions/churn_predictions.csv")


def local(asset: Asset) -> Path:
    return Path(asset.uri.removeprefix("file://"))


@dag(
    dag_id="provlineage_predict_churn",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    render_template_as_native_obj=True,
    params={"batch_size": 500, "seed": 11, "threshold": 0.5},
    tags=["provlineage", "example"],
)
def predict_churn_dag():
    @task(outlets=[BATCH_CSV])
    @provenance("data")
    def prepare_batch(params: dict | None = None) -> None:
        rng = random.Random(params["seed"])
        rows = [
            {
                "customer_id": f"c{index:05d}",
                "tenure_months": rng.randint(1, 72),
                "monthly_charges": round(rng.uniform(20, 120), 2),
                "support_calls": rng.randint(0, 9),
                "month_to_month": int(rng.random() < 0.55),
            }
            for index in range(params["batch_size"])
        ]
        local(BATCH_CSV).parent.mkdir(parents=True, exist_ok=True)
        with local(BATCH_CSV).open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)

    @task(inlets=[CHURN_MODEL, BATCH_CSV], outlets=[PREDICTIONS_CSV])
    def predict_churn(threshold: float = 0.5) -> dict:
        model = json.loads(local(CHURN_MODEL).read_text())
        with local(BATCH_CSV).open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        local(PREDICTIONS_CSV).parent.mkdir(parents=True, exist_ok=True)
        churners = 0
        with local(PREDICTIONS_CSV).open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["customer_id", "churn_probability", "churn"])
            for row in rows:
                z = model["bias"] + sum(
                    w * (float(row[name]) - mean) / std
                    for w, name, mean, std in zip(
                        model["weights"], model["features"], model["means"], model["stds"], strict=True
                    )
                )
                probability = 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))
                churners += probability >= threshold
                writer.writerow([row["customer_id"], f"{probability:.6f}", int(probability >= threshold)])
        return {"rows": len(rows), "predicted_churners": churners}

    prepare_batch() >> predict_churn(threshold="{{ params.threshold }}")


predict_churn_dag()
