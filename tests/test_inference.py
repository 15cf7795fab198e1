"""Inference records: canonical digests and ids, the buffered log, seals, and inclusion proofs."""

from __future__ import annotations

import decimal
import hashlib
import json
import math
import threading
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from provlineage._internal.canonical import canonical_bytes, prepare
from provlineage._internal.jsonsafe import to_json_safe
from provlineage.inference import (
    InclusionProof,
    InferenceLogError,
    InferenceRecorder,
    canonical_json,
    check_seal,
    default_log_path,
    inference_id,
    prove_inference,
    read_inference_log,
    verify_inclusion,
)
from provlineage.keys import Keyring, load_public_key, write_key_pair
from provlineage.signer import KeySigner

MODEL = "sha256:" + "ab" * 32
RUN = "01a1fb76-2733-77e6-9274-fbdcc09ac6aa"


def _general(value: Any) -> bytes:
    return canonical_bytes(prepare(to_json_safe(value)))


def _recorder(path: Path, **kwargs: Any) -> InferenceRecorder:
    kwargs.setdefault("model_digest", MODEL)
    return InferenceRecorder(
        path, run_id=kwargs.pop("run_id", RUN), job_namespace="ns", job_name="churn.predict", **kwargs
    )


# --- canonical form ---------------------------------------------------------------------------------------
EDGE_CASES = [
    {"a": 1.0, "b": -0.0, "c": 1e-7, "d": 1e20, "e": 2**60, "f": 0.1},
    {2: "x", 10: "y"},  # non-string keys: JCS sorts "10" before "2"
    {"a": None, "b": [None, 1]},  # null members are dropped, nulls in lists kept
    {"\U0001f600": 1, "\uffff": 2},  # keys outside the BMP sort by UTF-16 code units
    {"nan": math.nan, "inf": -math.inf},
    {"dec": decimal.Decimal("1.50"), "set": {3, 1}, "bytes": b"\x00"},
    ("tuple", 1, 2.5),
    {"text": 'quote " backslash \\ control \x01 \u2028 é'},
    {"nested": {"z": [1, {"y": 1.5e300}], "a": True}},
    "plain string",
    42,
    None,
]


@pytest.mark.parametrize("value", EDGE_CASES, ids=range(len(EDGE_CASES)))
def test_canonical_json_matches_the_general_converter(value: Any) -> None:
    assert canonical_json(value) == _general(value)


def test_canonical_json_is_rfc8785_for_json_values() -> None:
    value = {"b": [1, 2.5, "x"], "a": {"d": 1e-7, "c": 100.0}}
    assert canonical_json(value) == rfc8785.dumps(value)
    assert canonical_json({2: "x", 10: "y"}) == b'{"10":"y","2":"x"}'


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_fast_and_general_paths_agree_on_generated_values(value: Any) -> None:
    try:
        expected = _general(value)
    except Exception:  # lone surrogates cannot be carried by either path
        return
    assert canonical_json(value) == expected


def test_inference_id_is_the_documented_formula_and_ignores_key_order() -> None:
    first = {"tenure": 3, "plan": "basic"}
    second = {"plan": "basic", "tenure": 3}
    expected = "inf-" + hashlib.sha256(MODEL.encode() + b"\n" + b'{"plan":"basic","tenure":3}').hexdigest()[:32]
    assert inference_id(canonical_json(first), MODEL) == expected
    assert inference_id(canonical_json(second), MODEL) == expected
    assert inference_id(canonical_json(first), "sha256:" + "cd" * 32) != expected
    assert inference_id(canonical_json(first), None).startswith("inf-")


def test_default_log_path_sits_beside_the_event_log(tmp_path: Path) -> None:
    assert default_log_path(tmp_path / "lineage.jsonl") == tmp_path / "lineage.inferences.jsonl"


# --- the log and its proofs -------------------------------------------------------------------------------
def test_records_are_written_in_batches_and_sealed(tmp_path: Path) -> None:
    path = tmp_path / "inf.jsonl"
    recorder = _recorder(path, batch_size=10)
    ids = [recorder.record({"x": i}, {"y": i % 2}) for i in range(25)]
    assert len(path.read_text().splitlines()) == 20  # two full batches, five still buffered
    sealed = recorder.seal(None, status="COMPLETE")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 26
    assert [line["index"] for line in lines[:25]] == list(range(25))
    assert lines[0]["id"] == inference_id(b'{"x":0}', MODEL) == ids[0]
    assert lines[0]["inputDigest"] == "sha256:" + hashlib.sha256(b'{"x":0}').hexdigest()
    assert "input" not in lines[0] and "output" not in lines[0]
    seal = lines[-1]
    assert seal["type"] == "inferenceSeal" and seal["count"] == 25 and seal["merkleRoot"] == sealed.merkle_root
    assert (sealed.first_id, sealed.last_id) == (ids[0], ids[-1])
    with pytest.raises(InferenceLogError, match="has ended"):
        recorder.record({"x": 1}, {"y": 1})


