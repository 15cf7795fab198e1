"""Signing and checking single events: known-answer vectors, tampering with every covered part, honest rewrites."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import nominal_time_run, parent_run, tags_run
from openlineage.client.serde import Serde

from provlineage._internal.canonical import loads, prepare
from provlineage.facets import DatasetHashDatasetFacet, HyperparametersRunFacet
from provlineage.keys import Keyring, generate_private_key
from provlineage.signature_check import Status, check_event
from provlineage.signer import KeySigner
from provlineage.signing import ChainLink, sign_event

VECTORS = json.loads((Path(__file__).parent / "vectors" / "signatures.json").read_text())


def make_event() -> dict[str, Any]:
    event = RunEvent(
        eventType=RunState.COMPLETE,
        eventTime="2026-03-01T12:00:00.100000+00:00",
        run=Run(
            runId="01900000-0000-7000-8000-0000000000aa",
            facets={
                "nominalTime": nominal_time_run.NominalTimeRunFacet(nominalStartTime="2026-03-01T11:00:00.000+00:00"),
                "parent": parent_run.ParentRunFacet(
                    run=parent_run.Run(runId="01900000-0000-7000-8000-0000000000bb"),
                    job=parent_run.Job(namespace="airflow", name="dag"),
                ),
                "tags": tags_run.TagsRunFacet(tags=[tags_run.TagsRunFacetFields(key="team", value="ml")]),
                "provlineage_hyperparameters": HyperparametersRunFacet(
                    parameters={"lr": 0.5, "epochs": 10, "ratio": 100.0}
                ),
            },
        ),
        job=Job(namespace="ml", name="train_churn", facets={}),
        producer="https://example.com/producer",
        inputs=[
            InputDataset(
                "file",
                "/data/train.csv",
                facets={
                    "provlineage_datasetHash": DatasetHashDatasetFacet(
                        algorithm="sha256", digest="a" * 64, size=1024, fileCount=1
                    )
                },
                inputFacets={},
            )
        ],
        outputs=[OutputDataset("file", "/models/churn.pkl", facets={}, outputFacets={})],
    )
    return prepare(Serde.to_dict(event))


@pytest.fixture(scope="module")
def signer() -> KeySigner:
    return KeySigner(generate_private_key("ed25519"))


@pytest.fixture(scope="module")
def keyring(signer: KeySigner) -> Keyring:
    return Keyring([signer._key.public_key()])


@pytest.fixture
def signed(signer: KeySigner) -> dict[str, Any]:
    event = make_event()
    sign_event(event, signer, chain=ChainLink("host/stream", 7, "sha256:" + "0" * 64))
    return event


def reparse(event: dict[str, Any]) -> dict[str, Any]:
    return loads(json.dumps(event))


@pytest.mark.parametrize("algorithm", ["ed25519", "ecdsa-p256", "rsa-pss-2048", "rsa-pss-3072"])
def test_signature_vectors_verify(algorithm: str) -> None:
    vector = VECTORS["vectors"][algorithm]
    public = serialization.load_pem_public_key(vector["publicKey"].encode())
    keyring = Keyring([public])  # type: ignore[list-item]
    result = check_event(loads(json.dumps(vector["signedEvent"])), keyring)
    assert result.status is Status.VALID, result.reason
    assert result.digest == vector["digest"]
    assert result.key_id == vector["keyId"]


def test_ed25519_signature_is_a_known_answer() -> None:
    vector = VECTORS["vectors"]["ed25519"]
    private = serialization.load_pem_private_key(vector["privateKey"].encode(), password=None)
    event = prepare(VECTORS["event"])
    digest = sign_event(event, KeySigner(private), chain=ChainLink("vector-host/stream", 1, None))  # type: ignore[arg-type]
    assert digest == vector["digest"]
    assert event == vector["signedEvent"]


def test_signed_event_verifies(signed: dict[str, Any], keyring: Keyring) -> None:
    result = check_event(reparse(signed), keyring)
    assert (result.status, result.sequence, result.stream) == (Status.VALID, 7, "host/stream")


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(event: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = event
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value

    return change


_DELETE = object()
SIG = "run.facets.provlineage_signature"
TAMPERING = {
    "eventType": _set("eventType", "FAIL"),
    "eventTime instant": _set("eventTime", "2026-03-01T12:00:00.100001Z"),
    "runId": _set("run.runId", "01900000-0000-7000-8000-0000000000ff"),
    "job namespace": _set("job.namespace", "other"),
    "job name": _set("job.name", "other"),
    "producer": _set("producer", "https://evil.example"),
    "schemaURL": _set("schemaURL", "https://openlineage.io/spec/2-0-1/OpenLineage.json#/$defs/RunEvent"),
    "our facet value": _set("run.facets.provlineage_hyperparameters.parameters.lr", 0.6),
    "third-party facet": _set("run.facets.tags.tags.0.value", "finance"),
    "facet removed": _set("run.facets.tags", _DELETE),
    "facet added": _set("run.facets.injected", {"_producer": "x", "_schemaURL": "y", "v": 1}),
    "nominal time instant": _set("run.facets.nominalTime.nominalStartTime", "2026-03-01T11:00:01Z"),
    "parent run": _set("run.facets.parent.run.runId", "01900000-0000-7000-8000-0000000000cc"),
    "job facet added": _set("job.facets", {"sql": {"_producer": "x", "_schemaURL": "y", "query": "select 1"}}),
    "input name": _set("inputs.0.name", "/data/other.csv"),
    "input namespace": _set("inputs.0.namespace", "s3://bucket"),
    "input facet": _set("inputs.0.facets.provlineage_datasetHash.digest", "b" * 64),
    "input facets group": _set("inputs.0.inputFacets", {"x": {"_producer": "x", "_schemaURL": "y"}}),
    "output removed": _set("outputs", []),
    "output name": _set("outputs.0.name", "/models/other.pkl"),
    "output facets group": _set("outputs.0.outputFacets", {"x": {"_producer": "x", "_schemaURL": "y"}}),
    "sequence": _set(f"{SIG}.sequence", 8),
    "stream": _set(f"{SIG}.stream", "host/other"),
    "previous digest": _set(f"{SIG}.previousDigest", "sha256:" + "1" * 64),
    "chain removed": _set(f"{SIG}.sequence", _DELETE),
    "signature bytes": _set(f"{SIG}.signature", "AAAA" + "A" * 84),
    "digest field": _set(f"{SIG}.digest", "sha256:" + "2" * 64),
    "algorithm": _set(f"{SIG}.algorithm", "ecdsa-p256-sha256"),
    "canonicalization": _set(f"{SIG}.canonicalization", "provlineage-jcs/0"),
}


@pytest.mark.parametrize("part", list(TAMPERING))
def test_tampering_with_any_covered_part_fails(part: str, signed: dict[str, Any], keyring: Keyring) -> None:
    event = copy.deepcopy(signed)
    TAMPERING[part](event)
    result = check_event(reparse(event), keyring)
    assert result.status is not Status.VALID, f"tampering with {part} went unnoticed"


def test_key_swap_to_another_trusted_key_fails(signed: dict[str, Any], keyring: Keyring) -> None:
    other = generate_private_key("ed25519").public_key()
    ring = Keyring([*[keyring.get(k) for k in keyring.key_ids], other])  # type: ignore[list-item]
    event = copy.deepcopy(signed)
    event["run"]["facets"]["provlineage_signature"]["keyId"] = ring.key_ids[1]
    assert check_event(reparse(event), ring).status is Status.FAILED


def test_unknown_key_is_reported_as_such(signed: dict[str, Any]) -> None:
    result = check_event(reparse(signed), Keyring([generate_private_key("ed25519").public_key()]))
    assert result.status is Status.UNKNOWN_KEY
    assert "--public-key" in result.reason


def _jsonb_order(value: Any) -> Any:
    """PostgreSQL jsonb orders object keys by length, then bytes."""
    if isinstance(value, dict):
        return {k: _jsonb_order(value[k]) for k in sorted(value, key=lambda k: (len(k.encode()), k.encode()))}
    if isinstance(value, list):
        return [_jsonb_order(v) for v in value]
    return value


def marquez_round_trip(event: dict[str, Any]) -> str:
    """What Marquez gives back: Jackson + jsonb re-serialization (notes §3)."""
    copied = json.loads(json.dumps(event))
    copied["eventTime"] = "2026-03-01T12:00:00.1Z"
    copied["run"]["facets"]["nominalTime"]["nominalStartTime"] = "2026-03-01T11:00Z"
    copied["run"]["facets"]["parent"]["job"]["extra"] = None  # a null member Marquez drops
    text = json.dumps(_jsonb_order(copied), indent=1)
    text = re.sub(r'"ratio": 100(\.0)?', '"ratio": 1.0E2', text)  # Java's spelling of a double
    text = text.replace('"lr": 0.5', '"lr": 5.0E-1')
    text = text.replace('"epochs": 10', '"epochs": 10.0')
    return text


def test_marquez_round_trip_still_verifies(signed: dict[str, Any], keyring: Keyring) -> None:
    stored = marquez_round_trip(signed)
    assert stored != json.dumps(signed)
    assert "1.0E2" in stored and "+00:00" not in stored
    result = check_event(loads(stored), keyring)
    assert result.status is Status.VALID, result.reason


def test_parent_link_members_marquez_drops_are_not_covered(signer: KeySigner, keyring: Keyring) -> None:
    event = make_event()
    event["run"]["facets"]["parent"]["run"]["extra"] = "dropped by Marquez's typed RunLink"
    sign_event(event, signer)
    assert "extra" not in event["run"]["facets"]["parent"]["run"], "the signer stores what it signs"
    event["run"]["facets"]["parent"]["run"]["extra"] = "re-added"
    assert check_event(reparse(event), keyring).status is Status.VALID


def test_event_without_run_facets_is_unsigned_with_a_fix(keyring: Keyring) -> None:
    event = make_event()
    event["run"]["facets"] = {}
    result = check_event(event, keyring)
    assert result.status is Status.UNSIGNED
    assert "SigningTransport" in result.reason


def test_non_event_is_malformed(keyring: Keyring) -> None:
    assert check_event([1, 2], keyring).status is Status.MALFORMED
    assert check_event({"eventType": "START"}, keyring).status is Status.MALFORMED


@pytest.mark.parametrize("extra", [{}, {"\U0001f600 key": {"x": 1e-7}}, {"mimic": "provlineage-signature-"}])
def test_stored_line_is_the_canonical_signed_event(signer: KeySigner, keyring: Keyring, extra: dict[str, Any]) -> None:
    from provlineage.signing import sign_event_line, signed_event_text

    event = make_event()
    event["run"]["facets"]["custom"] = {"_producer": "p", "_schemaURL": "s", **extra}
    line = sign_event_line(event, signer, chain=ChainLink("host/s", 1, None))
    assert line.text == signed_event_text(event)
    assert check_event(loads(line.text), keyring).status is Status.VALID


@pytest.mark.parametrize(
    "chain",
    [None, ChainLink("host/s", 1, None), ChainLink('h\u00f6st/"q"\\\n\x01/\U0001f600', 2**40, "sha256:" + "ab" * 32)],
)
def test_payload_parts_are_the_canonical_payload(chain: ChainLink | None) -> None:
    from provlineage._internal.canonical import canonical_bytes
    from provlineage.signing import _payload_parts

    event = {"eventType": "START", "x": [1.5, "\u20ac"]}
    payload: dict[str, Any] = {
        "algorithm": "ed25519",
        "canonicalization": "provlineage-jcs/1",
        "keyId": "sha256:k",
        "event": event,
    }
    if chain is not None:
        link: dict[str, Any] = {"stream": chain.stream, "sequence": chain.sequence}
        if chain.previous_digest:
            link["previousDigest"] = chain.previous_digest
        payload["chain"] = link
    prefix, suffix = _payload_parts("ed25519", "sha256:k", chain)
    assert prefix + canonical_bytes(event) + suffix == canonical_bytes(payload)


def test_a_lone_surrogate_in_the_chain_fails_verification_without_an_error(
    signed: dict[str, Any], keyring: Keyring
) -> None:
    event = copy.deepcopy(signed)
    event["run"]["facets"]["provlineage_signature"]["stream"] = "host/\ud800"
    assert check_event(reparse(event), keyring).status is Status.FAILED
