"""The environment facet: what it holds, what it must never hold, and that it is cached per process."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openlineage.client.serde import Serde

from provlineage.environment import (
    ALLOWLIST_ENV_VAR,
    DEFAULT_ENV_ALLOWLIST,
    collect_environment,
    normalize_distribution_name,
    strip_url_credentials,
)
from provlineage.environment.gpus import parse_nvidia_smi as _parse_nvidia_smi
from provlineage.facets import EnvironmentRunFacet, schema_url

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SCHEMA = REPO / "facets" / "1-0-0" / "EnvironmentRunFacet.json"
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture(autouse=True)
def _no_allowlist_extension(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ALLOWLIST_ENV_VAR, raising=False)
    monkeypatch.setenv("PROVLINEAGE_CACHE_DIR", str(tmp_path / "cache"))


def test_fields_present_and_typed() -> None:
    facet = collect_environment(refresh=True)

    assert isinstance(facet, EnvironmentRunFacet)
    assert facet._schemaURL == schema_url("EnvironmentRunFacet")
    assert facet.python["version"] == ".".join(map(str, sys.version_info[:3]))
    assert facet.python["implementation"]
    assert "executable" not in facet.python
    assert facet.os["name"] and all(isinstance(v, str) for v in facet.os.values())
    assert isinstance(facet.architecture, str) and facet.architecture
    assert isinstance(facet.hostname, str) and facet.hostname
    assert facet.cpuCount == os.cpu_count()
    assert isinstance(facet.memoryBytes, int) and facet.memoryBytes > 0
    assert facet.gpus is None or all(isinstance(gpu["name"], str) for gpu in facet.gpus)
    assert isinstance(facet.distributions, dict) and facet.distributions
    assert isinstance(facet.environmentVariables, dict)


def test_distributions_are_normalised_and_digest_recomputes() -> None:
    facet = collect_environment(refresh=True)
    assert facet.distributions is not None

    assert facet.distributions["openlineage-python"] == importlib.metadata.version("openlineage-python")
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name) for name in facet.distributions)
    lines = "".join(sorted(f"{name}=={version}\n" for name, version in facet.distributions.items()))
    assert facet.distributionsDigest == "sha256:" + hashlib.sha256(lines.encode()).hexdigest()


def test_normalize_distribution_name_follows_pep_503() -> None:
    assert normalize_distribution_name("Foo__Bar.baz-Qux") == "foo-bar-baz-qux"
    assert normalize_distribution_name("zope.interface") == "zope-interface"


def test_distributions_can_be_left_out() -> None:
    facet = collect_environment(include_distributions=False, refresh=True)

    assert facet.distributions is None
    assert facet.distributionsDigest is None


def test_cache_returns_the_same_object_until_refresh() -> None:
    first = collect_environment()

    assert collect_environment() is first
    refreshed = collect_environment(refresh=True)
    assert refreshed is not first
    assert refreshed.distributionsDigest == first.distributionsDigest
    assert collect_environment() is refreshed


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_gets_the_same_environment() -> None:
    parent = collect_environment()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report what it sees, then leave without running pytest's teardown
        try:
            child = collect_environment()
            os.write(write_end, json.dumps([child is parent, child.hostname]).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        reused, hostname = json.loads(pipe.read())
    os.waitpid(pid, 0)

    assert reused is True
    assert hostname == parent.hostname


def test_allowlisted_variable_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.setenv("PROVLINEAGE_TEST_SEED", "42")
    monkeypatch.setenv("NOT_ALLOWED_VAR", "x")

    default = collect_environment(refresh=True).environmentVariables
    custom = collect_environment(env_allowlist=["PROVLINEAGE_TEST_SEED"], refresh=True).environmentVariables

    assert default is not None and default["OMP_NUM_THREADS"] == "3"
    assert "NOT_ALLOWED_VAR" not in default and "PROVLINEAGE_TEST_SEED" not in default
    assert custom == {"PROVLINEAGE_TEST_SEED": "42"}


def test_allowlist_env_var_extends_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.setenv("PROVLINEAGE_TEST_SEED", "42")
    monkeypatch.setenv(ALLOWLIST_ENV_VAR, " PROVLINEAGE_TEST_SEED , ")

    recorded = collect_environment(refresh=True).environmentVariables

    assert recorded is not None
    assert recorded["PROVLINEAGE_TEST_SEED"] == "42"
    assert recorded["OMP_NUM_THREADS"] == "3"
    assert "OMP_NUM_THREADS" in DEFAULT_ENV_ALLOWLIST


@pytest.mark.parametrize(
    "name", ["MY_API_TOKEN", "aws_secret_access_key", "DB_PASSWORD", "GOOGLE_CREDENTIALS", "HTTP_AUTH"]
)
def test_secret_looking_variable_is_never_recorded_even_if_allowlisted(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "hunter2")
    monkeypatch.setenv(ALLOWLIST_ENV_VAR, name)

    recorded = collect_environment(env_allowlist=[name, "TZ"], refresh=True).environmentVariables

    assert recorded is not None and name not in recorded
    assert "hunter2" not in Serde.to_json(collect_environment(refresh=True))


def test_credentials_in_allowlisted_url_values_are_stripped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://me:hunter2@proxy.internal:3128")

    recorded = collect_environment(env_allowlist=["HTTPS_PROXY"], refresh=True).environmentVariables

    assert recorded == {"HTTPS_PROXY": "http://proxy.internal:3128"}


def test_scheme_less_dsn_in_an_allowlisted_variable_loses_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAREHOUSE", "app:pw-Kq7secret@db:5432/prod")

    recorded = collect_environment(env_allowlist=["WAREHOUSE"], refresh=True).environmentVariables

    assert recorded == {"WAREHOUSE": "db:5432/prod"}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:token@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("https://ghp_abc123@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("https://x-access-token:t0k@git.example.com:8443/a/b", "https://git.example.com:8443/a/b"),
        ("http://u:p%40ss@[::1]:8080/repo", "http://[::1]:8080/repo"),
        ("ssh://git:secret@host.example/org/repo.git", "ssh://git@host.example/org/repo.git"),
        ("ssh://git@host.example:2222/org/repo.git", "ssh://git@host.example:2222/org/repo.git"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("https://github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("/srv/git/repo.git", "/srv/git/repo.git"),
        ("file:///srv/git/repo.git", "file:///srv/git/repo.git"),
        ("https://git.example.com/org/repo.git?access_token=glpat-Zx81", "https://git.example.com/org/repo.git"),
        ("https://host.example/r.git?ref=main#token=abc", "https://host.example/r.git"),
        ("app:pw-Kq7@db:5432/prod", "db:5432/prod"),
    ],
)
def test_strip_url_credentials(url: str, expected: str) -> None:
    assert strip_url_credentials(url) == expected


def test_nvidia_smi_output_is_parsed() -> None:
    text = "NVIDIA A100-SXM4-40GB, 40960, 535.104.05\nTesla T4, 15360, 535.104.05\n"

    assert _parse_nvidia_smi(text) == [
        {
            "vendor": "nvidia",
            "name": "NVIDIA A100-SXM4-40GB",
            "driverVersion": "535.104.05",
            "memoryBytes": 40960 << 20,
        },
        {"vendor": "nvidia", "name": "Tesla T4", "driverVersion": "535.104.05", "memoryBytes": 15360 << 20},
    ]
    assert _parse_nvidia_smi("") == []


def _git(repo: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=Test", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    return subprocess.run([*command, *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def isolated_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory git will not search above, so an enclosing repository cannot leak in."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    work = tmp_path / "work"
    work.mkdir()
    return work


@needs_git
def test_git_info_from_a_real_repository(isolated_tmp: Path) -> None:
    repo = isolated_tmp
    _git(repo, "init", "-q")
    _git(repo, "checkout", "-q", "-b", "trunk")
    (repo / "data.txt").write_text("one\n")
    _git(repo, "add", "data.txt")
    _git(repo, "commit", "-q", "-m", "first")
    _git(repo, "tag", "v1.0")
    _git(repo, "remote", "add", "origin", "https://bot:s3cr3t@git.example.com/team/proj.git")
    commit = _git(repo, "rev-parse", "HEAD")

    clean = collect_environment(cwd=str(repo), include_distributions=False, refresh=True).git
    (repo / "data.txt").write_text("two\n")
    dirty = collect_environment(cwd=str(repo), include_distributions=False, refresh=True).git

    assert clean == {
        "commit": commit,
        "branch": "trunk",
        "dirty": False,
        "remoteUrl": "https://git.example.com/team/proj.git",
        "describe": "v1.0",
    }
    assert dirty is not None and dirty["dirty"] is True and dirty["commit"] == commit


@needs_git
def test_untracked_files_do_not_make_the_tree_dirty_and_detached_head_has_no_branch(
    isolated_tmp: Path,
) -> None:
    repo = isolated_tmp
    _git(repo, "init", "-q")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "first")
    _git(repo, "checkout", "-q", "--detach")
    (repo / "scratch.txt").write_text("not tracked\n")

    info = collect_environment(cwd=str(repo), include_distributions=False, refresh=True).git

    assert info is not None
    assert info["dirty"] is False
    assert "branch" not in info and "remoteUrl" not in info and "describe" not in info


@needs_git
def test_no_git_info_outside_a_repository(isolated_tmp: Path) -> None:
    facet = collect_environment(cwd=str(isolated_tmp), include_distributions=False, refresh=True)

    assert facet.git is None
    assert "git" not in Serde.to_dict(facet)


def test_missing_directory_leaves_git_out_without_raising(tmp_path: Path) -> None:
    facet = collect_environment(cwd=str(tmp_path / "gone"), include_distributions=False, refresh=True)

    assert facet.git is None
    assert facet.hostname


def test_container_image_comes_from_the_documented_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTAINER_IMAGE", "registry.example.com/other:2")
    monkeypatch.setenv("PROVLINEAGE_CONTAINER_IMAGE", "registry.example.com/train:1.4")

    facet = collect_environment(include_distributions=False, refresh=True)

    assert facet.containerImage == "registry.example.com/train:1.4"


def test_serializes_and_validates_against_the_facet_schema(isolated_tmp: Path) -> None:
    if shutil.which("git"):  # a facet with its git part filled in, so that part is validated too
        _git(isolated_tmp, "init", "-q")
        _git(isolated_tmp, "commit", "-q", "--allow-empty", "-m", "first")
        _git(isolated_tmp, "tag", "v0")
        _git(isolated_tmp, "remote", "add", "origin", "git@git.example.com:team/proj.git")
    facet = collect_environment(cwd=str(isolated_tmp), refresh=True)
    payload = json.loads(Serde.to_json(facet))

    assert payload["distributions"] == facet.distributions
    assert payload["_schemaURL"] == schema_url("EnvironmentRunFacet")
    assert payload.get("git") == facet.git
    if not SCHEMA.exists():
        pytest.skip(f"{SCHEMA} not written yet (the lead owns facet schemas)")
    _validate(payload, json.loads(SCHEMA.read_text()))


def _validate(payload: dict[str, object], schema: dict[str, object]) -> None:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    resources = [Resource.from_contents(schema)]
    if "openlineage.io/spec" in json.dumps(schema):
        core = SHARED / "spec" / "openlineage" / "OpenLineage.json"
        if not core.exists():
            pytest.skip(f"the facet schema refers to the OpenLineage core schema and {core} is absent")
        resources.append(Resource.from_contents(json.loads(core.read_text())))
    registry = Registry().with_resources((str(r.contents["$id"]), r) for r in resources)  # type: ignore[index]
    defs = schema.get("$defs", {})
    target = (
        {"$ref": f"{schema['$id']}#/$defs/EnvironmentRunFacet"}
        if isinstance(defs, dict) and "EnvironmentRunFacet" in defs
        else schema
    )
    Draft202012Validator(target, registry=registry).validate(payload)


# --- the code that ran (#11 item 6) ------------------------------------------------------------------------------
SCRIPT = """
import json, sys
from provlineage.environment import collect_environment
facet = collect_environment(include_distributions=False)
print(json.dumps({"git": facet.git, "entryFile": facet.entryFile}))
"""


def _run_script(script: Path, cwd: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(script)], cwd=cwd, capture_output=True, text=True, check=True, env=dict(os.environ)
    )
    return json.loads(done.stdout.splitlines()[-1])


@needs_git
def test_git_comes_from_the_script_that_ran_not_the_working_directory(isolated_tmp: Path) -> None:
    repo, outside = isolated_tmp / "repo", isolated_tmp / "outside"
    (repo / "jobs").mkdir(parents=True)
    outside.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "remote", "add", "origin", "https://ci:tok3n@git.example.com/team/proj.git?access_token=glpat-Zx81")
    inside_script = repo / "jobs" / "train.py"
    inside_script.write_text(SCRIPT)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")
    outside_script = outside / "train.py"
    outside_script.write_text(SCRIPT + "# another file\n")

    from_elsewhere = _run_script(inside_script, cwd=outside)  # a script in a repository, run from outside it
    from_inside = _run_script(outside_script, cwd=repo)  # a script outside any repository, run from inside one

    assert from_elsewhere["git"] == {
        "commit": _git(repo, "rev-parse", "HEAD"),
        "branch": _git(repo, "rev-parse", "--abbrev-ref", "HEAD"),
        "dirty": False,
        "remoteUrl": "https://git.example.com/team/proj.git",
    }
    assert from_elsewhere["entryFile"] == {
        "path": "jobs/train.py",
        "digest": "sha256:" + hashlib.sha256(inside_script.read_bytes()).hexdigest(),
    }
    assert from_inside["git"] is None
    assert from_inside["entryFile"] == {
        "path": "train.py",
        "digest": "sha256:" + hashlib.sha256(outside_script.read_bytes()).hexdigest(),
    }


def test_entry_file_of_a_function_is_its_module_and_a_change_is_seen(tmp_path: Path) -> None:
    from provlineage.environment import entry_file_of

    module = tmp_path / "job_module.py"
    module.write_text("def train():\n    return 1\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import job_module  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(tmp_path))

    assert entry_file_of(job_module.train) == str(module)
    first = collect_environment(entry_file=str(module), include_distributions=False).entryFile
    module.write_text("def train():\n    return 2  # changed\n")
    second = collect_environment(entry_file=str(module), include_distributions=False).entryFile

    assert first is not None and second is not None and first["path"] == "job_module.py"
    assert second["digest"] == "sha256:" + hashlib.sha256(module.read_bytes()).hexdigest() != first["digest"]


# --- size: the list once per run (#11 item 7) --------------------------------------------------------------------
def test_without_distributions_keeps_the_digest_and_count_that_tie_it_to_the_full_list() -> None:
    from provlineage.environment import without_distributions

    full = collect_environment()
    slim = without_distributions(full)

    assert full.distributions and slim.distributions is None
    assert slim.distributionsDigest == full.distributionsDigest
    assert slim.distributionCount == full.distributionCount == len(full.distributions)
    assert without_distributions(full) is slim and without_distributions(slim) is slim
    assert len(Serde.to_json(slim)) < len(Serde.to_json(full)) - 20 * len(full.distributions)


# --- the distribution list cache (#14 item 3: a task process does not re-read 150 METADATA files) --------------
def _fake_distribution(root: Path, version: str, stamp: int) -> None:
    for old in root.glob("*.dist-info"):
        shutil.rmtree(old)
    info = root / f"provlineage_fake_dist-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: provlineage-fake-dist\nVersion: {version}\n\n")
    os.utime(root, ns=(stamp, stamp))  # older than the racy window, so the list may be cached


def test_the_cached_distribution_list_follows_installs_and_upgrades(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from provlineage.environment import packages

    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    _fake_distribution(site, "1.0", 1_000_000_000_000_000_000)
    first = packages.distributions()
    assert first == packages.read_distributions() and first["provlineage-fake-dist"] == "1.0"
    assert list((tmp_path / "cache" / "environment").glob("distributions-*.json")), "the list was not cached"
    assert packages.distributions() == first

    _fake_distribution(site, "2.0", 1_100_000_000_000_000_000)  # an upgrade
    assert packages.distributions()["provlineage-fake-dist"] == "2.0"
    shutil.rmtree(next(site.glob("*.dist-info")))  # an uninstall
    os.utime(site, ns=(1_200_000_000_000_000_000,) * 2)
    assert "provlineage-fake-dist" not in packages.distributions()


JOB_MODULE = """
import provlineage


