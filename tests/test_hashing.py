"""Dataset hashing on real files: digests, the root-digest rule, ignore/symlinks, cache, diffs, fsspec."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from openlineage.client.serde import Serde

from provlineage.errors import ConfigError, HashingError
from provlineage.hashing import (
    ROOT_DIGEST_METHOD,
    SYMLINK_DIGEST_PREFIX,
    DatasetDigest,
    HashOptions,
    diff_against_facet,
    hash_path,
    hash_uri,
)
from provlineage.hashing.cache import RACY_WINDOW_NS

REPO = Path(__file__).resolve().parents[1]
NO_CACHE = HashOptions(use_cache=False)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


def expected_root(files: dict[str, str]) -> str:
    """The documented sha256-manifest-v1 rule, written out independently: rel path -> hex digest."""
    ordered = sorted(files, key=lambda path: path.encode("utf-8"))
    return sha256_hex("".join(f"{files[path]}  {path}\n" for path in ordered).encode("utf-8"))


def facet_dict(digest: DatasetDigest, manifest_limit: int = 1000) -> dict[str, Any]:
    return json.loads(json.dumps(Serde.to_dict(digest.to_facet(manifest_limit))))


# Files deliberately named so that naive orders (os.walk, per-directory sort, str.lower) differ from bytewise.
TREE = {
    "a.b": b"dot",
    "a/b": b"slash",
    "a-b": b"dash",
    "B.csv": b"upper",
    "a/z/deep.bin": bytes(range(256)) * 40,
    "é.txt": b"accent",
    "zz/empty": b"",
}


# ---- files and directories --------------------------------------------------------------------------


def test_file_digest_equals_hashlib_on_chunk_boundaries(tmp_path: Path) -> None:
    data = os.urandom((3 << 20) + 17)  # 3 MiB + 17: several 1 MiB chunks and a partial one
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    for options in (NO_CACHE, HashOptions(use_cache=False, progress=True)):  # file_digest and readinto loop
        digest = hash_path(path, options)
        assert digest.digest == sha256_hex(data)
        assert (digest.kind, digest.size, digest.file_count, digest.manifest) == ("file", len(data), 1, ())
        assert digest.uri == path.as_uri()
        assert digest.prefixed == f"sha256:{sha256_hex(data)}"


def test_progress_bar_goes_to_stderr_only_when_asked_or_on_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"x" * (2 << 20))
    hash_path(path, HashOptions(use_cache=False, progress=True))
    assert "blob.bin" in capsys.readouterr().err  # tqdm's bar, labelled with the path
    hash_path(path, NO_CACHE)  # auto: stderr is captured here, not a terminal
    assert capsys.readouterr().err == ""


def test_empty_file_and_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "dir").mkdir()
    assert hash_path(tmp_path / "empty", NO_CACHE).digest == sha256_hex(b"")
    empty_dir = hash_path(tmp_path / "dir", NO_CACHE)
    assert (empty_dir.digest, empty_dir.file_count, empty_dir.size) == (sha256_hex(b""), 0, 0)


def test_directory_root_digest_follows_the_documented_rule(tmp_path: Path) -> None:
    write_tree(tmp_path, TREE)
    digest = hash_path(tmp_path, NO_CACHE)
    assert [entry.path for entry in digest.manifest] == [
        "B.csv",
        "a-b",
        "a.b",
        "a/b",
        "a/z/deep.bin",
        "zz/empty",
        "é.txt",
    ]
    assert {e.path: (e.digest, e.size) for e in digest.manifest} == {
        rel: (sha256_hex(data), len(data)) for rel, data in TREE.items()
    }
    assert digest.digest == expected_root({rel: sha256_hex(data) for rel, data in TREE.items()})
    assert (digest.kind, digest.root_digest_method, digest.file_count) == (
        "directory",
        ROOT_DIGEST_METHOD,
        len(TREE),
    )
    assert digest.size == sum(len(data) for data in TREE.values())


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="GNU sha256sum not installed")
def test_root_digest_equals_the_sha256sum_pipeline(tmp_path: Path) -> None:
    files = {**TREE, "back\\slash": b"escaped", "new\nline": b"escaped too", "car\rriage": b"also escaped"}
    write_tree(tmp_path, files)
    pipeline = "find . -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum"
    result = subprocess.run(["sh", "-c", pipeline], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert hash_path(tmp_path, NO_CACHE).digest == result.stdout.split()[0]


def test_deterministic_across_runs_copies_and_worker_counts(tmp_path: Path) -> None:
    first = write_tree(tmp_path / "one", TREE)
    second = write_tree(tmp_path / "two", dict(reversed(TREE.items())))  # created in another order
    digests = {
        hash_path(first, NO_CACHE).digest,
        hash_path(first, NO_CACHE).digest,
        hash_path(second, HashOptions(use_cache=False, workers=1)).digest,
        hash_path(second, HashOptions(use_cache=False, workers=7)).digest,
    }
    assert len(digests) == 1


def test_rename_changes_the_root_digest(tmp_path: Path) -> None:
    write_tree(tmp_path, {"x.csv": b"1,2\n", "y.csv": b"3,4\n"})
    before = hash_path(tmp_path, NO_CACHE).digest
    (tmp_path / "y.csv").rename(tmp_path / "z.csv")
    assert hash_path(tmp_path, NO_CACHE).digest != before


def test_streaming_uses_constant_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    with path.open("wb") as handle:
        for _ in range(48):
            handle.write(os.urandom(1 << 20))
    for options in (NO_CACHE, HashOptions(use_cache=False, progress=False, workers=1)):
        tracemalloc.start()
        hash_path(path, options)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 4 << 20, f"hashing a 48 MiB file peaked at {peak} bytes of Python memory"


# ---- diffs and facets -------------------------------------------------------------------------------


def test_diff_detects_added_missing_and_changed_files(tmp_path: Path) -> None:
    write_tree(tmp_path, {"keep.csv": b"k", "edit.csv": b"old", "drop.csv": b"d"})
    recorded = facet_dict(hash_path(tmp_path, NO_CACHE))
    assert diff_against_facet(recorded, hash_path(tmp_path, NO_CACHE)).unchanged

    (tmp_path / "new.csv").write_bytes(b"n")
    added = diff_against_facet(recorded, hash_path(tmp_path, NO_CACHE))
    assert (added.added, added.missing, added.changed, added.digest_matches) == (["new.csv"], [], [], False)

    (tmp_path / "new.csv").unlink()
    (tmp_path / "drop.csv").unlink()
    missing = diff_against_facet(recorded, hash_path(tmp_path, NO_CACHE))
    assert (missing.added, missing.missing, missing.changed) == ([], ["drop.csv"], [])

    (tmp_path / "drop.csv").write_bytes(b"d")
    (tmp_path / "edit.csv").write_bytes(b"new")
    changed = diff_against_facet(recorded, hash_path(tmp_path, NO_CACHE))
    assert (changed.added, changed.missing, changed.changed) == ([], [], ["edit.csv"])
    assert changed.manifest_complete and not changed.digest_matches


def test_diff_of_a_single_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "model weights.bin"
    path.write_bytes(b"weights")
    recorded = facet_dict(hash_path(path, NO_CACHE))
    path.write_bytes(b"tampered")
    diff = diff_against_facet(recorded, hash_path(path, NO_CACHE))
    assert (diff.changed, diff.digest_matches, diff.manifest_complete) == (["model weights.bin"], False, True)


def test_manifest_cap_sets_manifest_omitted_and_diff_compares_the_kept_prefix(tmp_path: Path) -> None:
    write_tree(tmp_path, {f"part-{i:02d}": str(i).encode() for i in range(10)})
    digest = hash_path(tmp_path, NO_CACHE)
    assert len(digest.manifest) == 10  # the digest itself keeps everything
    facet = digest.to_facet(manifest_limit=4)
    assert [entry.path for entry in facet.manifest] == ["part-00", "part-01", "part-02", "part-03"]
    assert (facet.manifestOmitted, facet.fileCount, facet.rootDigestMethod) == (6, 10, ROOT_DIGEST_METHOD)
    assert digest.to_facet().manifestOmitted == 0
    assert len(hash_path(tmp_path, HashOptions(use_cache=False, manifest_limit=3)).to_facet().manifest) == 3
    assert hash_path(tmp_path / "part-00", NO_CACHE).to_facet().manifest is None

    recorded = facet_dict(digest, manifest_limit=4)
    (tmp_path / "part-01").write_bytes(b"changed")
    (tmp_path / "part-08").write_bytes(b"changed past the cap")
    diff = diff_against_facet(recorded, hash_path(tmp_path, NO_CACHE))
    assert (diff.changed, diff.added, diff.missing) == (["part-01"], [], [])
    assert not diff.manifest_complete and not diff.digest_matches


def test_facet_validates_against_the_shipped_schema(tmp_path: Path) -> None:
    schema_path = REPO / "facets" / "1-0-0" / "DatasetHashDatasetFacet.json"
    if not schema_path.exists():
        pytest.skip(f"{schema_path} not found")
    from jsonschema import Draft202012Validator

    schema = json.loads(schema_path.read_text())
    item_schema = schema["allOf"][1]  # the provlineage part; the OpenLineage base is checked by event tests
    write_tree(tmp_path, TREE)
    for digest in (hash_path(tmp_path, NO_CACHE), hash_path(tmp_path / "B.csv", NO_CACHE)):
        Draft202012Validator(item_schema).validate(facet_dict(digest, manifest_limit=3))


# ---- ignore and symlink rules -----------------------------------------------------------------------


def test_ignore_patterns(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "data.csv": b"d",
            "scratch.tmp": b"t",
            "deep/more/x.tmp": b"t",
            "cache/blob": b"c",
            "sub/cache": b"a file named cache stays",
            "logs/a.txt": b"l",
            "logs/old/b.txt": b"l",
            "logs/keep.json": b"k",
        },
    )
    options = HashOptions(use_cache=False, ignore=("*.tmp", "cache/", "logs/*.txt"))
    assert [entry.path for entry in hash_path(tmp_path, options).manifest] == [
        "data.csv",
        "logs/keep.json",
        "sub/cache",
    ]
    with pytest.raises(HashingError, match="negation is not supported"):
        hash_path(tmp_path, HashOptions(use_cache=False, ignore=("!data.csv",)))
    with pytest.raises(ConfigError, match="not the string"):
        HashOptions(ignore="*.tmp")  # type: ignore[arg-type]


def test_symlinks_are_recorded_by_their_text_and_never_followed_by_default(tmp_path: Path) -> None:
    outside = write_tree(tmp_path / "outside", {"secret.csv": b"outside data"})
    tree = write_tree(tmp_path / "tree", {"real.csv": b"inside"})
    (tree / "inner").symlink_to("real.csv")
    (tree / "escape").symlink_to(outside)
    (tree / "dangling").symlink_to("nowhere")

    digest = hash_path(tree, NO_CACHE)
    entries = {entry.path: entry for entry in digest.manifest}
    assert sorted(entries) == ["dangling", "escape", "inner", "real.csv"]
    assert entries["inner"].digest == SYMLINK_DIGEST_PREFIX + sha256_hex(b"real.csv")
    assert entries["inner"].size == len("real.csv")
    assert entries["escape"].digest == SYMLINK_DIGEST_PREFIX + sha256_hex(os.fsencode(outside))

    (outside / "secret.csv").write_bytes(b"changed outside: not our dataset")
    assert hash_path(tree, NO_CACHE).digest == digest.digest
    (tree / "inner").unlink()
    (tree / "inner").symlink_to("escape")
    assert hash_path(tree, NO_CACHE).digest != digest.digest  # retargeting a link is a change


def test_follow_symlinks_hashes_targets_and_breaks_cycles(tmp_path: Path) -> None:
    outside = write_tree(tmp_path / "outside", {"secret.csv": b"outside data"})
    tree = write_tree(tmp_path / "tree", {"real.csv": b"inside"})
    (tree / "inner").symlink_to("real.csv")
    (tree / "escape").symlink_to(outside)
    (tree / "loop").symlink_to(".")
    (tree / "dangling").symlink_to("nowhere")

    entries = {e.path: e for e in hash_path(tree, HashOptions(use_cache=False, follow_symlinks=True)).manifest}
    assert entries["inner"].digest == sha256_hex(b"inside")
    assert entries["escape/secret.csv"].digest == sha256_hex(b"outside data")
    assert entries["loop"].digest == SYMLINK_DIGEST_PREFIX + sha256_hex(b".")
    assert entries["dangling"].digest == SYMLINK_DIGEST_PREFIX + sha256_hex(b"nowhere")
    assert sorted(entries) == ["dangling", "escape/secret.csv", "inner", "loop", "real.csv"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this OS")
def test_special_files_are_skipped_and_never_opened(tmp_path: Path) -> None:
    write_tree(tmp_path, {"data.csv": b"d"})
    os.mkfifo(tmp_path / "pipe")  # opening it for reading would block forever
    assert [entry.path for entry in hash_path(tmp_path, NO_CACHE).manifest] == ["data.csv"]
    with pytest.raises(HashingError, match="special file"):
        hash_path(tmp_path / "pipe", NO_CACHE)


# ---- errors -----------------------------------------------------------------------------------------


def test_missing_path_is_a_one_line_hashing_error(tmp_path: Path) -> None:
    with pytest.raises(HashingError) as caught:
        hash_path(tmp_path / "absent.csv")
    message = str(caught.value)
    assert "absent.csv" in message and "no such file or directory" in message and "\n" not in message


def test_unreadable_file_names_the_path_and_the_fix(tmp_path: Path) -> None:
    tree = write_tree(tmp_path / "tree", {"ok.csv": b"ok", "locked.csv": b"no"})
    (tree / "locked.csv").chmod(0)
    script = (
        "import sys\nfrom provlineage.hashing import hash_path, HashOptions\n"
        "try:\n    hash_path(sys.argv[1], HashOptions(use_cache=False))\n"
        "except Exception as error:\n    print(type(error).__name__, error)\n"
    )
    command = [sys.executable, "-c", script, str(tree)]
    if os.geteuid() == 0:  # root reads anything unless it gives up its file-permission override
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv to drop CAP_DAC_OVERRIDE")
        command = ["setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search", *command]
    output = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    assert output.splitlines() == [output]
    assert output.startswith(f"HashingError cannot hash {tree / 'locked.csv'}: permission denied.")
    assert "chmod" in output


# ---- cache ------------------------------------------------------------------------------------------


@contextmanager
def count_opens(path: Path) -> Iterator[list[str]]:
    """Every open of ``path`` in this process, seen through Python's audit hooks (no open avoids them)."""
    opened: list[str] = []
    _WATCHES.append((os.fspath(path), opened))
    try:
        yield opened
    finally:
        _WATCHES.pop()


