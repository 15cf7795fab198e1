"""Compares a recorded ``provlineage_datasetHash`` facet with a fresh digest, file by file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from provlineage.errors import HashingError
from provlineage.hashing.digest import DatasetDigest, path_sort_key, printable_path, uri_basename


@dataclass(frozen=True)
class DatasetDiff:
    """Paths added, missing and changed since the facet was recorded.

    A facet's manifest holds the first ``manifestLimit`` paths in sorted order, so when entries were
    omitted (``manifest_complete`` is False) only paths up to the last recorded one can be compared;
    a ``digest_matches=False`` with no listed difference then means the change is past that point.
    A single file is listed under its own name.
    """

    added: list[str]
    missing: list[str]
    changed: list[str]
    digest_matches: bool
    manifest_complete: bool

    @property
    def unchanged(self) -> bool:
        return self.digest_matches and not (self.added or self.missing or self.changed)


def _strip_algorithm(digest: str, algorithm: str) -> str:
    prefix = f"{algorithm}:"
    return digest[len(prefix) :] if digest.startswith(prefix) else digest


def _recorded_entries(recorded: Mapping[str, Any], fallback_name: str) -> dict[str, str]:
    manifest = recorded.get("manifest")
    if manifest is None:
        uri = recorded.get("uri")
        name = uri_basename(uri) if isinstance(uri, str) and uri else fallback_name
        return {name: recorded["digest"]}
    try:
        return {entry["path"]: entry["digest"] for entry in manifest}
    except (TypeError, KeyError):
        raise HashingError(
            "recorded dataset hash facet has a malformed manifest", "entries need 'path' and 'digest'"
        ) from None


def diff_against_facet(recorded: Mapping[str, Any], current: DatasetDigest) -> DatasetDiff:
    """What changed between ``recorded`` (the facet as a JSON dict) and ``current``."""
    if not isinstance(recorded, Mapping) or not isinstance(recorded.get("digest"), str):
        raise HashingError("recorded dataset hash facet has no 'digest'", "pass the provlineage_datasetHash facet")
    algorithm = recorded.get("algorithm", current.algorithm)
    if algorithm != current.algorithm:
        raise HashingError(
            f"recorded dataset hash uses {algorithm}, the current one {current.algorithm}",
            f"re-hash with {algorithm} to compare",
        )
    omitted = recorded.get("manifestOmitted") or 0
    before = _recorded_entries(recorded, current.name)
    if current.root_digest_method is None:
        after = {current.name: current.digest}
    else:
        after = {printable_path(entry.path): entry.digest for entry in current.manifest}

    if omitted:  # only the sorted prefix the facet kept can be compared
        horizon = max((path_sort_key(path) for path in before), default=None)
        after = {p: d for p, d in after.items() if horizon is not None and path_sort_key(p) <= horizon}

    def ordered(paths: set[str]) -> list[str]:
        return sorted(paths, key=path_sort_key)

    return DatasetDiff(
        added=ordered(set(after) - set(before)),
        missing=ordered(set(before) - set(after)),
        changed=ordered({path for path in set(before) & set(after) if before[path] != after[path]}),
        digest_matches=_strip_algorithm(recorded["digest"], algorithm) == current.digest,
        manifest_complete=not omitted,
    )
