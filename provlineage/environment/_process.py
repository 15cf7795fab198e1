"""Run a short helper command (git, nvidia-smi) in the background and collect its output before a deadline.

Commands start first and run while Python reads the rest of the environment, so their latency overlaps.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time

log = logging.getLogger("provlineage.environment")

SUBPROCESS_TIMEOUT_S = 2.0


def start(argv: list[str], cwd: str | None = None) -> subprocess.Popen[str] | None:
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


def finish(proc: subprocess.Popen[str] | None, deadline: float) -> str | None:
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
