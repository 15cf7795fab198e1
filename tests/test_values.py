"""Unusual values never break the job nor drop its event (issue #10, finding 9).

What JSON can carry is recorded, what it cannot is encoded by the rule of :mod:`provlineage._internal.jsonsafe`
and named in ``conversions``; in strict mode a dataset path JSON cannot carry is a clear error.  The events go
through a real SigningTransport into a real file log, which must verify.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from openlineage.client.client import OpenLineageClient

import provlineage
from provlineage._internal.jsonsafe import Conversions, to_json_safe
from provlineage.errors import ConfigError
from provlineage.keys import Keyring
from provlineage.transport import SigningConfig, SigningTransport
from provlineage.verification import verify_files


class SignedLog:
    def __init__(self, tmp_path: Path, key_dir: Path) -> None:
        self.path = tmp_path / "lineage.jsonl"
        self.key_dir = key_dir
        self.transport = SigningTransport(
            SigningConfig.from_dict(
                {
                    "private_key": str(key_dir / "private_key.pem"),
                    "state_dir": str(tmp_path / "state"),
                    "transport": {"type": "provlineage.transport.FileLogTransport", "path": str(self.path)},
                }
            )
        )
        self.client = OpenLineageClient(transport=self.transport)

    def events(self) -> list[dict[str, Any]]:
        self.transport.close()
        report = verify_files([self.path], Keyring.from_files([self.key_dir / "public_key.pem"]))
        assert report.ok, report.to_json()
        return [json.loads(line) for line in self.path.read_text().splitlines()]


@pytest.fixture
def signed(tmp_path: Path, key_dir: Path, monkeypatch: pytest.MonkeyPatch) -> SignedLog:
    monkeypatch.setenv("PROVLINEAGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PROVLINEAGE_STRICT", raising=False)
    return SignedLog(tmp_path, key_dir)


def test_self_referencing_values_are_recorded_with_the_cycle_named(signed: SignedLog) -> None:
    params: dict[str, Any] = {"lr": 0.1}
    params["self"] = params
    metrics: list[Any] = [0.5]
    metrics.append(metrics)
    with provlineage.track("cyclic", kind="training", client=signed.client, environment=False) as run:
        run.log_hyperparameters(params)
        run.log_metrics({"curve": metrics})
    complete = signed.events()[-1]["run"]["facets"]
    hyper = complete["provlineage_hyperparameters"]
    # the run merges into its own dict, so the first level is a copy and the cycle closes one level down
    assert hyper["parameters"] == {"lr": 0.1, "self": {"lr": 0.1, "self": "<left out: cycle to self>"}}
    assert hyper["conversions"] == {"self.self": "dict (left out: cycle)"}
    assert complete["provlineage_metrics"]["metrics"]["curve"] == [0.5, "<left out: cycle to curve>"]


def test_an_integer_python_cannot_spell_is_recorded_in_hex(signed: SignedLog) -> None:
    big = 7**6000  # 5,071 decimal digits: past Python's 4,300-digit limit for int -> str
    with provlineage.track("bigint", kind="training", client=signed.client, environment=False) as run:
        run.log_hyperparameters({"big": big, "huge": 1 << 70_000, "fine": 10**4000})
    hyper = signed.events()[-1]["run"]["facets"]["provlineage_hyperparameters"]
    assert hyper["parameters"]["big"] == f"int:{big:#x}"
    assert int(hyper["parameters"]["big"].removeprefix("int:"), 16) == big
    assert hyper["parameters"]["huge"] == "<left out: int of 70001 bits>"
    assert hyper["parameters"]["fine"] == 10**4000
    assert hyper["conversions"] == {"big": "int (more than 4300 digits)", "huge": "int (more than 4300 digits)"}


def test_a_dataset_path_that_is_not_utf8_is_recorded_percent_encoded(
    tmp_path: Path, signed: SignedLog, caplog: pytest.LogCaptureFixture
) -> None:
    raw = os.fsencode(tmp_path) + b"/caf\xe9.csv"  # Latin-1 file name, as old systems write them
    with open(raw, "wb") as handle:
        handle.write(b"a,b\n1,2\n")
    with provlineage.track("latin1", kind="training", client=signed.client, environment=False) as run:
        ref = run.log_dataset(raw)
        run.log_dataset(os.fsdecode(raw), role="output")
    assert ref is not None and ref.digest is not None  # the content was still hashed
    complete = signed.events()[-1]
    names = {d["name"] for d in complete["inputs"] + complete["outputs"]}
    assert names == {f"{tmp_path}/caf%E9.csv"}
    assert "provlineage_datasetHash" in complete["inputs"][0]["facets"]
    assert "not valid UTF-8" in caplog.text


def test_a_dataset_path_that_is_not_utf8_is_a_clear_error_in_strict_mode(tmp_path: Path, signed: SignedLog) -> None:
    raw = os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9.csv")
    Path(raw).write_text("a\n")
    with (
        pytest.raises(ConfigError, match=r"caf%E9\.csv is not valid UTF-8") as caught,
        provlineage.track("latin1", kind="training", client=signed.client, strict=True, environment=False) as run,
    ):
        run.log_dataset(raw)
    assert "name=" in caught.value.fix
    assert [e["eventType"] for e in signed.events()] == ["START", "FAIL"]


def test_values_json_cannot_carry_anywhere_in_a_hyperparameter_are_named(signed: SignedLog) -> None:
    deep: list[Any] = []
    node = deep
    for _ in range(5000):  # deeper than Python's recursion limit
        node.append([])
        node = node[0]

    class Unprintable:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    with provlineage.track("odd", kind="training", client=signed.client, environment=False) as run:
        run.log_hyperparameters({"deep": deep, "odd": Unprintable(), "text": "caf\udce9"})
    hyper = signed.events()[-1]["run"]["facets"]["provlineage_hyperparameters"]
    assert hyper["parameters"]["text"] == "caf%E9"
    assert hyper["parameters"]["odd"] == "<left out: Unprintable whose repr raised RuntimeError>"
    assert json.dumps(hyper["parameters"]["deep"]).count("[") == 63  # 64 levels with the parameters object
    assert hyper["conversions"]["text"] == "str (not valid UTF-8)"
    assert any("nested deeper than 64 levels" in kind for kind in hyper["conversions"].values())


def test_a_value_whose_conversion_raises_is_logged_and_the_job_goes_on(
    signed: SignedLog, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        def tolist(self) -> list[int]:
            raise MemoryError("too big")

    with provlineage.track("broken", kind="training", client=signed.client, environment=False) as run:
        run.log_metrics({"m": Broken()})
        run.log_metrics({"ok": 1})
    assert signed.events()[-1]["run"]["facets"]["provlineage_metrics"]["metrics"] == {"ok": 1}
    assert "log_metrics: a value could not be converted" in caplog.text


def test_exact_text_keeps_strings_for_values_that_are_digested() -> None:
    conversions = Conversions()
    assert to_json_safe({"id": "bad-\ud800"}, exact_text=True, conversions=conversions) == {"id": "bad-\ud800"}
    assert to_json_safe({"id": "bad-\ud800"}, conversions=conversions) == {"id": "bad-\ufffd"}
    assert conversions == {"id": "str (not valid UTF-8)"}


def test_an_event_from_any_producer_with_values_json_cannot_carry_is_signed_not_dropped(
    signed: SignedLog, caplog: pytest.LogCaptureFixture
) -> None:
    """What another integration emits (an Airflow task's inlet named by os.fsdecode) goes through the same rule."""
    from openlineage.client.event_v2 import InputDataset, Job, Run, RunEvent, RunState
    from openlineage.client.uuid import generate_new_uuid

    event = RunEvent(
        eventType=RunState.COMPLETE,
        eventTime="2026-11-30T08:00:00+00:00",
        run=Run(runId=str(generate_new_uuid()), facets={}),
        job=Job(namespace="airflow", name="dag.task"),
        producer="https://example.com/producer",
        inputs=[InputDataset("file", "/data/caf\udce9.csv")],
        outputs=[],
    )
    signed.client.emit(event)
    (recorded,) = signed.events()
    assert recorded["inputs"][0]["name"] == "/data/caf%E9.csv"
    assert "inputs[0].name (str (not valid UTF-8))" in caplog.text