def train(client):
    @provlineage.track("repo.train", kind="training", client=client)
    def fit():
        return 1

    return fit()
"""
DRIVER = """
import sys
from openlineage.client import OpenLineageClient
from openlineage.client.transport.file import FileConfig, FileTransport
import provlineage

sys.path.insert(0, sys.argv[1])
import train_job

client = OpenLineageClient(transport=FileTransport(FileConfig(log_file_path=sys.argv[2], append=True)))
train_job.train(client)  # the decorated function lives in the repository
with provlineage.track("driver.step", kind="data", client=client):  # the code that runs is this script
    pass
"""


@needs_git
def test_track_names_the_decorated_functions_module_and_carries_the_list_on_start_only(isolated_tmp: Path) -> None:
    repo, outside = isolated_tmp / "repo", isolated_tmp / "outside"
    (repo / "jobs").mkdir(parents=True)
    outside.mkdir()
    (repo / "jobs" / "train_job.py").write_text(JOB_MODULE)
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "job")
    (outside / "driver.py").write_text(DRIVER)
    log = outside / "events.jsonl"

    subprocess.run(
        [sys.executable, "driver.py", str(repo / "jobs"), str(log)],
        cwd=outside,
        check=True,
        capture_output=True,
        env={**os.environ, "PROVLINEAGE_STRICT": "1"},
    )
    events = [json.loads(line) for line in log.read_text().splitlines()]
    environments = {(e["job"]["name"], e["eventType"]): e["run"]["facets"]["provlineage_environment"] for e in events}

    trained = environments[("repo.train", "START")]
    assert trained["git"]["commit"] == _git(repo, "rev-parse", "HEAD")
    assert trained["entryFile"]["path"] == "jobs/train_job.py"
    driver = environments[("driver.step", "START")]
    assert "git" not in driver and driver["entryFile"]["path"] == "driver.py"
    for name in ("repo.train", "driver.step"):
        start, complete = environments[(name, "START")], environments[(name, "COMPLETE")]
        assert start["distributions"] and "distributions" not in complete
        assert complete["distributionsDigest"] == start["distributionsDigest"]
        assert complete["distributionCount"] == len(start["distributions"])


def test_collecting_the_environment_does_not_load_the_secret_scanner_for_plain_values(tmp_path: Path) -> None:
    """An Airflow worker collects the environment in every task process; detect-secrets costs tens of ms to load."""
    code = (
        "import sys; from provlineage.environment import collect_environment; collect_environment();"
        "print(sorted(name for name in sys.modules if name.startswith('detect_secrets'))[:1])"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "4", "LANG": "C.UTF-8", "PROVLINEAGE_CACHE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert done.stdout.strip() == "[]"
