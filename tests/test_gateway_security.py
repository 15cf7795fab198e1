"""Attacks on the gateway: none reaches the downstream, each is quarantined with its reason.

Every event here is really signed (or really tampered with after signing) with real Ed25519 keys; the gateway
runs under uvicorn with a file-log downstream, which the tests read afterwards.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from provlineage.signer import KeySigner
from provlineage.signing import ChainLink, sign_event_line

from fixtures.gateway import Chain, Party, gateway_config, post, run_event, serve_gateway


@pytest.fixture
def gateway(tmp_path: Path, parties: dict[str, Party]):
    with serve_gateway(gateway_config(tmp_path, parties)) as served:
        yield served


def _downstream_digests(tmp_path: Path) -> list[str]:
    path = tmp_path / "downstream.jsonl"
    if not path.exists():
        return []
    return [
        json.loads(line)["run"]["facets"]["provlineage_signature"]["digest"] for line in path.read_text().splitlines()
    ]


def _refused(gateway, answer, status: int, reason: str, producer: str | None) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == reason
    entry = gateway.store.quarantine_entry(answer.json()["quarantineId"])
    assert (entry.status, entry.reason, entry.producer) == (status, reason, producer)
    assert entry.body  # the refused request is kept for the operator


def test_forged_event_is_refused(gateway, tmp_path: Path, parties: dict[str, Party]) -> None:
    event = json.loads(Chain(parties["train"]).next())
    event["job"]["name"] = "churn.train.tampered"  # changed after signing
    _refused(gateway, post(gateway.url, json.dumps(event), parties["train"].api_key), 422, "bad-signature", "train")
    gateway.settle()
    assert _downstream_digests(tmp_path) == []


def test_resigned_with_an_unknown_key_is_refused(gateway, tmp_path: Path, parties: dict[str, Party]) -> None:
    event = json.loads(Chain(parties["train"]).next())
    event["job"]["name"] = "churn.train.tampered"
    line = sign_event_line(event, parties["rogue"].signer, chain=ChainLink("test/rogue", 1, None))
    _refused(gateway, post(gateway.url, line.text, parties["train"].api_key), 403, "unknown-key", "train")
    gateway.settle()
    assert _downstream_digests(tmp_path) == []


def test_signed_with_another_producers_key_is_refused(gateway, tmp_path: Path, parties: dict[str, Party]) -> None:
    text = Chain(parties["serve"]).next(run_event(namespace="ml-train"))
    _refused(gateway, post(gateway.url, text, parties["train"].api_key), 403, "key-not-allowed", "train")
    gateway.settle()
    assert _downstream_digests(tmp_path) == []


def test_unsigned_event_is_refused_by_default(gateway, tmp_path: Path, parties: dict[str, Party]) -> None:
    _refused(gateway, post(gateway.url, json.dumps(run_event()), parties["train"].api_key), 422, "unsigned", "train")
    gateway.settle()
    assert not (tmp_path / "downstream.jsonl").exists()


def test_unsigned_event_is_accepted_when_allowed(tmp_path: Path, parties: dict[str, Party]) -> None:
    with serve_gateway(gateway_config(tmp_path, parties, allow_unsigned=True)) as served:
        event = run_event()
        assert post(served.url, json.dumps(event), parties["train"].api_key).status_code == 201
        # still only in the producer's namespaces
        wrong = post(served.url, json.dumps(run_event(namespace="finance")), parties["train"].api_key)
        assert wrong.status_code == 403
        served.settle()
    lines = (tmp_path / "downstream.jsonl").read_text().splitlines()
    assert [json.loads(line)["run"]["runId"] for line in lines] == [event["run"]["runId"]]


def test_replayed_sequence_with_a_different_event_is_refused(
    gateway, tmp_path: Path, parties: dict[str, Party]
) -> None:
    chain = Chain(parties["train"])
    original = chain.next()
    assert post(gateway.url, original, parties["train"].api_key).status_code == 201
    chain.sequence, chain.head = 0, None  # a second, different event at the used sequence 1, validly signed
    replay = chain.next(run_event(name="churn.train.other"))
    _refused(gateway, post(gateway.url, replay, parties["train"].api_key), 409, "sequence-reused", "train")
    # the exact event again (a spool retry, or a captured request replayed) is answered 200 and not re-forwarded
    assert post(gateway.url, original, parties["train"].api_key).status_code == 200
    gateway.settle()
    assert _downstream_digests(tmp_path) == [json.loads(original)["run"]["facets"]["provlineage_signature"]["digest"]]


def test_wrong_namespace_is_refused(gateway, tmp_path: Path, parties: dict[str, Party]) -> None:
    text = Chain(parties["train"]).next(run_event(namespace="ml-serve"))
    _refused(gateway, post(gateway.url, text, parties["train"].api_key), 403, "namespace-not-allowed", "train")
    gateway.settle()
    assert _downstream_digests(tmp_path) == []


@pytest.mark.parametrize("api_key", [None, "not-a-registered-key"])
def test_unauthenticated_request_is_refused(gateway, tmp_path: Path, parties: dict[str, Party], api_key) -> None:
    answer = post(gateway.url, Chain(parties["train"]).next(), api_key)
    _refused(gateway, answer, 401, "unauthenticated", None)
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    gateway.settle()
    assert _downstream_digests(tmp_path) == []


def test_another_key_cannot_write_into_a_stream(gateway, tmp_path: Path, parties: dict[str, Party]) -> None:
    """A producer with a valid key of its own cannot take sequence numbers of someone else's stream."""
    victim = Chain(parties["train"])
    assert post(gateway.url, victim.next(), parties["train"].api_key).status_code == 201
    intruder = KeySigner.from_file(parties["serve"].key_dir / "private_key.pem")
    line = sign_event_line(run_event(namespace="ml-serve"), intruder, chain=ChainLink(victim.stream, 2, victim.head))
    _refused(gateway, post(gateway.url, line.text, parties["serve"].api_key), 409, "stream-key-mismatch", "serve")
    assert post(gateway.url, victim.next(), parties["train"].api_key).status_code == 201  # the victim goes on
    gateway.settle()
    assert len(_downstream_digests(tmp_path)) == 2


