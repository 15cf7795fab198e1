"""A small synthetic customer-churn dataset, generated locally (no downloads, standard library only).

Each customer has a tenure, a monthly charge, a contract type, a count of support calls and whether they pay for
tech support; churn is drawn from a known logistic model of those, so a trained model has something real to find.
The same seed always gives the same files, byte for byte, so their digests are stable across runs.
"""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

FEATURES = (
    "tenure_months",
    "monthly_charges",
    "contract_one_year",
    "contract_two_year",
    "support_calls",
    "tech_support",
)
CONTRACTS = ("month-to-month", "one-year", "two-year")
COLUMNS = ("customer_id", "tenure_months", "monthly_charges", "contract", "support_calls", "tech_support")


def _customer(rng: random.Random, number: int) -> dict[str, object]:
    contract = rng.choices(CONTRACTS, weights=(0.55, 0.25, 0.20))[0]
    return {
        "customer_id": f"C{number:06d}",
        "tenure_months": rng.randint(1, 72),
        "monthly_charges": round(rng.uniform(18.0, 118.0), 2),
        "contract": contract,
        "support_calls": min(9, int(rng.expovariate(0.6))),
        "tech_support": int(rng.random() < 0.4),
    }


def features(row: dict[str, object]) -> dict[str, float]:
    """The model's inputs for one customer row (as read from CSV or generated)."""
    contract = str(row["contract"])
    return {
        "tenure_months": float(row["tenure_months"]),  # type: ignore[arg-type]
        "monthly_charges": float(row["monthly_charges"]),  # type: ignore[arg-type]
        "contract_one_year": 1.0 if contract == "one-year" else 0.0,
        "contract_two_year": 1.0 if contract == "two-year" else 0.0,
        "support_calls": float(row["support_calls"]),  # type: ignore[arg-type]
        "tech_support": float(row["tech_support"]),  # type: ignore[arg-type]
    }


def _churns(rng: random.Random, row: dict[str, object]) -> int:
    x = features(row)
    score = (
        0.4
        - 0.045 * x["tenure_months"]
        + 0.022 * x["monthly_charges"]
        - 1.1 * x["contract_one_year"]
        - 2.0 * x["contract_two_year"]
        + 0.35 * x["support_calls"]
        - 0.6 * x["tech_support"]
    )
    return int(rng.random() < 1.0 / (1.0 + math.exp(-score)))


def _write(path: Path, rows: list[dict[str, object]], columns: tuple[str, ...]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def generate(directory: str | Path, *, rows: int = 2000, seed: int = 7) -> dict[str, Path]:
    """Write ``churn_train.csv`` (70%), ``churn_holdout.csv`` (15%, labelled) and ``churn_score.csv`` (15%, unlabelled)."""
    rng = random.Random(seed)
    directory = Path(directory)
    labelled = []
    for number in range(rows):
        row = _customer(rng, number)
        row["churn"] = _churns(rng, row)
        labelled.append(row)
    train_end, holdout_end = int(rows * 0.70), int(rows * 0.85)
    paths = {
        "train": directory / "churn_train.csv",
        "holdout": directory / "churn_holdout.csv",
        "score": directory / "churn_score.csv",
    }
    _write(paths["train"], labelled[:train_end], (*COLUMNS, "churn"))
    _write(paths["holdout"], labelled[train_end:holdout_end], (*COLUMNS, "churn"))
    _write(paths["score"], [{k: v for k, v in row.items() if k != "churn"} for row in labelled[holdout_end:]], COLUMNS)
    return paths


def read_rows(path: str | Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Generate the synthetic churn dataset.")
    parser.add_argument("--dir", default="data", help="output directory (default: ./data)")
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    for role, path in generate(args.dir, rows=args.rows).items():
        print(f"{role:8} {path}")
