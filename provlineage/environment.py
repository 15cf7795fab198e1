"""Describe the process's runtime environment once, as an :class:`EnvironmentRunFacet`.

A run is only reproducible if we know where it ran, so every run event can carry this facet; it is
computed once per process and cached, because the answer does not change while the process lives
(a forked child reuses its parent's answer, which is still true for it).  Collection never raises:
each part that fails is logged at debug level and left out, since lineage must not break the job.

What is read, and from where:

* ``python``: ``version`` and ``implementation``.  The interpreter path is left out: it leaks home
  directories and user names.
* ``os``: ``name`` (``platform.system()``), ``release``, ``version``, ``distribution`` (``PRETTY_NAME``
  of ``/etc/os-release``) and ``container`` when the process looks containerised: ``podman`` for
  ``/run/.containerenv``, ``docker`` for ``/.dockerenv``, ``kubernetes`` for ``KUBERNETES_SERVICE_HOST``,
  or the runtime named in ``/proc/1/cgroup``.  These signals say *that* we run in a container, not
  *which image*.
* ``containerImage``: only from what names an image: ``PROVLINEAGE_CONTAINER_IMAGE``, then
  ``CONTAINER_IMAGE`` (set them in your image or pod spec), then ``image=`` in podman's
  ``/run/.containerenv``.  Kubernetes and Docker expose no standard variable, so it is otherwise absent.
* ``memoryBytes``: ``MemTotal`` of ``/proc/meminfo`` (the very number psutil reports on Linux, without
  importing it), else psutil, else ``sysconf``.
* ``gpus``: NVIDIA only, from ``nvidia-smi`` when the binary is on ``PATH`` (2 s timeout), else
  ``/proc/driver/nvidia``, else ``torch.cuda`` when torch is already imported *and* CUDA already
  initialised (torch is never imported and no CUDA context is ever created here).
* ``distributions``: every installed distribution, names normalised per PEP 503; when a name is
  installed twice, the first on ``sys.path`` wins, as for ``import``.  ``distributionsDigest`` is
  :func:`distributions_digest` of them, so a verifier can recompute it.
* ``git``: ``commit``, ``branch`` (absent on a detached HEAD), ``dirty`` (tracked files changed;
  untracked files do not count), ``remoteUrl`` (``origin``, else the first remote, credentials
  stripped by :func:`strip_url_credentials`) and ``describe`` (``git describe --tags``, when a tag
  exists), for the repository holding ``cwd``.  git runs with optional locks off so it never
  contends with the user's own git commands.
* ``environmentVariables``: only allow-listed names (:data:`DEFAULT_ENV_ALLOWLIST`, or the
  ``env_allowlist`` argument, extended by the comma-separated ``PROVLINEAGE_ENV_ALLOWLIST``).  A name
  matching :data:`SECRET_NAME_PATTERN` is never included, even when allow-listed, and URL
  credentials inside values are stripped.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from provlineage.facets import EnvironmentRunFacet

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Variables that change numeric results or their reproducibility, and hold no secrets.
DEFAULT_ENV_ALLOWLIST: tuple[str, ...] = (
    "CUDA_VISIBLE_DEVICES",
    "CUBLAS_WORKSPACE_CONFIG",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "PYTHONHASHSEED",
    "TZ",
    "LANG",
    "LC_ALL",
)
ALLOWLIST_ENV_VAR = "PROVLINEAGE_ENV_ALLOWLIST"
CONTAINER_IMAGE_ENV_VARS: tuple[str, ...] = ("PROVLINEAGE_CONTAINER_IMAGE", "CONTAINER_IMAGE")
#: Names that look like they hold a secret; such variables are never recorded, allow-listed or not.
SECRET_NAME_PATTERN = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL|AUTH|PRIVATE", re.IGNORECASE)

SUBPROCESS_TIMEOUT_S = 2.0
_SSH_SCHEMES = frozenset({"ssh", "git+ssh", "ssh+git"})
_CGROUP_RUNTIMES = (
    ("kubepods", "kubernetes"),
    ("libpod", "podman"),
    ("docker", "docker"),
    ("containerd", "containerd"),
)
_MIB = 1024 * 1024


class _ProcessCache:
    """Facets by arguments, behind a lock that a forked child gets afresh.

    A fork taken while another thread held the lock would otherwise leave the child's copy locked forever.
    """

    def __init__(self) -> None:
        self.facets: dict[tuple[Any, ...], EnvironmentRunFacet] = {}
        self.lock = threading.Lock()

    def renew_lock(self) -> None:
        self.lock = threading.Lock()


_CACHE = _ProcessCache()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_CACHE.renew_lock)


def collect_environment(
    *,
    refresh: bool = False,
    env_allowlist: Sequence[str] | None = None,
    include_distributions: bool = True,
    cwd: str | None = None,
) -> EnvironmentRunFacet:
    """The environment facet of this process, computed on first use and cached per arguments.

    The same object is returned until ``refresh=True``; treat it as read-only.  ``env_allowlist``
    replaces :data:`DEFAULT_ENV_ALLOWLIST` (pass ``()`` to record no variables); names in
    ``PROVLINEAGE_ENV_ALLOWLIST`` are added to it either way.  ``cwd`` (default: the current
    directory) is where the git repository is looked for.
    """
    allowlist = _effective_allowlist(env_allowlist)
    directory = _resolve_cwd(cwd)
    key = (allowlist, include_distributions, directory)
    with _CACHE.lock:
        if not refresh and key in _CACHE.facets:
            return _CACHE.facets[key]
        facet = _collect(allowlist, include_distributions, directory)
        _CACHE.facets[key] = facet
        return facet


def distributions_digest(distributions: dict[str, str]) -> str:
    """``sha256:<hex>`` over the sorted lines ``name==version\\n``: one value to compare package sets."""
    lines = sorted(f"{name}=={version}\n" for name, version in distributions.items())
    return "sha256:" + hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def normalize_distribution_name(name: str) -> str:
    """PEP 503 normal form, so ``Foo_Bar`` and ``foo.bar`` are one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def strip_url_credentials(url: str) -> str:
    """A remote URL without the password or token in its userinfo.

    For ``http(s)`` and other schemes the whole userinfo goes, since hosts accept a token as the user
    name (``https://<token>@github.com/...``).  For ``ssh`` URLs the user name is kept and only a
    password dropped.  scp-like ``git@host:org/repo`` and local paths hold no secret and stay as they are.
    """
    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        log.debug("Unparseable remote URL left out")
        return ""
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return url
    if parts.scheme.lower() in _SSH_SCHEMES:
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}@{host}" if user else host
    else:
        netloc = host
    return urlunsplit(parts._replace(netloc=netloc))


