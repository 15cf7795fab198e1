"""Score customers with the trained churn model and record every prediction with ``provlineage.track()``.

The run reads the model under the same OpenLineage identity the training run wrote it, so Marquez (or
``provlineage lineage``) shows dataset -> training -> model -> inference.  Each prediction is an inference record:
a deterministic id from the input and the model digest, and digests of input and output.  The records go to a
signed inference log beside the event log; the run's COMPLETE event carries their count and Merkle root, so any
single prediction can later be proven to belong to this run (``provlineage verify --inference ID``).

    python examples/predict_churn.py --model models/churn_model.json --input data/churn_score.csv
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from churn_data import features, read_rows
from train_churn import predict_proba

import provlineage


@dataclass
class PredictResult:
    run_id: str
    output_path: Path
    inference_ids: list[str]
    inference_log: Path | None


def predict(
    model_path: str | Path,
    input_path: str | Path,
    output_path: str | Path,
    *,
    client: Any = None,
    threshold: float = 0.5,
) -> PredictResult:
    """Write ``customer_id, churn_probability, churn, inference_id`` for every row of ``input_path``."""
    model_path, input_path, output_path = Path(model_path), Path(input_path), Path(output_path)
    ids: list[str] = []
    with provlineage.track("churn.predict", kind="inference", namespace="churn-demo", client=client) as run:
        run.log_model(model_path, name="churn-logreg", role="input")
        run.log_dataset(input_path, description="customers to score")
        run.log_hyperparameters({"threshold": threshold})
        model = json.loads(model_path.read_text(encoding="utf-8"))
        output_path.parent.mkdir(parents=True, exist_ok=True)
        churners = 0
        with open(output_path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["customer_id", "churn_probability", "churn", "inference_id"])
            for row in read_rows(input_path):
                x = features(row)
                probability = round(predict_proba(model, x), 6)
                churn = probability >= threshold
                churners += churn
                inference_id = run.log_inference(x, {"churn_probability": probability, "churn": churn}) or ""
                ids.append(inference_id)
                writer.writerow([row["customer_id"], probability, int(churn), inference_id])
        run.log_dataset(output_path, role="output", description="churn predictions")
        run.log_metrics({"scored": len(ids), "predicted_churners": churners})
    return PredictResult(run.run_id, output_path, ids, run.inference_log)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Score customers and record every prediction.")
    parser.add_argument("--model", default="models/churn_model.json")
    parser.add_argument("--input", default="data/churn_score.csv")
    parser.add_argument("--output", default="predictions/churn_predictions.csv")
    args = parser.parse_args()
    result = predict(args.model, args.input, args.output)
    print(f"run {result.run_id}: {len(result.inference_ids)} predictions -> {result.output_path}")
    print(f"inference records: {result.inference_log}")