def test_quarantine_cli_lists_and_shows(gateway, tmp_path: Path, parties: dict[str, Party]) -> None:
    from click.testing import CliRunner

    from provlineage.cli import cli

    from fixtures.gateway import write_config

    answer = post(gateway.url, json.dumps(run_event()), parties["train"].api_key)
    config = write_config(tmp_path, gateway_config(tmp_path, parties))
    runner = CliRunner()
    listed = runner.invoke(cli, ["gateway", "--config", str(config), "quarantine", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    entries = [json.loads(line) for line in listed.output.splitlines()]
    assert [(e["id"], e["reason"], e["producer"], e["status"]) for e in entries] == [
        (answer.json()["quarantineId"], "unsigned", "train", 422)
    ]
    shown = runner.invoke(cli, ["gateway", "--config", str(config), "quarantine", "show", str(entries[0]["id"])])
    assert shown.exit_code == 0, shown.output
    assert json.loads(json.loads(shown.output)["body"])["run"]["runId"]
    missing = runner.invoke(cli, ["gateway", "--config", str(config), "quarantine", "show", "999"])
    assert missing.exit_code != 0
    kept = runner.invoke(cli, ["gateway", "--config", str(config), "quarantine", "purge", "--older-than", "1"])
    assert kept.output == "deleted 0 quarantine entries older than 1 days\n"
    purged = runner.invoke(cli, ["gateway", "--config", str(config), "quarantine", "purge", "--older-than", "0"])
    assert purged.output == "deleted 1 quarantine entries older than 0 days\n"
    assert gateway.store.quarantined() == []


def test_unauthenticated_flood_cannot_fill_the_quarantine(tmp_path: Path, parties: dict[str, Party]) -> None:
    config = gateway_config(tmp_path, parties, limits={"unauthenticated_rate_limit": {"per_second": 0.01, "burst": 3}})
    with serve_gateway(config) as served:
        answers = [post(served.url, b'{"x": 1}', "stranger") for _ in range(8)]
        answers += [post(served.url, b"x" * 2_000_000, "stranger") for _ in range(2)]  # oversize: still 401
        assert {a.status_code for a in answers} == {401}
        assert len(served.store.quarantined()) == 3
        metrics = requests.get(served.url + "/metrics", timeout=5).text
        assert "provlineage_gateway_unauthenticated_unrecorded_total 7.0" in metrics
        assert post(served.url, Chain(parties["train"]).next(), parties["train"].api_key).status_code == 201
