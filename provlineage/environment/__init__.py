"""Describe where a run executed, as an :class:`EnvironmentRunFacet`: computed once per process, then cached.

A run is only reproducible if we know where it ran and which code ran.  The machine part (interpreter, OS,
hardware, packages: :mod:`.host`, :mod:`.gpus`, :mod:`.packages`) does not change while a process lives and is
collected once; a forked child reuses its parent's answer, which is still true for it.  The code part
(:mod:`.code`: the entry file's digest and its git repository) is cached per entry file.  Collection never
raises: a part that fails is logged at debug level and left out, since lineage must not break the job.

The full list of installed distributions is about 4 KB.  :func:`without_distributions` gives the copy that
events other than a run's START carry: the same facet with ``distributionsDigest`` and ``distributionCount``
but no list, so "which versions ran" is answered from the run's verified START event and the digest ties every
other event of the run to that list.
"""

from __future__ import annotations

import logging
import os
import platform
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import attr

from provlineage.environment import code, gpus, host, packages
from provlineage.environment._process import SUBPROCESS_TIMEOUT_S
from provlineage.environment.code import entry_file_of, main_entry_file
from provlineage.environment.host import (
    ALLOWLIST_ENV_VAR,
    CONTAINER_IMAGE_ENV_VARS,
    DEFAULT_ENV_ALLOWLIST,
    SECRET_NAME_PATTERN,
)
from provlineage.environment.packages import distributions_digest, normalize_distribution_name
from provlineage.environment.urls import strip_url_credentials
from provlineage.facets import EnvironmentRunFacet

__all__ = [
    "ALLOWLIST_ENV_VAR",
    "CONTAINER_IMAGE_ENV_VARS",
    "DEFAULT_ENV_ALLOWLIST",
    "SECRET_NAME_PATTERN",
    "SUBPROCESS_TIMEOUT_S",
    "collect_environment",
    "distributions_digest",
    "entry_file_of",
    "main_entry_file",
    "normalize_distribution_name",
    "strip_url_credentials",
    "without_distributions",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
_FacetKey = tuple[Any, ...]


class _ProcessCache:
    """Results by arguments, behind a lock that a forked child gets afresh.

    A fork taken while another thread held the lock would otherwise leave the child's copy locked forever.
    """

    def __init__(self) -> None:
        self.machine: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.git: dict[str, tuple[dict[str, Any] | None, str | None]] = {}
        self.facets: dict[_FacetKey, EnvironmentRunFacet] = {}
        self.slim: dict[int, tuple[EnvironmentRunFacet, EnvironmentRunFacet]] = {}
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
    entry_file: str | None = None,
) -> EnvironmentRunFacet:
    """The environment facet of this process, computed on first use and cached per arguments.

    The same object is returned until ``refresh=True`` or the entry file changes; treat it as read-only.
    ``entry_file`` is the file of the code that ran (default: ``__main__``'s script, see
    :func:`entry_file_of`); its digest is recorded and its repository gives ``git``.  ``cwd`` overrides the
    directory git is looked up from (default: the entry file's directory; no entry file, no git).
    ``env_allowlist`` replaces :data:`DEFAULT_ENV_ALLOWLIST` (pass ``()`` to record no variables); names in
    ``PROVLINEAGE_ENV_ALLOWLIST`` are added to it either way.
    """
    allowlist = host.effective_allowlist(env_allowlist)
    entry = os.path.abspath(entry_file) if entry_file is not None else main_entry_file()
    directory = _git_directory(cwd, entry)
    key = (allowlist, include_distributions, directory, entry, _file_signature(entry))
    with _CACHE.lock:
        if not refresh and key in _CACHE.facets:
            return _CACHE.facets[key]
        started = time.perf_counter()
        deadline = time.monotonic() + SUBPROCESS_TIMEOUT_S
        # git starts first and runs while Python reads the rest, so its latency overlaps.
        git_procs = code.start_git(directory) if directory and (refresh or directory not in _CACHE.git) else None
        machine_key = (allowlist, include_distributions)
        if refresh or machine_key not in _CACHE.machine:
            _CACHE.machine[machine_key] = _machine(allowlist, include_distributions, deadline)
        if git_procs is not None:
            _CACHE.git[directory] = _safely("git", lambda: code.git_info(git_procs, deadline), (None, None))
        git, toplevel = _CACHE.git.get(directory, (None, None)) if directory else (None, None)
        entry_facet = _safely("entry file", lambda: code.entry_file_facet(entry, toplevel), None) if entry else None
        facet = EnvironmentRunFacet(**_CACHE.machine[machine_key], git=git, entryFile=entry_facet)
        _CACHE.facets[key] = facet
        log.debug("Collected the environment in %.1f ms", (time.perf_counter() - started) * 1000)
        return facet


def without_distributions(facet: EnvironmentRunFacet) -> EnvironmentRunFacet:
    """``facet`` without the distribution list (digest and count kept), for every event but a run's START."""
    if facet.distributions is None:
        return facet
    with _CACHE.lock:
        cached = _CACHE.slim.get(id(facet))
        if cached is not None and cached[0] is facet:
            return cached[1]
        slim = attr.evolve(facet, distributions=None)
        _CACHE.slim[id(facet)] = (facet, slim)
        return slim


def _git_directory(cwd: str | None, entry: str | None) -> str | None:
    if cwd is not None:
        return os.path.abspath(cwd)
    return os.path.dirname(entry) if entry else None


def _file_signature(path: str | None) -> tuple[int, int] | None:
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _machine(allowlist: tuple[str, ...], include_distributions: bool, deadline: float) -> dict[str, Any]:
    """The facet's fields that describe the machine and interpreter, not the code."""
    nvidia_smi = gpus.start_nvidia_smi()
    os_info = _safely("os", host.os_info, {})
    container = _safely("container runtime", host.container_runtime, None)
    if container:
        os_info["container"] = container
    installed = _safely("distributions", packages.distributions, None) if include_distributions else None
    return {
        "python": _safely("python", host.python_info, {}),
        "os": os_info,
        "architecture": _safely("architecture", platform.machine, ""),
        "hostname": _safely("hostname", socket.gethostname, ""),
        "cpuCount": _safely("cpu count", os.cpu_count, None),
        "memoryBytes": _safely("memory", host.memory_bytes, None),
        "gpus": _safely("gpus", lambda: gpus.gpus(nvidia_smi, deadline), None),
        "distributions": installed,
        "distributionsDigest": distributions_digest(installed) if installed is not None else None,
        "distributionCount": len(installed) if installed is not None else None,
        "containerImage": _safely("container image", host.container_image, None),
        "environmentVariables": _safely("environment variables", lambda: host.environment_variables(allowlist), None),
    }


def _safely(part: str, compute: Callable[[], T], default: T) -> T:
    try:
        return compute()
    except Exception as error:
        log.debug("Environment part %r left out: %s: %s", part, type(error).__name__, error)
        return default
