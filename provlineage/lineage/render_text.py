"""Answers as a readable tree, for a person at a terminal.

Facts come first, then what qualifies them (caveats), then the records that did not verify: an auditor reads the
answer top to bottom and ends on what it cannot vouch for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from provlineage.lineage.answers import (
    Answer,
    DatasetAnswer,
    DatasetView,
    InferenceAnswer,
    ModelAnswer,
    ReportAnswer,
    RunAnswer,
)
from provlineage.lineage.filecheck import FileCheck
from provlineage.lineage.views import NO_DIGEST, Caveat, DatasetRef, ModelView, RunView

_MAX_INLINE = 12


@dataclass
class Node:
    label: str
    children: list[Node] = field(default_factory=list)

    def add(self, label: str, children: list[Node] | None = None) -> Node:
        node = Node(label, children or [])
        self.children.append(node)
        return node


def _lines(node: Node, prefix: str = "", last: bool = True, root: bool = True) -> list[str]:
    lines = [node.label] if root else [f"{prefix}{'└─ ' if last else '├─ '}{node.label}"]
    child_prefix = "" if root else prefix + ("   " if last else "│  ")
    for index, child in enumerate(node.children):
        lines += _lines(child, child_prefix, index == len(node.children) - 1, root=False)
    return lines


def short(digest: str | None, keep: int = 16) -> str:
    if not digest:
        return "(no digest)"
    algorithm, _, hexdigest = digest.rpartition(":")
    return f"{algorithm}:{hexdigest[:keep]}…" if algorithm and len(hexdigest) > keep else digest


def _size(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return ""


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _pairs(mapping: dict[str, Any]) -> str:
    items = [f"{key}={_value(value)}" for key, value in mapping.items()]
    more = f" … (+{len(items) - _MAX_INLINE})" if len(items) > _MAX_INLINE else ""
    return " ".join(items[:_MAX_INLINE]) + more


def dataset_line(ref: DatasetRef, *, writers: bool = True) -> str:
    details = [
        d
        for d in (ref.kind, _size(ref.size), f"{ref.file_count} files" if ref.file_count and ref.file_count > 1 else "")
        if d
    ]
    text = f"{ref.namespace}:{ref.name}  {short(ref.digest)}"
    if ref.model_label:
        text += f"  [model {ref.model_label}]"
    if details:
        text += f"  ({', '.join(details)})"
    if ref.produced_by and writers:
        text += f"  ← written by run {', '.join(ref.produced_by)}"
    return text


def run_title(run: RunView) -> str:
    times = f"{run.started_at or '?'} → {run.ended_at or '…'}"
    return f"{run.role} run {run.run_id}  job {run.job_namespace}/{run.job_name}  {run.state}  {times}"


def verification_line(run: RunView) -> str:
    events = ", ".join(f"{e.source}:{e.line} {e.event_type}" for e in run.events)
    keys = ", ".join(run.key_ids) or "(none)"
    return f"{run.status}: {len(run.events)} signed events ({events}); signer {keys}"


def _caveat_nodes(parent: Node, caveats: list[Caveat]) -> None:
    for caveat in caveats:
        where = f" [{caveat.source}:{caveat.line}]" if caveat.source else ""
        parent.add(f"CAVEAT {caveat.kind}: {caveat.message}{where}")


def run_node(run: RunView, *, full: bool = True, outputs: bool = True) -> Node:
    node = Node(run_title(run))
    if run.parent_run_id:
        job = f" (job {run.parent_job[0]}/{run.parent_job[1]})" if run.parent_job else ""
        node.add(f"parent run {run.parent_run_id}{job}")
    if run.inputs:
        node.add("inputs", [Node(dataset_line(ref)) for ref in run.inputs])
    elif run.role == "training":
        node.add("inputs: none recorded")
    if run.outputs and full and outputs:
        node.add("outputs", [Node(dataset_line(ref, writers=False)) for ref in run.outputs])
    if run.hyperparameters is not None:
        parameters = run.hyperparameters.get("parameters") or {}
        redacted = run.hyperparameters.get("redactedKeys") or []
        node.add(
            f"hyperparameters  {_pairs(parameters)}" + (f"  (redacted: {', '.join(redacted)})" if redacted else "")
        )
    if run.environment is not None and full:
        env = run.environment
        packages = env.get("keyPackages") or {}
        parts = [
            f"Python {env['python']}" if env.get("python") else "",
            env.get("os", ""),
            f"host {env['hostname']}" if env.get("hostname") else "",
            f"image {env['containerImage']}" if env.get("containerImage") else "",
            f"packages {short(env.get('distributionsDigest'))} ({env.get('distributionCount', '?')})"
            if env.get("distributionsDigest")
            else "",
            " ".join(f"{name} {version}" for name, version in packages.items()),
        ]
        node.add("environment  " + ", ".join(p for p in parts if p))
    if run.git is not None:
        git = run.git
        state = [git["branch"]] if git.get("branch") else []
        if "dirty" in git:
            state.append("DIRTY working tree" if git["dirty"] else "clean")
        remote = f"  {git['remoteUrl']}" if git.get("remoteUrl") else ""
        node.add(f"code  git {git.get('commit')}" + (f" ({', '.join(state)})" if state else "") + remote)
    elif run.role == "training":
        node.add("code  no git commit recorded")
    if run.metrics is not None:
        on = run.metrics.get("dataset")
        where = f"  on {on.get('namespace')}:{on.get('name')}" if isinstance(on, dict) else ""
        node.add(f"metrics  {_pairs(run.metrics.get('metrics') or {})}{where}")
    if run.inference is not None:
        inference = run.inference
        node.add(
            f"inferences  {inference.get('count')} committed, Merkle root {short(inference.get('merkleRoot'))}"
            + (f", log {inference['log']}" if inference.get("log") else "")
        )
    node.add(verification_line(run))
    _caveat_nodes(node, run.caveats)
    return node


def model_node(model: ModelView, *, consumers: bool = True) -> Node:
    identity = f"{model.namespace}:{model.dataset_name}"
    extras = ", ".join(x for x in (model.framework, model.format) if x)
    node = Node(f"MODEL {model.label}  {identity}" + (f"  ({extras})" if extras else ""))
    node.add(f"artifact digest {model.digest or '(not recorded)'}")
    datasets = model.training_datasets
    if datasets:
        node.add(f"trained on {len(datasets)} dataset(s)", [Node(dataset_line(ref)) for ref in datasets])
    if model.evaluation_datasets:
        node.add(
            "evaluated on (holdout named by the run's metrics)",
            [Node(dataset_line(ref)) for ref in model.evaluation_datasets],
        )
    if model.training:
        node.add(f"training runs ({len(model.training)})", [run_node(run, outputs=False) for run in model.training])
    else:
        node.add("training runs: none in the verified record")
    if model.upstream:
        node.add(
            "upstream datasets (what the training inputs were made from)",
            [Node(dataset_line(ref)) for ref in model.upstream],
        )
    if consumers and model.consumers:
        used = node.add(f"runs that read it ({len(model.consumers)})")
        for run in model.consumers:
            used.children.append(run_node(run, full=False))
    elif consumers:
        node.add("runs that read it: none in the verified record")
    _caveat_nodes(node, model.caveats)
    return node


def dataset_node(view: DatasetView) -> Node:
    kind = "MODEL DATASET" if view.is_model else "DATASET"
    node = Node(f"{kind} {view.namespace}:{view.name}")
    node.add("recorded digests (oldest first)", [Node(short(d, 64)) for d in view.digests] or [Node("(none recorded)")])
    node.add(
        f"written by ({len(view.writers)})",
        [run_node(run, full=False) for run in view.writers] or [Node("no verified run")],
    )
    node.add(
        f"read by ({len(view.readers)})",
        [run_node(run, full=False) for run in view.readers] or [Node("no verified run")],
    )
    downstream = node.add(f"models downstream ({len(view.downstream_models)})")
    for item in view.downstream_models:
        model = item.model
        downstream.add(
            f"{model.label}  {model.namespace}:{model.dataset_name}  {short(model.digest)}  via {' → '.join(item.path)}"
        )
    return node


def _file_check_node(checks: list[FileCheck]) -> Node:
    node = Node(f"FILES ON DISK ({len(checks)} checked)")
    for check in checks:
        label = f"{check.status.upper():10} {check.namespace}:{check.name}  recorded {short(check.recorded_digest)}"
        if check.current_digest and check.status != "match":
            label += f"  now {short(check.current_digest)}"
        item = node.add(label)
        for title, paths in (("added", check.added), ("missing", check.missing), ("changed", check.changed)):
            if paths:
                item.add(f"{title}: {', '.join(paths[:20])}" + (f" … (+{len(paths) - 20})" if len(paths) > 20 else ""))
        if check.detail:
            item.add(check.detail)
    return node


def _report_nodes(report: ReportAnswer) -> list[Node]:
    nodes = [
        Node(f"RECORD  {report.run_count} runs, {report.dataset_count} datasets, {len(report.models)} model version(s)")
    ]
    inventory = Node("MODELS")
    for model in report.models:
        names = ", ".join(f"{ref.namespace}:{ref.name}" for ref in model.training_datasets) or "no datasets"
        inventory.add(
            f"{model.label}  {short(model.digest)}  trained on {names}; read by {len(model.consumers)} run(s)"
        )
    nodes.append(inventory)
    multi = Node(f"MODELS TRAINED ON MORE THAN ONE DATASET ({len(report.multi_dataset)})")
    for model in report.multi_dataset:
        multi.add(model.label, [Node(dataset_line(ref)) for ref in model.training_datasets])
    nodes.append(multi)
    without = Node(f"MODELS WITHOUT DATASET PROVENANCE ({len(report.without_provenance)})")
    for model in report.without_provenance:
        reason = "; ".join(c.message for c in model.caveats if c.kind in ("no-training-run", "no-dataset-provenance"))
        without.add(f"{model.label}  {model.namespace}:{model.dataset_name}  {reason}")
    nodes.append(without)
    no_artifact = Node(f"MODELS WITHOUT AN ARTIFACT DIGEST ({len(report.without_digest)})")
    for model in report.without_digest:
        no_artifact.add(f"{model.label}  {model.namespace}:{model.dataset_name}  {NO_DIGEST}")
    nodes.append(no_artifact)
    digestless = Node(f"INPUTS WITHOUT A RECORDED DIGEST ({len(report.inputs_without_digest)})")
    for run, ref in report.inputs_without_digest:
        digestless.add(f"{ref.namespace}:{ref.name}  read by run {run.run_id} ({run.job_name})")
    nodes.append(digestless)
    return nodes


def _body_nodes(answer: Answer) -> list[Node]:
    body = answer.body
    if isinstance(body, ModelAnswer):
        return [model_node(model) for model in body.models]
    if isinstance(body, DatasetAnswer):
        return [dataset_node(view) for view in body.datasets]
    if isinstance(body, InferenceAnswer):
        view = body.inference
        node = Node(f"INFERENCE {view.inference_id}")
        proof = "VERIFIED" if view.proof_verified else "DOES NOT MATCH"
        node.add(
            f"inclusion proof {proof}: leaf {view.proof.get('index')} of {view.proof.get('treeSize')} "
            f"in {view.log}, against the signed Merkle root {short(view.merkle_root)}"
        )
        if view.record is not None:
            node.add(f"record  {_pairs(view.record)}")
        node.children.append(run_node(view.run))
        node.children += [model_node(model, consumers=False) for model in view.models]
        return [node]
    if isinstance(body, RunAnswer):
        node = run_node(body.run)
        if body.parent:
            node.add(f"parent: {run_title(body.parent)}")
        for title, runs in (
            ("children", body.children),
            ("upstream runs", body.upstream),
            ("downstream runs", body.downstream),
        ):
            if runs:
                node.add(title, [Node(run_title(run)) for run in runs])
        for model in body.models:
            node.add(f"model {model.label} {short(model.digest)}")
        return [node]
    return _report_nodes(body)


def _unverified_node(answer: Answer) -> Node:
    lineage = answer.lineage
    node = Node(f"UNVERIFIED RECORDS ({len(lineage.unverified)}), never used for an answer")
    for item in lineage.unverified:
        node.add(item.line())
    return node


def render_text(answer: Answer) -> str:
    lineage = answer.lineage
    header = (
        f"provlineage lineage: {answer.kind}{' ' + answer.query if answer.query else ''}  "
        f"({lineage.verified_count} verified of {lineage.record_count} records from {', '.join(lineage.sources)})"
    )
    lines = [header, ""]
    for node in _body_nodes(answer):
        lines += [*_lines(node), ""]
    if answer.file_checks:
        lines += [*_lines(_file_check_node(answer.file_checks)), ""]
    if answer.caveats:
        lines += ["CAVEATS", *(f"  {c.kind}: {c.message}" for c in answer.caveats), ""]
    always = answer.kind == "report"  # the report states "none" rather than leaving the reader to infer it
    if lineage.unverified or always:
        lines += [*_lines(_unverified_node(answer)), ""]
    if lineage.chain or always:
        lines.append(f"CHAIN FINDINGS ({len(lineage.chain)})")
        lines += [
            f"  stream {f.stream}: {f.kind}{f' at {f.source}:{f.line}' if f.source else ''}: {f.detail}"
            for f in lineage.chain
        ]
        lines.append("")
    problems = answer.problems
    lines.append(
        "RESULT: " + ("answer verified" if not problems else "answer given, with problems: " + "; ".join(problems))
    )
    return "\n".join(lines)