def _collect(allowlist: tuple[str, ...], include_distributions: bool, cwd: str | None) -> EnvironmentRunFacet:
    started = time.perf_counter()
    deadline = time.monotonic() + SUBPROCESS_TIMEOUT_S
    # Subprocesses start first and run while Python reads the rest, so their latency overlaps.
    git_procs = _start_git(cwd) if cwd is not None else None
    nvidia_smi = _start_nvidia_smi()

    os_info = _safely("os", _os_info, {})
    container = _safely("container runtime", _container_runtime, None)
    if container:
        os_info["container"] = container
    distributions = _safely("distributions", _distributions, None) if include_distributions else None
    facet = EnvironmentRunFacet(
        python=_safely("python", _python_info, {}),
        os=os_info,
        architecture=_safely("architecture", platform.machine, ""),
        hostname=_safely("hostname", socket.gethostname, ""),
        cpuCount=_safely("cpu count", os.cpu_count, None),
        memoryBytes=_safely("memory", _memory_bytes, None),
        gpus=_safely("gpus", lambda: _gpus(nvidia_smi, deadline), None),
        distributions=distributions,
        distributionsDigest=distributions_digest(distributions) if distributions is not None else None,
        git=_safely("git", lambda: _git_info(git_procs, deadline), None),
        containerImage=_safely("container image", _container_image, None),
        environmentVariables=_safely("environment variables", lambda: _environment_variables(allowlist), None),
    )
    log.debug("Collected the environment in %.1f ms", (time.perf_counter() - started) * 1000)
    return facet


