"""Issue 15, item 8: the CLI's messages for a first-time user's mistakes, checked verbatim (they are the contract).

Every mistake gets one line on stderr naming the thing and the fix, and unusable input exits 2 (README: "2: usage
error or bad input").  The logs are real signed events; the "wrong URL" server is a real HTTP server that is not
Marquez (a web server answering 404 with an HTML page, as a UI or a proxy does).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import click
import pytest
from openlineage.client.client import OpenLineageClient

import provlineage
from provlineage.cli import COMMANDS, main
from provlineage.cli import cli as cli_group
from provlineage.hashing import HashOptions
from provlineage.keys import write_key_pair
from provlineage.transport import SigningConfig, SigningTransport

PUBLIC_KEY = "keys/public_key.pem"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A signed two-run log (``events.jsonl``) and its key, in a directory the tests run in (relative paths)."""
    root = tmp_path_factory.mktemp("messages")
    keys = write_key_pair(root / "keys", "ed25519")
    config = {
        "private_key": str(keys.private_key),
        "state_dir": str(root / "state"),
        "strict": True,
        "transport": {"type": "provlineage.transport.FileLogTransport", "path": str(root / "events.jsonl")},
    }
    (root / "train.csv").write_text("tenure,churn\n1,0\n24,1\n")
    for job in ("churn.prepare", "churn.train"):
        client = OpenLineageClient(transport=SigningTransport(SigningConfig.from_dict(config)))
        with provlineage.track(
            job, kind="training", namespace="msg", client=client, hash_options=HashOptions(use_cache=False)
        ) as run:
            run.log_dataset(root / "train.csv")
    return root


