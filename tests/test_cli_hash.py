"""``provlineage hash`` on the command line: output, options, exit codes, a cache shared by processes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from provlineage.cli import main
from provlineage.hashing import ROOT_DIGEST_METHOD, HashOptions, hash_path
from provlineage.hashing.cache import RACY_WINDOW_NS

CLI = [sys.executable, "-c", "from provlineage.cli import main; main()"]
NO_CACHE = HashOptions(use_cache=False)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def make_tree(root: Path, count: int = 5) -> Path:
    for index in range(count):
        (root / f"part-{index:03d}.csv").parent.mkdir(parents=True, exist_ok=True)
        (root / f"part-{index:03d}.csv").write_bytes(f"row,{index}\n".encode() * (index + 1))
    return root


def test_text_output_names_digest_size_and_file_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = make_tree(tmp_path / "tree")
    single = tree / "part-000.csv"
    main(["hash", "--no-cache", str(single), str(tree)])
    lines = capsys.readouterr().out.splitlines()
    expected = [hash_path(single, NO_CACHE), hash_path(tree, NO_CACHE)]
    assert lines == [
        f"sha256:{d.digest}  {d.size}  {d.file_count}  {p}" for d, p in zip(expected, [single, tree], strict=True)
    ]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}  \d+  5  .+", lines[1])


def test_json_output_is_a_list_of_facets_with_a_capped_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = make_tree(tmp_path / "tree")
    main(["hash", "--no-cache", "--json", "--manifest-limit", "2", str(tree), str(tree / "part-001.csv")])
    directory, single = json.loads(capsys.readouterr().out)
    assert directory["digest"] == hash_path(tree, NO_CACHE).digest
    assert [entry["path"] for entry in directory["manifest"]] == ["part-000.csv", "part-001.csv"]
    assert (directory["manifestOmitted"], directory["fileCount"], directory["kind"]) == (3, 5, "directory")
    assert directory["rootDigestMethod"] == ROOT_DIGEST_METHOD
    assert directory["_schemaURL"].endswith("/DatasetHashDatasetFacet.json")
    assert single["kind"] == "file" and "manifest" not in single and single["uri"].startswith("file://")


def test_ignore_option_matches_the_library(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = make_tree(tmp_path / "tree")
    (tree / "scratch.tmp").write_bytes(b"noise")
    (tree / "_logs").mkdir()
    (tree / "_logs" / "run.log").write_bytes(b"noise")
    main(["hash", "--no-cache", "--ignore", "*.tmp", "--ignore", "_logs/", str(tree)])
    expected = hash_path(tree, HashOptions(use_cache=False, ignore=("*.tmp", "_logs/")))
    assert expected.file_count == 5
    assert capsys.readouterr().out.split()[0] == expected.prefixed


def test_memory_uri(capsys: pytest.CaptureFixture[str]) -> None:
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    prefix = f"/cli-{uuid.uuid4().hex}"
    fs.pipe(f"{prefix}/a.csv", b"a")
    try:
        main(["hash", f"memory://{prefix}/a.csv"])
    finally:
        fs.rm(prefix, recursive=True)
    assert capsys.readouterr().out.startswith(
        "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb  1  1  memory://"
    )


def test_missing_path_exits_2_with_one_line_before_hashing_anything(tmp_path: Path) -> None:
    present = make_tree(tmp_path / "tree")
    result = run("hash", str(present), str(tmp_path / "absent"))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"provlineage: error: cannot hash {tmp_path / 'absent'}: no such file or directory. "
        "check the path, or create the dataset before hashing it"
    ]
    unknown = run("hash", "nosuchscheme://bucket/key")
    assert unknown.returncode == 2 and len(unknown.stderr.splitlines()) == 1


@pytest.fixture(scope="module")
def aged_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Files older than the cache's racy window, so processes may cache their digests."""
    tree = make_tree(tmp_path_factory.mktemp("aged"), count=40)
    newest = max(path.stat().st_ctime_ns for path in tree.iterdir())
    time.sleep(max(0.0, (RACY_WINDOW_NS - (time.time_ns() - newest)) / 1e9 + 0.05))
    return tree


def test_processes_share_the_cache_safely_and_no_cache_bypasses_it(aged_tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {**os.environ, "PROVLINEAGE_CACHE_DIR": str(cache)}
    processes = [
        subprocess.Popen([*CLI, "hash", str(aged_tree)], stdout=subprocess.PIPE, text=True, env=env) for _ in range(3)
    ]
    outputs = {process.communicate(timeout=120)[0] for process in processes}
    assert all(process.returncode == 0 for process in processes)
    truth = hash_path(aged_tree, NO_CACHE)
    assert outputs == {f"{truth.prefixed}  {truth.size}  40  {aged_tree}\n"}
    entries = list(cache.glob("*/*.json"))
    assert len(entries) == 40
    assert all(json.loads(entry.read_text())["digest"] for entry in entries)
    assert list(cache.glob("*/.*.tmp")) == []

    assert run("hash", str(aged_tree), env={"PROVLINEAGE_CACHE_DIR": str(cache)}).stdout in outputs
    fresh = tmp_path / "fresh-cache"
    assert run("hash", "--no-cache", str(aged_tree), env={"PROVLINEAGE_CACHE_DIR": str(fresh)}).returncode == 0
    assert not fresh.exists()
