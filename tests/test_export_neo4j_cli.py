"""``provlineage export neo4j`` without a server: help, the missing extra, credentials, an unreachable Neo4j,
and the graph rows a lineage becomes (no database needed for those)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from provlineage.cli import cli, main
from provlineage.export.neo4j_rows import graph_rows
from provlineage.export.neo4j_watermark import runs_to_write, stream_heads
from provlineage.keys import Keyring
from provlineage.lineage import lineage_from_files

from lineage_events import SignedLog, training_run

README = Path(__file__).resolve().parents[1] / "README.md"


def train(log: SignedLog, tmp_path: Path, number: int) -> str:
    data = tmp_path / f"train-{number}.csv"
    data.write_text(f"x,y\n{number},1\n")
    model = tmp_path / f"model-{number}.json"
    model.write_text(f'{{"w": {number}}}')
    return training_run(
        log, datasets=[data], model=model, metrics={"auc": 0.9}, metrics_dataset=None, parameters={"C": number}
    )


def test_help_names_the_source_key_and_connection_options() -> None:
    result = CliRunner().invoke(cli, ["export", "neo4j", "--help"])
    assert result.exit_code == 0
    for option in ("--public-key", "--uri", "--user", "--password-env", "--database", "--marquez", "--full"):
        assert option in result.output


def test_a_missing_extra_is_one_line_naming_the_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "neo4j", None)  # import neo4j now raises ImportError
    with pytest.raises(SystemExit) as done:
        main(["export", "neo4j", str(tmp_path / "x.jsonl"), "--public-key", "k.pem", "--uri", "bolt://127.0.0.1:1"])
    assert done.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install 'provlineage[neo4j]'" in err


def test_an_unset_password_variable_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("neo4j", reason="needs the neo4j extra")
    monkeypatch.delenv("PROVLINEAGE_TEST_NEO4J_PW", raising=False)
    with pytest.raises(SystemExit) as done:
        main(["export", "neo4j", "x.jsonl", "--public-key", "k.pem", "--uri", "bolt://127.0.0.1:1",
              "--password-env", "PROVLINEAGE_TEST_NEO4J_PW"])  # fmt: skip
    assert done.value.code == 2
    assert "PROVLINEAGE_TEST_NEO4J_PW (--password-env) is not set" in capsys.readouterr().err


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_neo4j_is_a_one_line_error(
    key_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("neo4j", reason="needs the neo4j extra")
    log = tmp_path / "lineage.jsonl"
    train(SignedLog(log, key_dir / "private_key.pem"), tmp_path, 1)
    with pytest.raises(SystemExit) as done:
        main(["export", "neo4j", str(log), "--public-key", str(key_dir / "public_key.pem"),
              "--uri", f"bolt://127.0.0.1:{_closed_port()}"])  # fmt: skip
    assert done.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Neo4j is not reachable" in err and "--uri" in err


def test_the_watermark_leaves_out_runs_already_imported(key_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "lineage.jsonl"
    writer = SignedLog(log, key_dir / "private_key.pem")
    train(writer, tmp_path, 1)
    keyring = Keyring.from_files([key_dir / "public_key.pem"])
    first = lineage_from_files([log], keyring)
    marks = stream_heads(first)
    assert runs_to_write(first, marks) == ([], [])
    train(writer, tmp_path, 2)
    grown = lineage_from_files([log], keyring)
    scope, notes = runs_to_write(grown, marks)
    assert set(scope) == set(grown.runs) - set(first.runs) and not notes
    foreign = {stream: type(mark)(stream, mark.sequence, "sha256:" + "0" * 64) for stream, mark in marks.items()}
    scope, notes = runs_to_write(grown, foreign)
    assert set(scope) == set(grown.runs) and len(notes) == 1 and "imported in full" in notes[0]


def test_nested_values_are_json_strings_and_every_node_is_flagged_verified(key_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "lineage.jsonl"
    train(SignedLog(log, key_dir / "private_key.pem"), tmp_path, 1)
    lineage = lineage_from_files([log], Keyring.from_files([key_dir / "public_key.pem"]))
    rows = graph_rows(lineage, list(lineage.runs))
    assert rows.models and rows.datasets and rows.used_in
    for row in [*rows.runs, *rows.datasets, *rows.models, *rows.environments, *rows.metrics]:
        assert row["props"]["verified"] is True
        for value in row["props"].values():
            assert not isinstance(value, dict), "Neo4j properties cannot hold maps"
            assert not (isinstance(value, list) and any(not isinstance(v, str) for v in value))


def test_readme_holds_the_audit_queries() -> None:
    from fixtures.neo4j_audit import AUDIT_QUERIES

    text = README.read_text(encoding="utf-8")
    for question, query in AUDIT_QUERIES.items():
        assert query in text, f"README lacks the {question!r} query"


def test_without_java_the_neo4j_tests_skip_with_one_line_and_fail_under_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from fixtures.neo4j import Neo4jUnavailable, running_neo4j
    from fixtures.prerequisites import skip_or_fail

    monkeypatch.setenv("PATH", str(tmp_path))  # no java, javac or mvn here
    with pytest.raises(Neo4jUnavailable) as missing, running_neo4j(tmp_path):
        pass
    reason = str(missing.value)
    assert "java, javac, mvn" in reason and "\n" not in reason
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        skip_or_fail(reason)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        skip_or_fail(reason)