@pytest.fixture
def here(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(workdir)
    return workdir


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def run_ids(log: Path) -> list[str]:
    """Run ids, newest run first (as the not-found message lists them)."""
    ids: list[str] = []
    for line in log.read_text().splitlines():
        run_id = json.loads(line)["run"]["runId"]
        if run_id not in ids:
            ids.insert(0, run_id)
    return ids


# --- a file that is not JSON Lines -----------------------------------------------------------------------------
def test_a_non_json_file_exits_2_with_one_line(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = cli(capsys, "verify", "train.csv", "--public-key", PUBLIC_KEY)
    assert (status, out) == (2, "")
    assert err == (
        "provlineage: error: train.csv is not a JSON Lines event log: none of its 3 lines is JSON. give the log that "
        "provlineage.transport.FileLogTransport writes, one OpenLineage event per line\n"
    )


def test_a_pretty_printed_event_is_named_as_such(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    event = json.loads((here / "events.jsonl").read_text().splitlines()[0])
    text = json.dumps(event, indent=2)
    (here / "event.json").write_text(text + "\n")
    lines = len([line for line in text.splitlines() if line.strip()])
    assert lines > 50  # many lines, each of which used to be its own MALFORMED record
    expected = (
        f"provlineage: error: event.json holds one JSON document over {lines} lines (pretty-printed), not JSON Lines. "
        "put each event on one line, e.g. `jq -c . event.json > events.jsonl`\n"
    )
    for command in (["verify"], ["lineage", "--report"]):
        status, out, err = cli(capsys, *command, "event.json", "--public-key", PUBLIC_KEY)
        assert (status, out, err) == (2, "", expected)


def test_a_json_array_and_a_lone_brace(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = [json.loads(line) for line in (here / "events.jsonl").read_text().splitlines()]
    (here / "events.json").write_text(json.dumps(events, indent=1))
    status, _, err = cli(capsys, "verify", "events.json", "--public-key", PUBLIC_KEY)
    assert status == 2
    assert err == (
        "provlineage: error: events.json holds one JSON array, not JSON Lines. "
        "put each event on one line, e.g. `jq -c '.[]' events.json > events.jsonl`\n"
    )
    (here / "cut.json").write_text(json.dumps(events[0], indent=2)[:400])  # pretty-printed, and cut short
    status, _, err = cli(capsys, "verify", "cut.json", "--public-key", PUBLIC_KEY)
    assert status == 2
    assert err == (
        "provlineage: error: cut.json is not JSON Lines: its first line is a lone `{`, as in pretty-printed JSON. "
        "put each event on one line, e.g. with `jq -c`\n"
    )


def test_a_damaged_log_is_still_reported_record_by_record(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The one-line verdict is for files with no JSON at all; a log with a bad line keeps its per-record report."""
    good = (here / "events.jsonl").read_text()
    (here / "damaged.jsonl").write_text(good + "not json\n")
    status, out, _ = cli(capsys, "verify", "damaged.jsonl", "--public-key", PUBLIC_KEY)
    assert status == 1 and "MALFORMED   damaged.jsonl:5  not JSON" in out
    (here / "torn.jsonl").write_text(good.splitlines()[0][:300])  # a writer killed in its first event
    status, out, _ = cli(capsys, "verify", "torn.jsonl", "--public-key", PUBLIC_KEY)
    assert status == 1 and "TORN        torn.jsonl:1" in out


# --- --marquez pointed at something that is not the Marquez API ---------------------------------------------
class _NotMarquez(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>"
        if self.path.startswith("/json/"):
            body = json.dumps({"code": 404, "message": "HTTP 404 Not Found"}).encode()
        self.send_response(200 if self.path.startswith("/ui/") else 404)  # a single-page UI answers 200 to any path
        self.send_header("Content-Type", "application/json" if body.startswith(b"{") else "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def not_marquez() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotMarquez)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_html_404_is_one_line_without_the_page(
    here: Path, not_marquez: str, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = (
        f"provlineage: error: Marquez at {not_marquez}/ answered HTTP 404 to GET /api/v1/events/lineage (an HTML "
        "page, not the Marquez API). check that --marquez is the base URL of the Marquez API, e.g. "
        "http://localhost:5000 (not the web UI, no path)\n"
    )
    for command in (["verify"], ["lineage", "--report"]):
        status, out, err = cli(capsys, *command, "--marquez", not_marquez, "--public-key", PUBLIC_KEY)
        assert (status, out, err) == (2, "", expected)


def test_an_html_page_with_200_is_one_line_too(
    here: Path, not_marquez: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = cli(capsys, "verify", "--marquez", f"{not_marquez}/ui", "--public-key", PUBLIC_KEY)
    assert (status, out) == (2, "")
    assert err == (
        f"provlineage: error: Marquez at {not_marquez}/ui/ answered GET /api/v1/events/lineage with an HTML page. "
        "check that --marquez is the base URL of the Marquez API, e.g. http://localhost:5000 (not the web UI, no path)\n"
    )


def test_a_json_error_keeps_its_message(here: Path, not_marquez: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = cli(capsys, "verify", "--marquez", f"{not_marquez}/json", "--public-key", PUBLIC_KEY)
    assert status == 2
    assert err == (
        f"provlineage: error: Marquez at {not_marquez}/json/ answered HTTP 404 to GET /api/v1/events/lineage: HTTP 404 "
        "Not Found. check that --marquez is the base URL of the Marquez API, e.g. http://localhost:5000 (not the web "
        "UI, no path)\n"
    )


# --- -v after the subcommand ------------------------------------------------------------------------------------
def _provlineage(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process, so logging is configured as for a user (not by pytest's capture)."""
    env = {**os.environ, "PROVLINEAGE_CACHE_DIR": str(cwd / "cache")}
    return subprocess.run(
        [sys.executable, "-c", "from provlineage.cli import main; main()", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_verbose_works_before_and_after_the_subcommand(tmp_path: Path) -> None:
    (tmp_path / "fresh.csv").write_text("a\n1\n")  # just written: too young to cache, which -v explains
    debug = "DEBUG provlineage.hashing.cache: not caching"
    quiet = _provlineage(tmp_path, "hash", "fresh.csv")
    before = _provlineage(tmp_path, "-v", "hash", "fresh.csv")
    after = _provlineage(tmp_path, "hash", "-v", "fresh.csv")
    assert quiet.returncode == before.returncode == after.returncode == 0, (before.stderr, after.stderr)
    assert debug not in quiet.stderr
    assert debug in before.stderr and debug in after.stderr
    assert quiet.stdout == before.stdout == after.stdout


def _command_paths() -> list[str]:
    """Every subcommand, nested ones too (``export neo4j``, ``gateway quarantine list``)."""
    root = click.Context(cli_group)
    found: list[str] = []

    def walk(command: click.Command, path: list[str]) -> None:
        found.append(" ".join(path))
        if isinstance(command, click.Group):
            for name in command.list_commands(root):
                sub = command.get_command(root, name)
                if sub is not None:
                    walk(sub, [*path, name])

    for name in sorted(COMMANDS):
        walk(cli_group.get_command(root, name), [name])
    return found


@pytest.mark.parametrize("command", _command_paths())
def test_every_subcommand_accepts_verbose(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    main([*command.split(), "-v", "--help"])  # click returns after --help (no SystemExit without standalone mode)
    out = capsys.readouterr().out
    assert out.startswith(f"Usage: provlineage {command} ") and "-v, --verbose" in out


# --- --run that is not in the record ------------------------------------------------------------------------
def test_run_not_found_lists_runs_and_says_how_to_find_one(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    newest, older = run_ids(here / "events.jsonl")
    status, out, err = cli(capsys, "lineage", "events.jsonl", "--public-key", PUBLIC_KEY, "--run", "0123456789")
    assert (status, out) == (2, "")
    assert err == (
        "provlineage: error: no run '0123456789' in the 4 verified events of events.jsonl (known: "
        f"{newest} (msg/churn.train), {older} (msg/churn.prepare)). give a run id from that list, or a unique prefix "
        "of 8+ characters; `--model NAME` and `--dataset NAME` show the runs of a model or dataset\n"
    )
    assert "to list models" not in err


def test_an_ambiguous_run_prefix_says_so(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    newest, older = run_ids(here / "events.jsonl")
    common = newest[: next((i for i, (a, b) in enumerate(zip(newest, older, strict=False)) if a != b), len(newest))]
    if len(common) < 8:
        pytest.skip("the two runs' ids share fewer than 8 characters (started far apart)")
    status, _, err = cli(capsys, "lineage", "events.jsonl", "--public-key", PUBLIC_KEY, "--run", common[:8])
    assert status == 2
    assert err == (
        f"provlineage: error: run prefix '{common[:8]}' matches 2 runs in events.jsonl ({older}, {newest}). "
        "give more characters of the run id\n"
    )
