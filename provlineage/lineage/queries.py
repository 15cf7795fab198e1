"""The auditor's questions, answered from the verified lineage graph (one module per question).

* :func:`ask_model`: which datasets trained this model, with what code, configuration and environment, with what
  metrics, signed by whom, and which runs used it.
* :func:`ask_dataset`: every run that read or wrote a dataset, and every model downstream of it.
* :func:`ask_inference`: one prediction back to the data: inference -> run -> model -> training run -> datasets,
  with the Merkle inclusion proof tying the prediction to its run's signed commitment.
* :func:`ask_run`: one run in full, with its neighbours.
* :func:`ask_report`: what an audit flags: models trained on several datasets, models without dataset
  provenance, inputs without digests, and (with the CLI) unverified records and changed files.

The answer shapes live in :mod:`.answers`.
"""

from __future__ import annotations

from provlineage.errors import LineageNotFound
from provlineage.lineage.answers import (
    Answer,
    Body,
    DatasetAnswer,
    DatasetView,
    DownstreamModel,
    InferenceAnswer,
    InferenceView,
    ModelAnswer,
    ReportAnswer,
    RunAnswer,
    record_caveats,
)
from provlineage.lineage.dataset_query import ask_dataset, find_datasets
from provlineage.lineage.inference_query import ask_inference
from provlineage.lineage.model_query import ask_model, find_models
from provlineage.lineage.report_query import ask_report, latest_recorded
from provlineage.lineage.run_query import ask_run, find_run

__all__ = [
    "Answer",
    "Body",
    "DatasetAnswer",
    "DatasetView",
    "DownstreamModel",
    "InferenceAnswer",
    "InferenceView",
    "LineageNotFound",
    "ModelAnswer",
    "ReportAnswer",
    "RunAnswer",
    "ask_dataset",
    "ask_inference",
    "ask_model",
    "ask_report",
    "ask_run",
    "find_datasets",
    "find_models",
    "find_run",
    "latest_recorded",
    "record_caveats",
]