_WATCHES: list[tuple[str, list[str]]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _WATCHES and isinstance(args[0], (str, bytes)):
        opened = os.fsdecode(args[0])
        for watched, log in _WATCHES:
            if opened == watched:
                log.append(opened)


sys.addaudithook(_audit)


@pytest.fixture(scope="module")
def aged_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Files whose ctime is older than the cache's racy window, so their digests may be cached.

    One file per test (tests rewrite them), aged together so the module waits out the window once.
    """
    directory = tmp_path_factory.mktemp("aged")
    for name in ("rehash", "corrupt", "environment", "unwritable"):
        (directory / f"{name}.bin").write_bytes(name.encode() * 10_000)
    newest = max(path.stat().st_ctime_ns for path in directory.iterdir())
    time.sleep(max(0.0, (RACY_WINDOW_NS - (time.time_ns() - newest)) / 1e9 + 0.05))
    return directory


def test_cache_hit_does_not_read_the_file_and_a_changed_file_is_rehashed(aged_dir: Path, tmp_path: Path) -> None:
    aged_file = aged_dir / "rehash.bin"
    cached = HashOptions(cache_dir=tmp_path / "cache")
    with count_opens(aged_file) as opened:
        first = hash_path(aged_file, cached)
    assert len(opened) == 1 and first.digest == sha256_hex(aged_file.read_bytes())
    assert len(list((tmp_path / "cache").glob("*/*.json"))) == 1

    with count_opens(aged_file) as opened:
        again = hash_path(aged_file, cached)
    assert opened == [] and again == first

    # Same size, same mtime_ns, different bytes: the kernel still moves ctime, so the cache misses.
    before = aged_file.stat()
    replacement = b"B" * before.st_size
    aged_file.write_bytes(replacement)
    os.utime(aged_file, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = aged_file.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    with count_opens(aged_file) as opened:
        changed = hash_path(aged_file, cached)
    assert len(opened) == 1 and changed.digest == sha256_hex(replacement) != first.digest
    # Just rewritten, so inside the racy window: hashed, but not cached.
    assert len(list((tmp_path / "cache").glob("*/*.json"))) == 1

    with count_opens(aged_file) as opened:
        hash_path(aged_file, NO_CACHE)
        hash_path(aged_file, NO_CACHE)
    assert len(opened) == 2


def test_corrupt_cache_entry_is_a_miss(aged_dir: Path, tmp_path: Path) -> None:
    aged_file = aged_dir / "corrupt.bin"
    cached = HashOptions(cache_dir=tmp_path / "cache")
    truth = hash_path(aged_file, cached)
    (entry,) = (tmp_path / "cache").glob("*/*.json")
    for garbage in ('{"truncated', json.dumps({"path": str(aged_file), "size": 1, "digest": "0" * 64})):
        entry.write_text(garbage)
        with count_opens(aged_file) as opened:
            assert hash_path(aged_file, cached) == truth
        assert len(opened) == 1


def test_cache_dir_comes_from_the_environment(aged_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    aged_file = aged_dir / "environment.bin"
    monkeypatch.setenv("PROVLINEAGE_CACHE_DIR", str(tmp_path / "env-cache"))
    assert HashOptions().resolved_cache_dir() == tmp_path / "env-cache"
    hash_path(aged_file)
    assert len(list((tmp_path / "env-cache").glob("*/*.json"))) == 1
    assert (tmp_path / "env-cache").stat().st_mode & 0o077 == 0  # private: entries are trusted


def test_unwritable_cache_does_not_stop_hashing(
    aged_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    aged_file = aged_dir / "unwritable.bin"
    blocker = tmp_path / "not-a-dir"
    blocker.write_bytes(b"")
    digest = hash_path(aged_file, HashOptions(cache_dir=blocker / "cache"))
    assert digest.digest == sha256_hex(aged_file.read_bytes())
    assert "hash cache disabled for this run" in caplog.text and "PROVLINEAGE_CACHE_DIR" in caplog.text


# ---- URIs -------------------------------------------------------------------------------------------


@pytest.fixture
def memory_prefix() -> Iterator[str]:
    fsspec = pytest.importorskip("fsspec")
    prefix = f"/provlineage-test-{uuid.uuid4().hex}"
    yield prefix
    fs = fsspec.filesystem("memory")
    if fs.exists(prefix):
        fs.rm(prefix, recursive=True)


def test_memory_uri_hashes_like_the_same_local_tree(memory_prefix: str, tmp_path: Path) -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    for rel, data in TREE.items():
        fs.pipe(f"{memory_prefix}/{rel}", data)
    remote = hash_uri(f"memory://{memory_prefix}", NO_CACHE)
    local = hash_path(write_tree(tmp_path, TREE), NO_CACHE)
    assert (remote.digest, remote.manifest, remote.size) == (local.digest, local.manifest, local.size)
    assert (remote.kind, remote.root_digest_method) == ("remote", ROOT_DIGEST_METHOD)
    assert remote.uri == f"memory://{memory_prefix}"

    single = hash_uri(f"memory://{memory_prefix}/B.csv", NO_CACHE)
    assert (single.digest, single.kind, single.file_count) == (sha256_hex(b"upper"), "remote", 1)
    ignored = hash_uri(f"memory://{memory_prefix}", HashOptions(ignore=("a/",)))
    assert [e.path for e in ignored.manifest] == ["B.csv", "a-b", "a.b", "zz/empty", "é.txt"]
    with pytest.raises(HashingError, match="no such object"):
        hash_uri(f"memory://{memory_prefix}/absent")


def test_file_uris_and_unknown_schemes(tmp_path: Path) -> None:
    write_tree(tmp_path, TREE)
    assert hash_uri(tmp_path.as_uri(), NO_CACHE) == hash_path(tmp_path, NO_CACHE)
    assert hash_uri(str(tmp_path), NO_CACHE) == hash_path(tmp_path, NO_CACHE)
    with pytest.raises(HashingError, match="Protocol not known"):
        hash_uri("nosuchscheme://bucket/key")


def test_undecodable_file_names_still_make_a_signable_facet(tmp_path: Path) -> None:
    import os

    from openlineage.client.serde import Serde

    from provlineage._internal.canonical import canonical_bytes, prepare

    directory = tmp_path / "odd"
    directory.mkdir()
    (directory / os.fsdecode(b"caf\xe9.csv")).write_bytes(b"latin-1 name")
    facet = Serde.to_dict(hash_path(directory, HashOptions(use_cache=False)).to_facet())
    assert facet["manifest"][0]["path"] == "caf\\xe9.csv"
    assert canonical_bytes(prepare(facet))
    recorded = facet
    assert diff_against_facet(recorded, hash_path(directory, HashOptions(use_cache=False))).unchanged
