"""Which code ran: the entry file (its SHA-256) and the git repository that holds it.

The repository is looked up from the entry file's directory, not from the working directory: a script run
from ``/tmp`` still names its repository, and a script outside any repository run from inside one names none.

* ``entryFile``: ``path`` (relative to the repository root, else the bare file name: absolute paths leak home
  directories) and ``digest`` (``sha256:<hex>`` of the file's bytes), so "what code produced it" has an answer
  without git too (uncommitted changes, no repository, a notebook).
* ``git``: ``commit``, ``branch`` (absent on a detached HEAD), ``dirty`` (tracked files changed; untracked ones do
  not count), ``remoteUrl`` (``origin``, else the first remote, credentials and query stripped) and ``describe``
  (``git describe --tags``).  git runs with optional locks off so it never contends with the user's own commands.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import os
import shutil
import subprocess
import sys
from typing import Any

from provlineage.environment._process import finish, start
from provlineage.environment.urls import strip_url_credentials

log = logging.getLogger("provlineage.environment")

GitProcs = dict[str, "subprocess.Popen[str] | None"]
#: Variables a notebook kernel sets to the notebook's path (VS Code, Jupyter Server >= 2).
_NOTEBOOK_HINTS = ("__vsc_ipynb_file__", "__session__")


def entry_file_of(code: Any = None) -> str | None:
    """The file of ``code`` (a function, class or module), else of ``__main__`` (the script or notebook that runs)."""
    if code is not None:
        try:
            path = inspect.getsourcefile(inspect.unwrap(code)) or inspect.getfile(code)
        except (TypeError, OSError):
            path = None
        if path and os.path.isfile(path):
            return os.path.abspath(path)
    return main_entry_file()


def main_entry_file() -> str | None:
    """``__main__``'s file: the script, ``python -m``'s module, or a notebook's path when the kernel says it."""
    main = sys.modules.get("__main__")
    candidates = [getattr(main, "__file__", None), *(getattr(main, hint, None) for hint in _NOTEBOOK_HINTS)]
    candidates.append(os.environ.get("JPY_SESSION_NAME"))
    for path in candidates:
        if isinstance(path, str) and path and os.path.isfile(path):
            return os.path.abspath(path)
    return None


def file_digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def entry_file_facet(path: str, toplevel: str | None) -> dict[str, str]:
    """``{"path", "digest"}`` of the entry file; raises OSError when it cannot be read."""
    shown = os.path.basename(path)
    if toplevel:
        relative = os.path.relpath(os.path.realpath(path), os.path.realpath(toplevel))
        if not relative.startswith(os.pardir):
            shown = relative.replace(os.sep, "/")
    return {"path": shown, "digest": file_digest(path)}


def start_git(directory: str) -> GitProcs | None:
    git = shutil.which("git")
    if git is None:
        log.debug("git is not installed; git info left out")
        return None
    if not os.path.isdir(directory):
        log.debug("No directory %s; git info left out", directory)
        return None
    if not in_repository(directory):  # most DAG folders and scratch directories: no git process at all
        return None
    commands = {
        "head": ["rev-parse", "--show-toplevel", "HEAD", "--abbrev-ref", "HEAD"],
        "status": ["status", "--porcelain", "--untracked-files=no"],
        "remotes": ["config", "--get-regexp", r"^remote\..*\.url$"],
        "describe": ["describe", "--tags"],
    }
    return {name: start([git, *args], cwd=directory) for name, args in commands.items()}


def in_repository(directory: str) -> bool:
    """Whether git would find a repository from ``directory`` (a ``.git`` above it, before a ceiling directory).

    A few ``stat`` calls instead of four git processes for the common case of no repository.  When unsure
    (``GIT_DIR`` set), it answers yes and git decides.
    """
    if os.environ.get("GIT_DIR"):
        return True
    ceilings = {
        os.path.realpath(path) for path in os.environ.get("GIT_CEILING_DIRECTORIES", "").split(os.pathsep) if path
    }
    current = os.path.realpath(directory)
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return True
        parent = os.path.dirname(current)
        if parent == current or parent in ceilings:
            return False
        current = parent


def git_info(procs: GitProcs | None, deadline: float) -> tuple[dict[str, Any] | None, str | None]:
    """The ``git`` block and the repository's root directory, or ``(None, None)`` outside a repository."""
    if procs is None:
        return None, None
    out = {name: finish(proc, deadline) for name, proc in procs.items()}
    head = (out["head"] or "").splitlines()
    if len(head) != 3:  # not a repository, or one without commits
        return None, None
    toplevel, commit, branch = (line.strip() for line in head)
    info: dict[str, Any] = {"commit": commit}
    if branch != "HEAD":
        info["branch"] = branch
    if out["status"] is not None:
        info["dirty"] = bool(out["status"].strip())
    remote = pick_remote(out["remotes"] or "")
    if remote:
        info["remoteUrl"] = strip_url_credentials(remote)
    if out["describe"] and out["describe"].strip():
        info["describe"] = out["describe"].strip()
    return info, toplevel


def pick_remote(config_lines: str) -> str | None:
    urls: dict[str, str] = {}
    for line in config_lines.splitlines():
        key, _, url = line.partition(" ")
        urls.setdefault(key, url.strip())
    return urls.get("remote.origin.url") or next(iter(urls.values()), None)