def _safely(part: str, compute: Callable[[], T], default: T) -> T:
    try:
        return compute()
    except Exception as error:
        log.debug("Environment part %r left out: %s: %s", part, type(error).__name__, error)
        return default


def _effective_allowlist(env_allowlist: Sequence[str] | None) -> tuple[str, ...]:
    if env_allowlist is None:
        base: Sequence[str] = DEFAULT_ENV_ALLOWLIST
    elif isinstance(env_allowlist, str):
        base = env_allowlist.split(",")
    else:
        base = env_allowlist
    extra = os.environ.get(ALLOWLIST_ENV_VAR, "").split(",")
    names = (name.strip() for name in [*base, *extra])
    return tuple(dict.fromkeys(name for name in names if name))


def _resolve_cwd(cwd: str | None) -> str | None:
    try:
        return os.path.abspath(cwd if cwd is not None else os.getcwd())
    except OSError as error:  # the current directory was deleted
        log.debug("No working directory, git info left out: %s", error)
        return None


def _python_info() -> dict[str, str]:
    return {"version": platform.python_version(), "implementation": platform.python_implementation()}


def _os_info() -> dict[str, str]:
    info = {"name": platform.system(), "release": platform.release(), "version": platform.version()}
    if sys.platform.startswith("linux"):
        try:
            pretty = platform.freedesktop_os_release().get("PRETTY_NAME")
        except OSError:
            pretty = None
        if pretty:
            info["distribution"] = pretty
    return {key: value for key, value in info.items() if value}


def _memory_bytes() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024  # the kernel reports kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except Exception:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def _distributions() -> dict[str, str]:
    import importlib.metadata

    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name, version = _name_and_version(dist)
        if name and version:
            found.setdefault(normalize_distribution_name(name), version)
    return dict(sorted(found.items()))


def _name_and_version(dist: Any) -> tuple[str | None, str | None]:
    # Reading the two header lines is ~5x faster than ``dist.metadata``, which parses the whole file.
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    name = version = None
    for line in text.splitlines():
        if not line:
            break  # end of the headers
        if line.startswith("Name:"):
            name = line[5:].strip()
        elif line.startswith("Version:"):
            version = line[8:].strip()
        if name and version:
            return name, version
    return dist.metadata["Name"], dist.version


def _environment_variables(allowlist: tuple[str, ...]) -> dict[str, str]:
    recorded: dict[str, str] = {}
    for name in allowlist:
        if SECRET_NAME_PATTERN.search(name):
            log.debug("Environment variable %s looks secret; never recorded", name)
            continue
        value = os.environ.get(name)
        if value is not None:
            recorded[name] = strip_url_credentials(value) if "://" in value else value
    return recorded


def _container_image() -> str | None:
    for name in CONTAINER_IMAGE_ENV_VARS:
        if os.environ.get(name):
            return os.environ[name]
    return _containerenv().get("image") or None


def _container_runtime() -> str | None:
    if Path("/run/.containerenv").exists():
        return "podman"
    if Path("/.dockerenv").exists():
        return "docker"
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        return "kubernetes"
    try:
        cgroup = Path("/proc/1/cgroup").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return next((runtime for marker, runtime in _CGROUP_RUNTIMES if marker in cgroup), None)


def _containerenv() -> dict[str, str]:
    try:
        text = Path("/run/.containerenv").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key.strip(): value.strip().strip('"') for key, value in pairs}


# --- subprocesses ---------------------------------------------------------------------------------


