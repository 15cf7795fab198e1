"""Answer the auditor's questions from the verified record: what trained a model, what it served, what came from a
dataset, and whether the record can be trusted.

    lineage = lineage_from_files(["lineage.jsonl"], Keyring.from_files(["public_key.pem"]))
    answer = ask_model(lineage, "churn@3")
    print(render_text(answer))

Modules: :mod:`.graph` (runs, datasets, model versions), :mod:`.build` (verified events -> graph), :mod:`.queries` (the questions),
:mod:`.views` (what a run or model looks like in an answer), :mod:`.filecheck` (re-hash local datasets),
:mod:`.render_text`, :mod:`.render_json` (stable schema ``answer-1.schema.json``), :mod:`.render_dot`,
:mod:`.render_prov` (W3C PROV-JSON).
"""

from __future__ import annotations

from provlineage.lineage.build import build_lineage
from provlineage.lineage.filecheck import FileCheck, check_files
from provlineage.lineage.graph import Lineage
from provlineage.lineage.queries import (
    Answer,
    LineageNotFound,
    ask_dataset,
    ask_inference,
    ask_model,
    ask_report,
    ask_run,
)
from provlineage.lineage.source import lineage_from_files, lineage_from_marquez

__all__ = [
    "Answer",
    "FileCheck",
    "Lineage",
    "LineageNotFound",
    "ask_dataset",
    "ask_inference",
    "ask_model",
    "ask_report",
    "ask_run",
    "build_lineage",
    "check_files",
    "lineage_from_files",
    "lineage_from_marquez",
]
