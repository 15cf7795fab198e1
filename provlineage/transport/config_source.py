"""Relative paths in a transport config are resolved against the directory of the file that holds them.

openlineage-python merges ``openlineage.yml`` with ``OPENLINEAGE__*`` variables and hands a transport only the
merged mapping, not where it came from.  So :func:`resolve_paths` looks at the config files openlineage-python
reads (``$OPENLINEAGE_CONFIG``, ``./openlineage.yml``, ``~/.openlineage/openlineage.yml``; Airflow's
``[openlineage] config_path`` when Airflow is loaded; the ``--config`` file of ``provlineage flush``) and resolves a
relative path against a file's directory when that file holds that same value for that key.  A relative value
that came from an environment variable or from code is no file's and stays relative to the working directory.

Resolved keys: ``private_key``, ``state_dir`` and ``spool_dir`` of the SigningTransport, and ``path`` of every
``provlineage.transport.FileLogTransport`` inside it.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger("provlineage.transport.signing")

PATH_KEYS = ("private_key", "state_dir", "spool_dir")
FILE_LOG = "provlineage.transport.FileLogTransport"
_explicit: contextvars.ContextVar[Path | None] = contextvars.ContextVar("provlineage_config_file", default=None)


@contextlib.contextmanager
def config_file(path: Path) -> Iterator[None]:
    """Within the block, transports are built from ``path`` (``provlineage flush --config``)."""
    token = _explicit.set(path)
    try:
        yield
    finally:
        _explicit.reset(token)


def candidate_files() -> list[Path]:
    """The config files a transport's settings may have come from, most specific first."""
    found: list[str | None] = [str(_explicit.get()) if _explicit.get() else None]
    if "airflow" in sys.modules:  # Airflow reads [openlineage] config_path itself and passes the mapping on
        with contextlib.suppress(Exception):
            from airflow.configuration import conf

            found.append(conf.get("openlineage", "config_path", fallback="") or None)
    found += [
        os.environ.get("OPENLINEAGE_CONFIG"),
        os.path.join(os.getcwd(), "openlineage.yml"),
        os.path.join(os.path.expanduser("~/.openlineage"), "openlineage.yml"),
    ]
    return [Path(name) for name in dict.fromkeys(found) if name and os.path.isfile(name)]


def _path_values(node: Any, into: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Every ``(key, value)`` of a path key anywhere in a config tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and (key in PATH_KEYS or (key == "path" and node.get("type") == FILE_LOG)):
                into.add((key, value))
            else:
                _path_values(value, into)
    elif isinstance(node, list):
        for item in node:
            _path_values(item, into)
    return into


def _file_values(path: Path) -> set[tuple[str, str]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return set()
    return _path_values(data, set())


def _relative(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and not os.path.isabs(os.path.expanduser(value)) and ":" not in value


def resolve_paths(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with relative paths that a config file holds made absolute against that file's directory."""
    wanted = {(key, value) for key, value in _path_values(params, set()) if _relative(value)}
    if not wanted:
        return params
    base: dict[tuple[str, str], Path] = {}
    for candidate in candidate_files():
        for item in wanted & _file_values(candidate):
            base.setdefault(item, candidate.resolve().parent)
    if not base:
        return params
    resolved = copy.deepcopy(params)
    _rewrite(resolved, base)
    for (key, value), directory in base.items():
        log.debug("provlineage: %s %r resolved against %s", key, value, directory)
    return resolved


def _rewrite(node: Any, base: dict[tuple[str, str], Path]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and (key, value) in base:
                if key in PATH_KEYS or node.get("type") == FILE_LOG:
                    node[key] = os.path.normpath(base[key, value] / value)
            else:
                _rewrite(value, base)
    elif isinstance(node, list):
        for item in node:
            _rewrite(item, base)