def test_written_lines_are_canonical_so_the_reader_recomputes_the_same_root(tmp_path: Path) -> None:
    path = tmp_path / "inf.jsonl"
    recorder = _recorder(path, retain_payloads=True)
    recorder.record({"v": 1.0, "w": 1e-7, "big": 2**60, "none": None}, [1.5, "é\U0001f600"], id='custom "id"')
    recorder.record({"k": {2: "a"}}, None)
    sealed = recorder.seal(None, status="COMPLETE")
    assert read_inference_log(path)[RUN].root() == sealed.merkle_root
    first = json.loads(path.read_text().splitlines()[0])
    assert first["input"] == {"v": 1, "w": 1e-7, "big": 2**60}
    assert first["output"] == [1.5, "é\U0001f600"]
    assert first["id"] == 'custom "id"'


def test_inclusion_proof_for_one_inference_out_of_thousands(tmp_path: Path) -> None:
    path = tmp_path / "inf.jsonl"
    other = _recorder(path, run_id="01a1fb76-0000-7000-8000-000000000000")
    recorder = _recorder(path, batch_size=1000)
    ids = []
    for i in range(5000):
        ids.append(recorder.record({"customer": i, "tenure": i % 72}, {"churn": (i % 7) / 7}))
        if i % 100 == 0:
            other.record({"customer": i}, {"churn": 0.5})  # another run interleaved in the same log
    other.seal(None, status="COMPLETE")
    sealed = recorder.seal(None, status="COMPLETE")

    proof = prove_inference(path, ids[3141])
    assert (proof.run_id, proof.index, proof.tree_size) == (RUN, 3141, 5000)
    assert len(proof.path) == 13  # ceil(log2(5000))
    assert proof.merkle_root == sealed.merkle_root
    assert verify_inclusion(proof, sealed.merkle_root)

    # The proof survives a JSON round trip, and fails against another root or for an altered record.
    again = InclusionProof.from_json(json.loads(json.dumps(proof.to_json())))
    assert verify_inclusion(again, sealed.merkle_root)
    assert not verify_inclusion(proof, "sha256:" + "00" * 32)
    altered = InclusionProof.from_json(
        {**proof.to_json(), "record": {**proof.record, "outputDigest": "sha256:" + "11" * 32}}
    )
    assert not verify_inclusion(altered, sealed.merkle_root)
    moved = InclusionProof.from_json({**proof.to_json(), "index": 3140})
    assert not verify_inclusion(moved, sealed.merkle_root)


def test_proof_errors_name_the_log_and_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "inf.jsonl"
    with pytest.raises(InferenceLogError, match=r"inf\.jsonl does not exist"):
        prove_inference(path, "inf-x")
    recorder = _recorder(path)
    first = recorder.record({"x": 1}, {"y": 1})
    recorder.record({"x": 2}, {"y": 2})
    recorder.seal(None, status="COMPLETE")
    with pytest.raises(InferenceLogError, match="inf-nope is not in"):
        prove_inference(path, "inf-nope")
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")  # one record deleted
    with pytest.raises(InferenceLogError, match="sealed 2 records but"):
        prove_inference(path, first)


def test_concurrent_writers_get_distinct_indices(tmp_path: Path) -> None:
    path = tmp_path / "inf.jsonl"
    recorder = _recorder(path, batch_size=64)

    def work(worker: int) -> None:
        for i in range(500):
            recorder.record({"worker": worker, "i": i}, i)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sealed = recorder.seal(None, status="COMPLETE")
    run = read_inference_log(path)[RUN]
    assert sorted(run.leaves) == list(range(2000)) and not run.problems
    assert run.root() == sealed.merkle_root


def test_seal_signature_checks(tmp_path: Path, key_dir: Path) -> None:
    path = tmp_path / "inf.jsonl"
    recorder = _recorder(path)
    recorder.record({"x": 1}, {"y": 1})
    signer = KeySigner.from_file(key_dir / "private_key.pem")
    recorder.seal(signer, status="COMPLETE")
    seal = read_inference_log(path)[RUN].seal
    assert seal is not None
    keyring = Keyring([load_public_key(key_dir / "public_key.pem")])
    assert check_seal(seal, keyring) == ("valid", "")
    assert check_seal({**seal, "count": 2}, keyring)[0] == "failed"
    assert check_seal({k: v for k, v in seal.items() if k != "signature"}, keyring)[0] == "unsigned"
    stranger = write_key_pair(tmp_path / "other", "ed25519")
    assert check_seal(seal, Keyring([load_public_key(stranger.public_key)]))[0] == "unknown-key"
