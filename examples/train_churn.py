"""Train a churn model and record its provenance with ``provlineage.track()``.

The model is a logistic regression fitted by mini-batch gradient descent in plain Python (no numpy), saved as
JSON.  The run records: the training and holdout datasets with their content digests, the hyperparameters (the
``tracking_api_key`` below shows secret redaction), the model artifact, and holdout metrics.

    python examples/churn_data.py --dir data
    python examples/train_churn.py --data data --model models/churn_model.json

Events go wherever openlineage-python's config sends them (``openlineage.yml``, ``OPENLINEAGE__*``).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from churn_data import FEATURES, features, read_rows

import provlineage

MODEL_FORMAT = "churn-logreg/1"


@dataclass
class TrainResult:
    run_id: str
    model_path: Path
    model_digest: str | None
    metrics: dict[str, float]


def _standardize(rows: list[dict[str, float]]) -> tuple[dict[str, float], dict[str, float]]:
    means = {f: sum(r[f] for r in rows) / len(rows) for f in FEATURES}
    stds = {f: math.sqrt(sum((r[f] - means[f]) ** 2 for r in rows) / len(rows)) or 1.0 for f in FEATURES}
    return means, stds


def predict_proba(model: dict[str, Any], x: dict[str, float]) -> float:
    """Churn probability of one customer under a saved model."""
    score = model["bias"]
    for name, weight in zip(model["features"], model["weights"], strict=True):
        score += weight * (x[name] - model["means"][name]) / model["stds"][name]
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))


def fit(
    rows: list[dict[str, str]], *, epochs: int, learning_rate: float, batch_size: int, l2: float, seed: int
) -> dict[str, Any]:
    xs = [features(row) for row in rows]
    ys = [int(row["churn"]) for row in rows]
    means, stds = _standardize(xs)
    scaled = [[(x[f] - means[f]) / stds[f] for f in FEATURES] for x in xs]
    weights, bias = [0.0] * len(FEATURES), 0.0
    order = list(range(len(scaled)))
    rng = random.Random(seed)
    for _ in range(epochs):
        rng.shuffle(order)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            grad_w, grad_b = [0.0] * len(FEATURES), 0.0
            for i in batch:
                z = bias + sum(w * v for w, v in zip(weights, scaled[i], strict=True))
                error = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))) - ys[i]
                grad_b += error
                for j, v in enumerate(scaled[i]):
                    grad_w[j] += error * v
            step = learning_rate / len(batch)
            weights = [w - step * (g + l2 * w) for w, g in zip(weights, grad_w, strict=True)]
            bias -= step * grad_b
    return {
        "format": MODEL_FORMAT,
        "features": list(FEATURES),
        "means": means,
        "stds": stds,
        "weights": weights,
        "bias": bias,
    }


def evaluate(model: dict[str, Any], rows: list[dict[str, str]]) -> dict[str, float]:
    scored = [(predict_proba(model, features(row)), int(row["churn"])) for row in rows]
    accuracy = sum((p >= 0.5) == bool(y) for p, y in scored) / len(scored)
    log_loss = -sum(math.log(max(1e-12, p if y else 1 - p)) for p, y in scored) / len(scored)
    positives = sorted(p for p, y in scored if y)
    negatives = sorted(p for p, y in scored if not y)
    wins, j = 0.0, 0
    for p in positives:  # AUC as the share of (positive, negative) pairs ranked correctly
        while j < len(negatives) and negatives[j] < p:
            j += 1
        ties = sum(1 for n in negatives[j:] if n == p)
        wins += j + ties / 2
    auc = wins / (len(positives) * len(negatives)) if positives and negatives else float("nan")
    return {"accuracy": round(accuracy, 4), "auc": round(auc, 4), "log_loss": round(log_loss, 4), "rows": len(scored)}


def train(
    data_dir: str | Path,
    model_path: str | Path,
    *,
    client: Any = None,
    epochs: int = 8,
    learning_rate: float = 0.5,
    batch_size: int = 64,
    l2: float = 0.001,
    seed: int = 0,
) -> TrainResult:
    """Fit the model on ``churn_train.csv``, evaluate it on ``churn_holdout.csv``, save it, record it all."""
    data_dir, model_path = Path(data_dir), Path(model_path)
    train_csv, holdout_csv = data_dir / "churn_train.csv", data_dir / "churn_holdout.csv"
    with provlineage.track("churn.train", kind="training", namespace="churn-demo", client=client) as run:
        run.log_dataset(train_csv, description="synthetic churn training rows")
        holdout = run.log_dataset(holdout_csv, description="synthetic churn holdout rows")
        hyperparameters = {
            "epochs": epochs,
            "learning_rate": learning_rate,
            "batch_size": batch_size,
            "l2": l2,
            "seed": seed,
            "features": FEATURES,
            "tracking_api_key": "example-secret-never-recorded",
        }
        run.log_hyperparameters(hyperparameters)
        model = fit(
            read_rows(train_csv), epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, l2=l2, seed=seed
        )
        metrics = evaluate(model, read_rows(holdout_csv))
        run.log_metrics(metrics, dataset=holdout or holdout_csv)
        model_path.parent.mkdir(parents=True, exist_ok=True)
        model_path.write_text(json.dumps(model, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        ref = run.log_model(model_path, name="churn-logreg", version="1", framework="pure-python", format="json")
    return TrainResult(run.run_id, model_path, ref.digest if ref else None, metrics)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Train the churn model and record its lineage.")
    parser.add_argument("--data", default="data", help="directory of churn_data.py output (generated if missing)")
    parser.add_argument("--model", default="models/churn_model.json")
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    if not (Path(args.data) / "churn_train.csv").exists():
        from churn_data import generate

        generate(args.data)
    result = train(args.data, args.model, epochs=args.epochs)
    print(f"run {result.run_id}: model {result.model_path} ({result.model_digest}) holdout {result.metrics}")
