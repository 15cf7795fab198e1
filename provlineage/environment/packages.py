"""Installed distributions, their PEP 503 names and the digest that stands for the whole list.

Reading ~150 ``METADATA`` files costs 15-25 ms of CPU, paid by every short-lived process (an Airflow worker runs
one per task).  So the list is kept on disk, under ``<cache dir>/environment/`` (``$PROVLINEAGE_CACHE_DIR``, else
``$XDG_CACHE_HOME/provlineage/hashes``, else ``~/.cache/provlineage/hashes``; the directory is private, 0700), keyed
by the interpreter, the ``sys.path`` entries and the ``.dist-info``/``.egg-info`` names in each (they carry the
version, so installing, upgrading or removing a distribution changes the key).  A directory of distributions that
changed in the last two seconds is not trusted for caching (the list is read, not stored), as git does with
"racily clean" files.  Any problem with the cache means the list is simply read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("provlineage.environment")

CACHE_FORMAT = 1
_RACY_WINDOW_NS = 2_000_000_000
_METADATA_DIRS = (".dist-info", ".egg-info")


def distributions() -> dict[str, str]:
    """Every installed distribution (from the on-disk cache when ``sys.path`` has not changed)."""
    key, trusted = _fingerprint()
    path = _cache_dir() / f"distributions-{key}.json"
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(cached, dict) and cached.get("format") == CACHE_FORMAT and isinstance(cached.get("list"), dict):
            return cached["list"]
    except (OSError, ValueError):
        pass
    found = read_distributions()
    if trusted:
        _store(path, {"format": CACHE_FORMAT, "list": found})
    return found


def read_distributions() -> dict[str, str]:
    """Every installed distribution; when a name is installed twice, the first on ``sys.path`` wins, as for import."""
    import importlib.metadata

    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name, version = _name_and_version(dist)
        if name and version:
            found.setdefault(normalize_distribution_name(name), version)
    return dict(sorted(found.items()))


def distributions_digest(installed: dict[str, str]) -> str:
    """``sha256:<hex>`` over the sorted lines ``name==version\\n``: one value to compare package sets."""
    lines = sorted(f"{name}=={version}\n" for name, version in installed.items())
    return "sha256:" + hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def normalize_distribution_name(name: str) -> str:
    """PEP 503 normal form, so ``Foo_Bar`` and ``foo.bar`` are one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


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


def _cache_dir() -> Path:
    configured = os.environ.get("PROVLINEAGE_CACHE_DIR")
    if configured:
        base = Path(configured)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "provlineage" / "hashes"
    return base / "environment"


def _fingerprint() -> tuple[str, bool]:
    """The cache key of this interpreter's package set, and whether no directory changed too recently to trust.

    The key covers each ``sys.path`` entry and the names of the ``.dist-info``/``.egg-info`` entries in it; those
    names carry the version (``numpy-2.1.0.dist-info``), so an install, upgrade or removal changes the key.
    """
    digest = hashlib.sha256(f"{sys.executable}\0{sys.version}\0{CACHE_FORMAT}\n".encode())
    now, trusted = time.time_ns(), True
    for entry in sys.path:
        location = entry or os.curdir
        digest.update(f"{entry}\0".encode(errors="surrogateescape"))
        try:
            with os.scandir(location) as entries:
                names = sorted(item.name for item in entries if item.name.endswith(_METADATA_DIRS))
            stat = os.stat(location)
        except NotADirectoryError:  # a zip or egg file on sys.path
            try:
                stat = os.stat(location)
            except OSError:
                continue
            names = [f"{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}"]
        except OSError:
            continue
        digest.update("\0".join(names).encode(errors="surrogateescape") + b"\n")
        if names:
            trusted = trusted and now - stat.st_mtime_ns > _RACY_WINDOW_NS
    return digest.hexdigest()[:32], trusted


def _store(path: Path, content: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".distributions-", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(content, stream, separators=(",", ":"))
        os.replace(temporary, path)
    except OSError as error:
        log.debug("Distribution list not cached (%s)", error)
