"""``--run``: one run in full, with its parent, children and the runs upstream and downstream."""

from __future__ import annotations

from provlineage.errors import LineageNotFound
from provlineage.lineage.answers import Answer, RunAnswer, claimed_lines, make_answer, not_found
from provlineage.lineage.graph import Lineage, Run
from provlineage.lineage.views import model_view, run_view

RUN_FIX = (
    "give a run id from that list, or a unique prefix of 8+ characters; "
    "`--model NAME` and `--dataset NAME` show the runs of a model or dataset"
)


def find_run(lineage: Lineage, query: str) -> Run | None:
    """A run by its id, or by a unique prefix of at least 8 characters."""
    if query in lineage.runs:
        return lineage.runs[query]
    matches = _prefix_matches(lineage, query)
    return matches[0] if len(matches) == 1 else None


def _prefix_matches(lineage: Lineage, query: str) -> list[Run]:
    return [run for run_id, run in lineage.runs.items() if len(query) >= 8 and run_id.startswith(query)]


def _not_found(lineage: Lineage, query: str) -> LineageNotFound:
    matches = _prefix_matches(lineage, query)
    if len(matches) > 1:
        return LineageNotFound(
            f"run prefix {query!r} matches {len(matches)} runs in {', '.join(lineage.sources)} "
            f"({', '.join(run.run_id for run in matches[:3])}{', ...' if len(matches) > 3 else ''})",
            "give more characters of the run id",
        )
    claimed = claimed_lines(lineage, lambda c: c.run_id is not None and c.run_id.startswith(query))
    latest = sorted(lineage.runs.values(), key=lambda run: run.start_key, reverse=True)
    known = [f"{run.run_id} ({run.job[0]}/{run.job[1]})" for run in latest]
    return not_found(lineage, "run", query, known, claimed, fix=RUN_FIX, limit=3)


def ask_run(lineage: Lineage, query: str) -> Answer:
    run = find_run(lineage, query)
    if run is None:
        raise _not_found(lineage, query)
    parent = lineage.runs.get(run.parent_run_id or "")
    upstream = {w.run_id: w for use in run.inputs.values() for w in lineage.writers_before(use, run)}
    downstream = {r.run_id: r for use in run.outputs.values() for r in lineage.readers_after(use, run)}
    versions = [
        m
        for m in lineage.models
        if run.run_id in m.training_runs or run.run_id in m.consumer_runs or run.run_id in m.unpinned_consumers
    ]
    children = lineage.children_of(run.run_id)
    body = RunAnswer(
        run_view(lineage, run),
        run_view(lineage, parent) if parent else None,
        [run_view(lineage, child) for child in children],
        [run_view(lineage, w) for w in upstream.values()],
        [run_view(lineage, r) for r in downstream.values()],
        [model_view(lineage, m) for m in versions],
    )
    scope = {run.run_id, *upstream, *downstream, *(c.run_id for c in children), *([parent.run_id] if parent else [])}
    return make_answer("run", query, lineage, body, scope)
