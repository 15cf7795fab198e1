"""``--report``: what an audit flags across the whole record."""

from __future__ import annotations

from provlineage.lineage.answers import Answer, ReportAnswer, make_answer
from provlineage.lineage.graph import DatasetKey, Lineage
from provlineage.lineage.views import DatasetRef, RunView, dataset_ref, model_view, run_view


def ask_report(lineage: Lineage) -> Answer:
    models = [model_view(lineage, version) for version in lineage.models]
    multi = [model for model in models if len({ref.key for ref in model.training_datasets}) > 1]
    without = [model for model in models if not model.has_dataset_provenance]
    missing_digest: list[tuple[RunView, DatasetRef]] = []
    for run in lineage.runs.values():
        view = run_view(lineage, run)
        missing_digest += [(view, ref) for ref in view.inputs if ref.digest is None]
    body = ReportAnswer(models, multi, without, missing_digest, len(lineage.runs), len(lineage.datasets))
    body.without_digest = [model for model in models if model.digest is None]
    return make_answer("report", "", lineage, body, set(lineage.runs))


def latest_recorded(lineage: Lineage) -> list[DatasetRef]:
    """Each dataset's most recently recorded digest (what ``--report --check-files`` compares with the disk)."""
    latest: dict[DatasetKey, tuple[str, DatasetRef]] = {}
    for run in lineage.runs.values():
        for use in [*run.inputs.values(), *run.outputs.values()]:
            previous = latest.get(use.key)
            if use.digest is not None and (previous is None or previous[0] <= run.end_key):
                latest[use.key] = (run.end_key, dataset_ref(lineage, use, []))
    return [ref for _, ref in latest.values()]
