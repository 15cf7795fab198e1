"""Answers as a Graphviz DOT digraph: datasets and models (ellipses, models as boxes) and runs, joined by read and
write edges, as Marquez draws lineage.  Runs with caveats and files that changed on disk are coloured; unverified
records are never drawn (the graph label says how many were left out).  Render with ``dot -Tsvg``.
"""

from __future__ import annotations

from provlineage.lineage.answers import Answer
from provlineage.lineage.graph import DatasetKey, Lineage
from provlineage.lineage.render_text import short
from provlineage.lineage.views import run_caveats


def quote(text: str) -> str:
    """A DOT double-quoted string (labels may use ``\\n`` line breaks, passed in as real newlines)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n")
    return f'"{escaped}"'


def _dataset_id(key: DatasetKey) -> str:
    return quote(f"dataset:{key[0]}:{key[1]}")


def render_dot(answer: Answer) -> str:
    lineage: Lineage = answer.lineage
    runs = [lineage.runs[run_id] for run_id in sorted(answer.scope, key=lambda r: (lineage.runs[r].start_key, r))]
    changed = {(c.namespace, c.name) for c in answer.file_checks if c.status != "match"}
    title = f"provlineage lineage {answer.kind} {answer.query}".strip()
    if lineage.unverified:
        title += f"\n{len(lineage.unverified)} unverified record(s) not shown"
    lines = [
        "digraph lineage {",
        "  rankdir=LR;",
        f"  label={quote(title)}; labelloc=t; fontname=Helvetica;",
        "  node [fontname=Helvetica, fontsize=10]; edge [fontname=Helvetica, fontsize=9];",
    ]
    digests: dict[DatasetKey, str | None] = {}  # the latest digest recorded in the answer, per dataset
    for run in runs:
        for key, use in [*run.inputs.items(), *run.outputs.items()]:
            if use.digest or key not in digests:
                digests[key] = use.digest
    for key, digest in digests.items():
        node = lineage.datasets[key]
        model = node.facets.get("provlineage_model") if node.is_model else None
        label = f"{model.get('name')}\n{key[1]}" if isinstance(model, dict) else key[1]
        label += f"\n{key[0]}\n{short(digest, 12)}"
        shape = "box3d" if node.is_model else "ellipse"
        fill = "#f4cccc" if key in changed else ("#fff2cc" if node.is_model else "#ffffff")
        extra = ", color=red, penwidth=2" if key in changed else ""
        lines.append(
            f"  {_dataset_id(key)} [label={quote(label)}, shape={shape}, style=filled, fillcolor={quote(fill)}{extra}];"
        )
    for run in runs:
        caveats = run_caveats(lineage, run)
        signers = ", ".join(short(k, 8) for k in run.key_ids)
        label = f"{run.job[1]}\nrun {run.run_id[:13]}\n{run.state}\nsigned {signers}"
        fill = "#fce5cd" if caveats else "#d9ead3"
        lines.append(
            f'  {quote("run:" + run.run_id)} [label={quote(label)}, shape=box, style="rounded,filled", fillcolor={quote(fill)}];'
        )
        lines += [f"  {_dataset_id(key)} -> {quote('run:' + run.run_id)} [label=read];" for key in run.inputs]
        lines += [f"  {quote('run:' + run.run_id)} -> {_dataset_id(key)} [label=wrote];" for key in run.outputs]
        parent = run.parent_run_id
        if parent in answer.scope:
            lines.append(
                f"  {quote('run:' + str(parent))} -> {quote('run:' + run.run_id)} [style=dashed, label=parent];"
            )
    lines.append("}")
    return "\n".join(lines) + "\n"
