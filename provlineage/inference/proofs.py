"""Read an inference log, prove that one inference belongs to a run, and check such proofs."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provlineage._internal import merkle
from provlineage._internal.canonical import canonical_bytes, loads, prepare
from provlineage.errors import ProvlineageError
from provlineage.inference.records import RECORD_TYPE, SEAL_TYPE, InferenceLogError


@dataclass
class RunInferences:
    """A run's records as found in a log: leaves by index, and its seal if present."""

    run_id: str
    leaves: dict[int, bytes] = field(default_factory=dict)
    records: dict[int, dict[str, Any]] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    seal: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)

    def leaf_list(self) -> list[bytes]:
        return [self.leaves[i] for i in range(len(self.leaves))] if self.contiguous else []

    @property
    def contiguous(self) -> bool:
        return all(i in self.leaves for i in range(len(self.leaves)))

    def root(self) -> str:
        return "sha256:" + merkle.root(self.leaf_list()).hex()


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape", newline="\n") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    yield number, line
    except FileNotFoundError:
        raise InferenceLogError(
            f"inference log {path} does not exist", "pass the *.inferences.jsonl file the run wrote"
        ) from None
    except OSError as error:
        raise InferenceLogError(
            f"inference log {path} cannot be read ({error.strerror})", "check its permissions"
        ) from None


def read_inference_log(
    path: str | os.PathLike[str], *, run_id: str | None = None, keep_records: bool = False
) -> dict[str, RunInferences]:
    """Every run of an inference log (or only ``run_id``), with each record's leaf hash recomputed."""
    runs: dict[str, RunInferences] = {}
    source = Path(path)
    for number, line in _lines(source):
        if run_id is not None and run_id not in line:
            continue
        try:
            value = loads(line)
        except (ValueError, ProvlineageError):
            runs.setdefault("", RunInferences("")).problems.append(f"line {number}: not a JSON record")
            continue
        if not isinstance(value, dict) or not isinstance(value.get("runId"), str):
            runs.setdefault("", RunInferences("")).problems.append(f"line {number}: record without a runId")
            continue
        if run_id is not None and value["runId"] != run_id:
            continue
        run = runs.setdefault(value["runId"], RunInferences(value["runId"]))
        if value.get("type") == SEAL_TYPE:
            if run.seal is not None:
                run.problems.append(f"line {number}: a second seal for the run")
            run.seal = value
            continue
        index = value.get("index")
        if value.get("type") != RECORD_TYPE or not isinstance(index, int) or isinstance(index, bool) or index < 0:
            run.problems.append(f"line {number}: not an inference record (type and a non-negative index are required)")
            continue
        if index in run.leaves:
            run.problems.append(f"line {number}: index {index} appears twice")
            continue
        run.leaves[index] = merkle.leaf_hash(canonical_bytes(value))
        run.ids.setdefault(str(value.get("id")), index)
        if keep_records:
            run.records[index] = value
    return runs


@dataclass(frozen=True)
class InclusionProof:
    """An RFC 6962 audit path from one inference record to its run's Merkle root."""

    run_id: str
    inference_id: str
    index: int
    tree_size: int
    record: dict[str, Any]
    path: list[str]
    """Sibling hashes, hex, from the leaf up."""
    merkle_root: str
    """The root the log's records give (``sha256:<hex>``); compare it with the one in the signed event."""

    def to_json(self) -> dict[str, Any]:
        return {
            "runId": self.run_id,
            "inferenceId": self.inference_id,
            "index": self.index,
            "treeSize": self.tree_size,
            "treeAlgorithm": merkle.TREE_ALGORITHM,
            "merkleRoot": self.merkle_root,
            "path": self.path,
            "record": self.record,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InclusionProof:
        return cls(
            data["runId"],
            data["inferenceId"],
            data["index"],
            data["treeSize"],
            dict(data["record"]),
            list(data["path"]),
            data["merkleRoot"],
        )


def _proof_of(run: RunInferences, inference_id: str, source: str) -> InclusionProof:
    if not run.contiguous:
        raise InferenceLogError(
            f"records of run {run.run_id} in {source} have gaps",
            "the log was truncated or edited; no proof is possible",
        )
    leaves = run.leaf_list()
    if run.seal is not None and run.seal.get("count") != len(leaves):
        raise InferenceLogError(
            f"run {run.run_id} sealed {run.seal.get('count')} records but {source} holds {len(leaves)}",
            "the log was truncated or extended after the run; compare it with the signed event",
        )
    index = run.ids[inference_id]
    path = [sibling.hex() for sibling in merkle.audit_path(index, leaves)]
    return InclusionProof(
        run.run_id, inference_id, index, len(leaves), run.records[index], path, "sha256:" + merkle.root(leaves).hex()
    )


def prove_inference(
    inference_log: str | os.PathLike[str], inference_id: str, *, run_id: str | None = None
) -> InclusionProof:
    """The inclusion proof of the first record with ``inference_id`` (in ``run_id`` if given)."""
    runs = read_inference_log(inference_log, run_id=run_id, keep_records=True)
    for run in runs.values():
        if inference_id in run.ids:
            return _proof_of(run, inference_id, str(inference_log))
    where = f" for run {run_id}" if run_id else ""
    raise InferenceLogError(
        f"inference {inference_id} is not in {inference_log}{where}", "check the id and the log path"
    )


def _root_bytes(root: str) -> bytes | None:
    try:
        return bytes.fromhex(root.removeprefix("sha256:"))
    except (AttributeError, ValueError):
        return None


def verify_inclusion(proof: InclusionProof, merkle_root: str) -> bool:
    """True when ``proof.record`` is leaf ``proof.index`` of the ``proof.tree_size``-leaf tree with ``merkle_root``.

    ``merkle_root`` must come from a source you trust: the ``provlineage_inference`` facet of the run's *verified*
    event (or a valid seal), never from the proof itself.
    """
    record = proof.record
    if (
        record.get("id") != proof.inference_id
        or record.get("index") != proof.index
        or record.get("runId") != proof.run_id
    ):
        return False
    expected = _root_bytes(merkle_root)
    try:
        leaf = merkle.leaf_hash(canonical_bytes(prepare(record)))
        path = [bytes.fromhex(sibling) for sibling in proof.path]
    except (ValueError, TypeError, ProvlineageError):
        return False
    return expected is not None and merkle.verify_path(leaf, proof.index, proof.tree_size, path, expected)