def _start(argv: list[str], cwd: str | None = None) -> subprocess.Popen[str] | None:
    env = {**os.environ, "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}
    try:
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
    except OSError as error:
        log.debug("Could not run %s: %s", argv[0], error)
        return None


def _finish(proc: subprocess.Popen[str] | None, deadline: float) -> str | None:
    """stdout of a successful run, or None when it failed or outlived the deadline (then it is killed)."""
    if proc is None:
        return None
    try:
        out, _ = proc.communicate(timeout=max(deadline - time.monotonic(), 0.01))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        log.debug("%s timed out and was killed", proc.args)
        return None
    return out if proc.returncode == 0 else None


def _start_git(cwd: str) -> dict[str, subprocess.Popen[str] | None] | None:
    git = shutil.which("git")
    if git is None:
        log.debug("git is not installed; git info left out")
        return None
    commands = {
        "head": ["rev-parse", "HEAD", "--abbrev-ref", "HEAD"],
        "status": ["status", "--porcelain", "--untracked-files=no"],
        "remotes": ["config", "--get-regexp", r"^remote\..*\.url$"],
        "describe": ["describe", "--tags"],
    }
    return {name: _start([git, *args], cwd=cwd) for name, args in commands.items()}


def _git_info(procs: dict[str, subprocess.Popen[str] | None] | None, deadline: float) -> dict[str, Any] | None:
    if procs is None:
        return None
    out = {name: _finish(proc, deadline) for name, proc in procs.items()}
    head = (out["head"] or "").split()
    if len(head) != 2:  # not a repository, or one without commits
        return None
    commit, branch = head
    info: dict[str, Any] = {"commit": commit}
    if branch != "HEAD":
        info["branch"] = branch
    if out["status"] is not None:
        info["dirty"] = bool(out["status"].strip())
    remote = _pick_remote(out["remotes"] or "")
    if remote:
        info["remoteUrl"] = strip_url_credentials(remote)
    if out["describe"] and out["describe"].strip():
        info["describe"] = out["describe"].strip()
    return info


def _pick_remote(config_lines: str) -> str | None:
    urls: dict[str, str] = {}
    for line in config_lines.splitlines():
        key, _, url = line.partition(" ")
        urls.setdefault(key, url.strip())
    return urls.get("remote.origin.url") or next(iter(urls.values()), None)


def _start_nvidia_smi() -> subprocess.Popen[str] | None:
    binary = shutil.which("nvidia-smi")
    if binary is None:
        return None
    query = "--query-gpu=name,memory.total,driver_version"
    return _start([binary, query, "--format=csv,noheader,nounits"])


def _gpus(nvidia_smi: subprocess.Popen[str] | None, deadline: float) -> list[dict[str, Any]] | None:
    gpus = _parse_nvidia_smi(_finish(nvidia_smi, deadline) or "")
    if not gpus:
        gpus = _safely("gpus from /proc/driver/nvidia", _nvidia_proc_gpus, [])
    if not gpus:
        gpus = _safely("gpus from torch.cuda", _torch_gpus, [])
    return gpus or None


def _parse_nvidia_smi(text: str) -> list[dict[str, Any]]:
    gpus = []
    for line in text.splitlines():
        fields = [field.strip() for field in line.split(",")]
        if len(fields) != 3 or not fields[0]:
            continue
        name, memory_mib, driver = fields
        gpu: dict[str, Any] = {"vendor": "nvidia", "name": name, "driverVersion": driver}
        if memory_mib.isdigit():
            gpu["memoryBytes"] = int(memory_mib) * _MIB
        gpus.append(gpu)
    return gpus


def _nvidia_proc_gpus() -> list[dict[str, Any]]:
    root = Path("/proc/driver/nvidia")
    if not root.is_dir():
        return []
    driver = None
    version_file = root / "version"
    if version_file.exists():
        match = re.search(r"Kernel Module\s+(\S+)", version_file.read_text(errors="replace"))
        driver = match.group(1) if match else None
    gpus = []
    for information in sorted(root.glob("gpus/*/information")):
        fields = dict(
            (key.strip(), value.strip())
            for key, _, value in (line.partition(":") for line in information.read_text(errors="replace").splitlines())
        )
        gpu: dict[str, Any] = {"vendor": "nvidia", "name": fields.get("Model", "unknown")}
        if driver:
            gpu["driverVersion"] = driver
        gpus.append(gpu)
    return gpus


def _torch_gpus() -> list[dict[str, Any]]:
    torch = sys.modules.get("torch")
    cuda = getattr(torch, "cuda", None)
    # Only when CUDA is already initialised: initialising it is slow and breaks forked children.
    if cuda is None or not cuda.is_initialized():
        return []
    vendor = "amd" if getattr(getattr(torch, "version", None), "hip", None) else "nvidia"
    gpus = []
    for index in range(cuda.device_count()):
        props = cuda.get_device_properties(index)
        gpus.append({"vendor": vendor, "name": str(props.name), "memoryBytes": int(props.total_memory)})
    return gpus
