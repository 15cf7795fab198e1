"""``--model``: which datasets, code and configuration produced a model version, and what read it."""

from __future__ import annotations

from provlineage.lineage.answers import Answer, ModelAnswer, as_dataset_key, claimed_lines, make_answer, not_found
from provlineage.lineage.graph import Lineage, ModelVersion, Run
from provlineage.lineage.views import model_view


def _split_model_query(query: str) -> tuple[str, str | None]:
    name, at, version = query.rpartition("@")
    if at and name and "/" not in version:
        return name, version
    return query, None


def find_models(lineage: Lineage, query: str) -> list[ModelVersion]:
    """Model versions matching ``NAME[@VERSION]``.

    ``NAME`` is any name the output shows for the model: a name a run gave it in ``provlineage_model``, the dataset
    name, ``namespace:name``, or a path or URI.  ``VERSION`` is the model facet's version or a prefix of the
    artifact digest (7+ hex digits), with or without its algorithm (``@sha256:3fa2c1d0``, ``@3fa2c1d0``).
    """
    name, version = _split_model_query(query)
    path_key = as_dataset_key(name)
    matches = [
        model
        for model in lineage.models
        if name in model.names
        or name in (model.dataset[1], f"{model.dataset[0]}:{model.dataset[1]}")
        or model.dataset == path_key
    ]
    if version is not None:
        matches = [model for model in matches if model.version == version or _digest_prefix(model.digest, version)]
    return matches


def _digest_prefix(digest: str | None, prefix: str) -> bool:
    """At least 7 hex digits of the artifact digest, after its algorithm (``sha256:3fa2c1d``) or without it."""
    if digest is None:
        return False
    algorithm, _, hex_digest = digest.rpartition(":")
    wanted = prefix.lower().removeprefix(f"{algorithm}:" if algorithm else "")
    return len(wanted) >= 7 and all(c in "0123456789abcdef" for c in wanted) and hex_digest.startswith(wanted)


def ask_model(lineage: Lineage, query: str) -> Answer:
    versions = find_models(lineage, query)
    if not versions:
        name, _ = _split_model_query(query)
        path_key = as_dataset_key(name)
        claimed = claimed_lines(
            lineage, lambda c: name in c.models or any(k[1] == name or k == path_key for k in c.datasets)
        )
        raise not_found(lineage, "model", query, sorted({m.label for m in lineage.models}), claimed)
    views = [model_view(lineage, version) for version in versions]
    return make_answer("model", query, lineage, ModelAnswer(views), model_scope(lineage, versions))


def model_scope(lineage: Lineage, versions: list[ModelVersion]) -> set[str]:
    scope: set[str] = set()
    for version in versions:
        scope.update(version.training_runs, version.consumer_runs, version.unpinned_consumers)
        scope.update(_upstream_runs(lineage, [lineage.runs[r] for r in version.training_runs]))
    return scope


def _upstream_runs(lineage: Lineage, runs: list[Run]) -> set[str]:
    seen: set[str] = set()
    frontier = list(runs)
    while frontier:
        reader = frontier.pop()
        for use in reader.inputs.values():
            for writer in lineage.writers_before(use, reader):
                if writer.run_id not in seen:
                    seen.add(writer.run_id)
                    frontier.append(writer)
    return seen
