"""``--dataset``: every run that read or wrote a dataset, and every model downstream of it."""

from __future__ import annotations

from provlineage.lineage.answers import (
    Answer,
    DatasetAnswer,
    DatasetView,
    DownstreamModel,
    as_dataset_key,
    claimed_lines,
    make_answer,
    not_found,
)
from provlineage.lineage.graph import DatasetKey, Lineage, Run
from provlineage.lineage.views import model_view, run_view


def find_datasets(lineage: Lineage, query: str) -> list[DatasetKey]:
    """Datasets named ``query`` (in any namespace, or as ``namespace:name`` the output shows), or by path or URI."""
    matches = [key for key in lineage.datasets if query in (key[1], f"{key[0]}/{key[1]}", f"{key[0]}:{key[1]}")]
    path_key = as_dataset_key(query)
    if path_key is not None and path_key in lineage.datasets and path_key not in matches:
        matches.append(path_key)
    return matches


def _downstream_models(lineage: Lineage, key: DatasetKey) -> list[DownstreamModel]:
    """Models reachable from ``key`` through reader runs and what they wrote (content-matched when digests exist)."""
    results: dict[tuple[DatasetKey, str | None], DownstreamModel] = {}
    node = lineage.datasets[key]
    frontier: list[tuple[Run, list[str]]] = [(lineage.runs[r], []) for r in node.readers]
    seen: set[str] = set()
    while frontier:
        run, path = frontier.pop(0)
        if run.run_id in seen:
            continue
        seen.add(run.run_id)
        here = [*path, f"{run.job[1]} (run {run.run_id})"]
        for out_key, use in run.outputs.items():
            for version in lineage.models_of(out_key):
                if run.run_id in version.training_runs and (out_key, version.digest) not in results:
                    results[(out_key, version.digest)] = DownstreamModel(model_view(lineage, version), here)
            frontier += [(reader, here) for reader in lineage.readers_after(use, run)]
    return list(results.values())


def _dataset_view(lineage: Lineage, key: DatasetKey) -> DatasetView:
    node = lineage.datasets[key]
    writers = [run_view(lineage, lineage.runs[r]) for r in node.writers]
    readers = [run_view(lineage, lineage.runs[r]) for r in node.readers]
    digests: list[str] = []
    for run_id in sorted([*node.writers, *node.readers], key=lambda r: lineage.runs[r].start_key):
        run = lineage.runs[run_id]
        use = run.outputs.get(key) or run.inputs.get(key)
        if use is not None and use.digest is not None and use.digest not in digests:
            digests.append(use.digest)
    return DatasetView(key[0], key[1], node.is_model, digests, writers, readers, _downstream_models(lineage, key))


def ask_dataset(lineage: Lineage, query: str) -> Answer:
    keys = find_datasets(lineage, query)
    if not keys:
        path_key = as_dataset_key(query)
        claimed = claimed_lines(lineage, lambda c: any(k[1] == query or k == path_key for k in c.datasets))
        raise not_found(
            lineage,
            "dataset",
            query,
            sorted({k[1] for k in lineage.datasets}),
            claimed,
            fix="give a dataset name from that list, or the path or URI the run recorded",
        )
    views = [_dataset_view(lineage, key) for key in keys]
    scope: set[str] = set()
    for view in views:
        scope.update(run.run_id for run in [*view.writers, *view.readers])
        for downstream in view.downstream_models:
            scope.update(run.run_id for run in downstream.model.training)
    return make_answer("dataset", query, lineage, DatasetAnswer(views), scope)
