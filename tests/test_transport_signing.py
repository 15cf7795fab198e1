"""SigningTransport: configured the three ways users configure openlineage-python, signing once, never breaking the job."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import parent_run
from openlineage.client.serde import Serde
from openlineage.client.transport import get_default_factory
from openlineage.client.uuid import generate_new_uuid

from provlineage._internal.signed_event import SignedEvent
from provlineage.errors import ConfigError, KeyLoadError
from provlineage.facets import HyperparametersRunFacet
from provlineage.keys import Keyring, write_key_pair
from provlineage.transport import FileLogTransport, SigningConfig, SigningTransport
from provlineage.verification import verify_files

SIGNING = "provlineage.transport.SigningTransport"
FILE_LOG = "provlineage.transport.FileLogTransport"


def run_event(index: int = 0, **run_facets: Any) -> RunEvent:
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=f"2026-03-01T12:00:{index % 60:02d}.500+01:00",
        run=Run(runId=str(generate_new_uuid()), facets=run_facets),
        job=Job(namespace="ml", name="train"),
        producer="https://example.com/tests",
        inputs=[],
        outputs=[],
    )


def signing_config(tmp_path: Path, key_dir: Path, inner: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": SIGNING,
        "private_key": str(key_dir / "private_key.pem"),
        "state_dir": str(tmp_path / "state"),
        "transport": inner,
        **extra,
    }


def keyring(key_dir: Path) -> Keyring:
    return Keyring.from_files([key_dir / "public_key.pem"])


def assert_log_verifies(path: Path, key_dir: Path, count: int) -> None:
    report = verify_files([path], keyring(key_dir))
    assert report.ok, report.to_json()
    assert len(report.records) == count
    assert [summary.count for summary in report.streams.values()] == [count]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No OpenLineage config from the machine running the tests."""
    import os

    for name in list(os.environ):
        if name.startswith("OPENLINEAGE") or name.startswith("AIRFLOW__OPENLINEAGE"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_openlineage_yml(clean_env: pytest.MonkeyPatch, tmp_path: Path, key_dir: Path) -> None:
    log = tmp_path / "events.jsonl"
    (tmp_path / "openlineage.yml").write_text(
        f"""
transport:
  type: {SIGNING}
  private_key: {key_dir / "private_key.pem"}
  state_dir: {tmp_path / "state"}
  transport:
    type: {FILE_LOG}
    path: {log}
"""
    )
    client = OpenLineageClient()
    assert isinstance(client.transport, SigningTransport)
    for index in range(3):
        client.emit(run_event(index))
    assert client.transport.file_log_path == log
    assert client.transport.strict is False
    assert client.transport.signer.key_id == keyring(key_dir).key_ids[0]
    assert_log_verifies(log, key_dir, 3)


def test_environment_variables_with_stray_transports_key(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, key_dir: Path
) -> None:
    log = tmp_path / "events.jsonl"
    clean_env.setenv("OPENLINEAGE__TRANSPORT__TYPE", SIGNING)
    clean_env.setenv("OPENLINEAGE__TRANSPORT__PRIVATE_KEY", str(key_dir / "private_key.pem"))
    clean_env.setenv("OPENLINEAGE__TRANSPORT__STATE_DIR", str(tmp_path / "state"))
    clean_env.setenv("OPENLINEAGE__TRANSPORT__STRICT", "true")
    clean_env.setenv("OPENLINEAGE__TRANSPORT__TRANSPORT", json.dumps({"type": FILE_LOG, "path": str(log)}))
    # what openlineage-python writes into the environment when OPENLINEAGE_URL is also set
    clean_env.setenv("OPENLINEAGE__TRANSPORT__TRANSPORTS__DEFAULT_HTTP__TYPE", "http")
    clean_env.setenv("OPENLINEAGE__TRANSPORT__TRANSPORTS__DEFAULT_HTTP__URL", "http://127.0.0.1:9")
    client = OpenLineageClient()
    assert isinstance(client.transport, SigningTransport)
    assert client.transport.strict is True
    client.emit(run_event())
    client.emit(run_event(1))
    assert_log_verifies(log, key_dir, 2)


def test_airflow_transport_json(clean_env: pytest.MonkeyPatch, tmp_path: Path, key_dir: Path) -> None:
    """Airflow's [openlineage] transport is a JSON object given to OpenLineageClient(config={"transport": ...})."""
    log = tmp_path / "events.jsonl"
    airflow_option = json.dumps(signing_config(tmp_path, key_dir, {"type": FILE_LOG, "path": str(log)}))
    client = OpenLineageClient(config={"transport": json.loads(airflow_option)})
    client.emit(run_event())
    assert_log_verifies(log, key_dir, 1)
    # the inner config may also arrive as a JSON string (one more level of quoting in an env var)
    nested = signing_config(tmp_path, key_dir, json.dumps({"type": FILE_LOG, "path": str(log)}))  # type: ignore[arg-type]
    get_default_factory().create(nested).emit(run_event(1))
    assert_log_verifies(log, key_dir, 2)


def test_composite_signs_once_for_file_and_marquez(tmp_path: Path, key_dir: Path, marquez_server: Any) -> None:
    log = tmp_path / "events.jsonl"
    inner = {
        "type": "composite",
        "transports": {
            "marquez": {"type": "http", "url": marquez_server.url},
            "file": {"type": FILE_LOG, "path": str(log)},
        },
    }
    transport = get_default_factory().create(signing_config(tmp_path, key_dir, inner))
    for index in range(3):
        transport.emit(run_event(index))
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    stored = marquez_server.events
    assert len(lines) == len(stored) == 3
    for written, held in zip(lines, stored, strict=True):
        assert written["run"]["facets"]["provlineage_signature"] == held["run"]["facets"]["provlineage_signature"]
    assert transport.file_log_path == log
    assert {delivery.target for delivery in transport.deliveries} == {"marquez", "file"}


def test_console_transport_and_attribute_access(
    tmp_path: Path, key_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    transport = get_default_factory().create(signing_config(tmp_path, key_dir, {"type": "console"}))
    event = run_event(
        parent=parent_run.ParentRunFacet(
            run=parent_run.Run(runId=str(generate_new_uuid())), job=parent_run.Job("airflow", "dag")
        )
    )
    with caplog.at_level(logging.INFO, logger="openlineage.client.transport.console"):
        signed = transport.emit(event)
    assert isinstance(signed, SignedEvent)
    assert signed.run.runId == event.run.runId and signed.job.name == "train"
    assert signed.run.facets.provlineage_signature.sequence == 1
    printed = json.loads(caplog.records[-1].getMessage())
    assert printed["run"]["facets"]["provlineage_signature"]["digest"] == signed.digest
    assert printed["eventTime"] == "2026-03-01T11:00:00.5Z"  # the delivered event is the signed (normalized) view


def test_signed_event_is_a_valid_openlineage_event(
    tmp_path: Path, key_dir: Path, event_validator: Callable[[dict[str, Any]], None]
) -> None:
    log = tmp_path / "events.jsonl"
    transport = get_default_factory().create(signing_config(tmp_path, key_dir, {"type": FILE_LOG, "path": str(log)}))
    transport.emit(run_event(provlineage_hyperparameters=HyperparametersRunFacet(parameters={"lr": 0.1})))
    event_validator(json.loads(log.read_text()))


def test_values_json_cannot_carry_are_converted_with_one_warning(
    tmp_path: Path, key_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "events.jsonl"
    transport = get_default_factory().create(signing_config(tmp_path, key_dir, {"type": FILE_LOG, "path": str(log)}))
    facet = HyperparametersRunFacet(
        parameters={"loss": math.nan, "limit": math.inf, "rate": Decimal("0.25"), "path": Path("/data")}
    )
    with caplog.at_level(logging.WARNING, logger="provlineage"):
        transport.emit(run_event(provlineage_hyperparameters=facet))
    warnings = [r.getMessage() for r in caplog.records if "converted" in r.getMessage()]
    assert len(warnings) == 1
    assert "loss" in warnings[0] and "limit" in warnings[0] and "rate" in warnings[0]
    parameters = json.loads(log.read_text())["run"]["facets"]["provlineage_hyperparameters"]["parameters"]
    assert parameters == {"loss": "NaN", "limit": "Infinity", "rate": "0.25", "path": "/data"}
    assert_log_verifies(log, key_dir, 1)


def test_missing_private_key_is_one_line_naming_the_key(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = {
        "type": SIGNING,
        "state_dir": str(tmp_path),
        "transport": {"type": FILE_LOG, "path": str(tmp_path / "e.jsonl")},
    }
    with pytest.raises(ConfigError) as raised:
        get_default_factory().create({**config, "strict": True})
    assert "private_key" in str(raised.value) and "\n" not in str(raised.value)
    with caplog.at_level(logging.ERROR, logger="provlineage"):
        transport = get_default_factory().create(dict(config))
        assert transport.emit(run_event()) is None  # logged, not raised: the job goes on
    assert any("private_key" in record.getMessage() for record in caplog.records)
    assert not (tmp_path / "e.jsonl").exists()


def test_wrong_passphrase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("PL_PASS", "right")
    keys = write_key_pair(tmp_path / "keys", "ed25519", passphrase=b"right")
    config = {
        "type": SIGNING,
        "private_key": str(keys.private_key),
        "passphrase_env": "PL_PASS",
        "state_dir": str(tmp_path / "state"),
        "transport": {"type": FILE_LOG, "path": str(tmp_path / "e.jsonl")},
    }
    assert get_default_factory().create(dict(config)).emit(run_event()) is not None
    monkeypatch.setenv("PL_PASS", "wrong")
    with pytest.raises(KeyLoadError, match="wrong passphrase"):
        get_default_factory().create({**config, "strict": True})
    with caplog.at_level(logging.ERROR, logger="provlineage"):
        assert get_default_factory().create(dict(config)).emit(run_event()) is None
    assert any("wrong passphrase" in record.getMessage() for record in caplog.records)


def test_bad_inner_transport_and_nesting(tmp_path: Path, key_dir: Path) -> None:
    with pytest.raises(ConfigError, match="FileLogTransport config has no `path`"):
        SigningTransport(SigningConfig.from_dict(signing_config(tmp_path, key_dir, {"type": FILE_LOG}, strict=True)))
    with pytest.raises(ConfigError, match="nested"):
        SigningTransport(
            SigningConfig.from_dict(
                signing_config(tmp_path, key_dir, signing_config(tmp_path, key_dir, {"type": "console"}), strict=True)
            )
        )
    with pytest.raises(ConfigError, match="strict"):
        SigningConfig.from_dict({"strict": "maybe"})


def test_injected_signer_and_unsigned_file_log(tmp_path: Path, key_dir: Path) -> None:
    from provlineage.signer import KeySigner

    log = tmp_path / "events.jsonl"
    config = SigningConfig.from_dict(
        {"state_dir": str(tmp_path / "state"), "transport": {"type": FILE_LOG, "path": str(log)}}
    )
    transport = SigningTransport(config, signer=KeySigner.from_file(key_dir / "private_key.pem"))
    transport.emit(run_event())
    assert_log_verifies(log, key_dir, 1)
    plain = FileLogTransport(FileLogTransport.config_class.from_dict({"path": str(tmp_path / "plain.jsonl")}))
    plain.emit(run_event())
    assert verify_files([tmp_path / "plain.jsonl"], keyring(key_dir)).counts()["unsigned"] == 1


def test_event_dict_equals_serde_to_dict() -> None:
    """The one-pass conversion gives what Serde.to_dict gives, rule by rule."""
    import datetime as dt
    import enum
    import uuid

    import attr
    from openlineage.client.event_v2 import InputDataset, OutputDataset
    from openlineage.client.facet_v2 import job_type_job, nominal_time_run, schema_dataset
    from openlineage.client.serde import Serde

    from provlineage.facets import DatasetHashDatasetFacet, EnvironmentRunFacet, ManifestEntry
    from provlineage.transport.event_dict import event_dict

    class Color(enum.Enum):
        RED = "red"
        NOTHING = None

    class int64(int):  # the class name Serde recognises numpy integers by
        pass

    @attr.define
    class Empty:
        a: Any = None

    odd = {
        "when": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
        "day": dt.date(2026, 1, 2),
        "id": uuid.UUID(int=7),
        "color": Color.RED,
        "nothing": Color.NOTHING,
        "none": None,
        "count": int64(3),
        "items": [1, None, Empty(), {}, {"k": None}, (2, 3), [None]],
        "nested": {"deeper": {"gone": None, "kept": 0.5}},
        "pair": (1, "two"),
    }
    event = RunEvent(
        eventType=RunState.FAIL,
        eventTime="2026-03-01T12:00:00Z",
        run=Run(
            runId=str(generate_new_uuid()),
            facets={
                "nominalTime": nominal_time_run.NominalTimeRunFacet(nominalStartTime="2026-03-01T11:00:00Z"),
                "parent": parent_run.ParentRunFacet(
                    run=parent_run.Run(runId=str(uuid.UUID(int=1))), job=parent_run.Job("a", "b")
                ),
                "provlineage_hyperparameters": HyperparametersRunFacet(parameters=odd),
                "provlineage_environment": EnvironmentRunFacet(
                    python={"version": "3.11"}, os={}, architecture="x86_64", hostname="h"
                ),
            },
        ),
        job=Job(
            namespace="ml", name="train", facets={"jobType": job_type_job.JobTypeJobFacet("BATCH", "PYTHON", "MODEL")}
        ),
        producer="https://example.com/tests",
        inputs=[
            InputDataset(
                "file",
                "/data",
                facets={
                    "schema": schema_dataset.SchemaDatasetFacet(
                        fields=[schema_dataset.SchemaDatasetFacetFields(name="x", type=None)]
                    ),
                    "provlineage_datasetHash": DatasetHashDatasetFacet(
                        algorithm="sha256",
                        digest="sha256:" + "0" * 64,
                        size=1,
                        fileCount=1,
                        manifest=[ManifestEntry("a", "d", 1)],
                    ),
                },
            )
        ],
        outputs=[OutputDataset("file", "/model")],
    )
    assert event_dict(event) == Serde.to_dict(event)
    assert json.dumps(event_dict(event), default=str) == json.dumps(Serde.to_dict(event), default=str)  # same order too


# --- the emit hot path (issue #14 item 1): shortcuts that must give exactly what the careful route gives ----------
@pytest.mark.parametrize(
    "parameters",
    [
        {"lr": 0.001, "epochs": 20.0, "name": "adam", "on": True, "nested": {"list": [1, "two", {"three": 3.5}]}},
        {"tiny": 1e-7, "huge": 2**60, "unicode": "ünïcödé ✓", "empty": {}, "none": None},
        {"path": "data/\udcff.csv"},  # a lone surrogate from an undecodable file name: provlineage's JSON rule
    ],
    ids=["plain", "numbers-needing-care", "surrogate"],
)
def test_fast_emit_path_writes_what_the_careful_route_signs(
    tmp_path: Path, key_dir: Path, parameters: dict[str, Any]
) -> None:
    from provlineage._internal import commitments
    from provlineage._internal.canonical import canonical_bytes, loads, project_event
    from provlineage.signing import _commit_withholdable
    from provlineage.transport.event_dict import canonical_event_dict

    event = run_event(1, provlineage_hyperparameters=HyperparametersRunFacet(parameters=parameters))
    ready = canonical_event_dict(event)
    if ready is not None:  # the one-walk values serialize to what the JSON round trip gives
        assert canonical_bytes(ready) == canonical_bytes(loads(json.dumps(Serde.to_dict(event), ensure_ascii=False)))
        view = project_event(ready, may_hold_nulls=False)
        salts, committed, _ = _commit_withholdable(view)
        assert salts and committed == commitments.committed_view(view, salts)
    log = tmp_path / "events.jsonl"
    transport = get_default_factory().create(signing_config(tmp_path, key_dir, {"type": FILE_LOG, "path": str(log)}))
    signed = transport.emit(event)
    assert signed is not None
    (line,) = log.read_text().splitlines()
    assert line == canonical_bytes(loads(line)).decode("utf-8") == signed.json_text
    assert "provlineage:withheld" not in line
    assert_log_verifies(log, key_dir, 1)


def test_one_pass_commitments_match_what_verifiers_recompute() -> None:
    """Every withholdable root, nested lists and dicts, keys needing pointer escapes, nulls, markers already there."""
    from provlineage._internal import commitments
    from provlineage.signing import _commit_withholdable

    marker = {"provlineage:withheld": "sha256:" + "0" * 64}
    view = {
        "run": {
            "facets": {
                "provlineage_hyperparameters": {
                    "parameters": {"a/b~c": [1, {"x": None, "y": "z"}, [True]], "m": marker, "e": {}, "f": 0.5}
                },
                "errorMessage": {"message": "boom", "stackTrace": "Traceback ..."},
            }
        },
        "job": {"facets": {"sourceCodeLocation": {"url": "https://git.example/x", "repoUrl": "git@example:x"}}},
    }
    salts, committed, texts = _commit_withholdable(view)
    assert set(salts) == {pointer for pointer, _ in commitments.withholdable_leaves(view)}
    assert committed == commitments.committed_view(view, salts)
    assert len(texts) == len(salts) == 8
    assert view["run"]["facets"]["errorMessage"]["message"] == "boom"  # the event itself is left as it was
