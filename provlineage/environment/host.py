"""The machine and interpreter: Python, OS, container, memory and allow-listed environment variables.

* ``python``: ``version`` and ``implementation``.  The interpreter path is left out: it leaks home
  directories and user names.
* ``os``: ``name``, ``release``, ``version``, ``distribution`` (``PRETTY_NAME`` of ``/etc/os-release``) and
  ``container`` when the process looks containerised (``/run/.containerenv``, ``/.dockerenv``,
  ``KUBERNETES_SERVICE_HOST``, or the runtime named in ``/proc/1/cgroup``): *that* we run in a container, not
  *which image*.
* ``containerImage``: only from what names an image: ``PROVLINEAGE_CONTAINER_IMAGE``, then ``CONTAINER_IMAGE``,
  then ``image=`` in podman's ``/run/.containerenv``.
* ``memoryBytes``: ``MemTotal`` of ``/proc/meminfo`` (what psutil reports on Linux), else psutil, else ``sysconf``.
* ``environmentVariables``: allow-listed names only; a secret-looking name is never recorded, and credentials
  inside values are stripped.
"""

from __future__ import annotations

import logging
import os
import platform
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from provlineage.environment.urls import strip_url_credentials

log = logging.getLogger("provlineage.environment")

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
_CGROUP_RUNTIMES = (
    ("kubepods", "kubernetes"),
    ("libpod", "podman"),
    ("docker", "docker"),
    ("containerd", "containerd"),
)


def effective_allowlist(env_allowlist: Sequence[str] | None) -> tuple[str, ...]:
    if env_allowlist is None:
        base: Sequence[str] = DEFAULT_ENV_ALLOWLIST
    elif isinstance(env_allowlist, str):
        base = env_allowlist.split(",")
    else:
        base = env_allowlist
    extra = os.environ.get(ALLOWLIST_ENV_VAR, "").split(",")
    names = (name.strip() for name in [*base, *extra])
    return tuple(dict.fromkeys(name for name in names if name))


def python_info() -> dict[str, str]:
    return {"version": platform.python_version(), "implementation": platform.python_implementation()}


def os_info() -> dict[str, str]:
    info = {"name": platform.system(), "release": platform.release(), "version": platform.version()}
    if sys.platform.startswith("linux"):
        try:
            pretty = platform.freedesktop_os_release().get("PRETTY_NAME")
        except OSError:
            pretty = None
        if pretty:
            info["distribution"] = pretty
    return {key: value for key, value in info.items() if value}


def memory_bytes() -> int | None:
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


def environment_variables(allowlist: tuple[str, ...]) -> dict[str, str]:
    recorded: dict[str, str] = {}
    for name in allowlist:
        if SECRET_NAME_PATTERN.search(name):
            log.debug("Environment variable %s looks secret; never recorded", name)
            continue
        value = os.environ.get(name)
        if value is not None:
            stripped = strip_url_credentials(value) if ("://" in value or "@" in value) else value
            recorded[name] = _redacted(stripped)  # tokens and keys in any other shape: ***
    return recorded


#: Too short and plain to hold a secret the redaction detects (``0,1``, ``4``, ``C.UTF-8``, ``UTC``, ``:4096:8``).
_PLAIN = re.compile(r"[A-Za-z0-9_.,:/+-]{0,15}")


def _redacted(value: str) -> str:
    """``value`` through provlineage's value redaction, which is loaded only for a value that could need it.

    Loading it brings in detect-secrets (tens of ms of CPU), which every short-lived task process would
    otherwise pay for the usual allow-listed values such as ``OMP_NUM_THREADS=4``.
    """
    if _PLAIN.fullmatch(value):
        return value
    from provlineage.redaction import redact_text

    return redact_text(value)[0]


def container_image() -> str | None:
    for name in CONTAINER_IMAGE_ENV_VARS:
        if os.environ.get(name):
            return os.environ[name]
    return _containerenv().get("image") or None


def container_runtime() -> str | None:
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
