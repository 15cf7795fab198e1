"""``provlineage verify --datasets``: do the datasets a verified log refers to still hold the recorded bytes?

For every dataset with a ``provlineage_datasetHash`` facet in a *verified* event, the most recent record of it (the
last one in log order: a model retrained into the same path is compared with its latest version) is compared with
a fresh hash of the data.  The data is found at the facet's ``uri`` (where it was hashed), else at the path a
``file`` dataset names.  Directories are compared file by file (:func:`provlineage.hashing.diff_against_facet`),
so the answer lists the files added, missing and changed.  The per-file digest cache is not used: an audit reads
the bytes rather than trusting a cache that whoever can write it could have filled.

Statuses: ``match``; ``changed``; ``missing`` (the dataset is gone); ``unreadable`` (it exists but cannot be read,
or a remote store refused); ``no-digest`` (a model recorded without any digest: nothing to compare).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from provlineage import facets as pf
from provlineage.errors import HashingError
from provlineage.hashing import HashOptions, diff_against_facet, hash_uri
from provlineage.naming import local_path
from provlineage.verification import Report


@dataclass(frozen=True)
class RecordedDataset:
    """The latest verified record of one dataset's content."""

    namespace: str
    name: str
    facet: dict[str, Any]
    source: str
    line: int

    @property
    def location(self) -> str | None:
        uri = self.facet.get("uri")
        if isinstance(uri, str) and uri:
            return uri
        path = local_path(self.namespace, self.name)
        return str(path) if path is not None else None

    @property
    def digest(self) -> str:
        return f"{self.facet.get('algorithm', 'sha256')}:{self.facet.get('digest')}"


@dataclass
class DatasetCheck:
    namespace: str
    name: str
    status: str
    recorded_digest: str
    current_digest: str | None = None
    added: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    manifest_complete: bool = True
    detail: str = ""
    recorded_at: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "match"

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value not in (None, "", [])}

    def line(self, limit: int = 5) -> str:
        text = f"{'DATASET':11} {self.namespace}:{self.name}  {self.status}"
        parts = []
        for label, paths in (("added", self.added), ("missing", self.missing), ("changed", self.changed)):
            if paths:
                more = f" (+{len(paths) - limit} more)" if len(paths) > limit else ""
                parts.append(f"{label} {len(paths)}: {', '.join(paths[:limit])}{more}")
        if parts:
            text += "  " + "; ".join(parts)
        if self.detail:
            text += f"  ({self.detail})"
        return text


def recorded_datasets(events: Iterable[tuple[str, int, dict[str, Any]]]) -> list[RecordedDataset]:
    """The latest hash facet of each dataset in ``(source, line, event)`` triples, in log order."""
    latest: dict[tuple[str, str], RecordedDataset] = {}
    for source, line, event in events:
        for side in ("inputs", "outputs"):
            for dataset in event.get(side) or []:
                if not isinstance(dataset, dict):
                    continue
                facet = (dataset.get("facets") or {}).get(pf.DATASET_HASH)
                namespace, name = dataset.get("namespace"), dataset.get("name")
                if (
                    isinstance(facet, dict)
                    and isinstance(facet.get("digest"), str)
                    and isinstance(namespace, str)
                    and isinstance(name, str)
                ):
                    latest.pop((namespace, name), None)  # re-insert so the order is that of the latest record
                    latest[(namespace, name)] = RecordedDataset(namespace, name, facet, source, line)
    return list(latest.values())


def _exists(location: str) -> bool | None:
    """Whether a local dataset exists (``None`` for remote ones, which only a read can tell)."""
    if location.startswith("file:"):
        from urllib.parse import urlsplit
        from urllib.request import url2pathname

        location = url2pathname(urlsplit(location).path)
    elif "://" in location:
        return None
    return os.path.lexists(location)


def check_dataset(recorded: RecordedDataset, options: HashOptions | None = None) -> DatasetCheck:
    options = options or HashOptions(use_cache=False, progress=False)
    check = DatasetCheck(
        recorded.namespace, recorded.name, "match", recorded.digest, recorded_at=f"{recorded.source}:{recorded.line}"
    )
    location = recorded.location
    if location is None:
        check.status, check.detail = "unreadable", "the record names no location to read"
        return check
    if _exists(location) is False:
        check.status, check.detail = "missing", f"{location} no longer exists"
        return check
    try:
        current = hash_uri(location, options)
        diff = diff_against_facet(recorded.facet, current)
    except HashingError as error:
        check.status, check.detail = "unreadable", str(error)
        return check
    check.current_digest = current.prefixed
    check.added, check.missing, check.changed = diff.added, diff.missing, diff.changed
    check.manifest_complete = diff.manifest_complete
    if not diff.unchanged:
        check.status = "changed"
        if not (diff.added or diff.missing or diff.changed):
            check.detail = "content differs" + (
                "" if diff.manifest_complete else " past the part of the manifest the record kept"
            )
    return check


def check_datasets(report: Report, options: HashOptions | None = None) -> list[DatasetCheck]:
    """Re-hash every dataset the verified events of ``report`` (made with ``keep_events=True``) record.

    A model whose latest record has no digest at all (its file could not be read when it was logged) cannot be
    compared: it is listed as ``no-digest`` rather than left out.
    """
    events = [(record.source, record.line, event) for record, event in report.verified_events()]
    return [check_dataset(recorded, options) for recorded in recorded_datasets(events)] + models_without_digest(events)


def models_without_digest(events: Iterable[tuple[str, int, dict[str, Any]]]) -> list[DatasetCheck]:
    """Models whose latest record carries ``provlineage_model`` without a digest, and no dataset hash."""
    latest: dict[tuple[str, str], DatasetCheck | None] = {}
    for source, line, event in events:
        for side in ("inputs", "outputs"):
            for dataset in event.get(side) or []:
                facets = dataset.get("facets") if isinstance(dataset, dict) else None
                if not isinstance(facets, dict) or not isinstance(dataset.get("name"), str):
                    continue
                key = (str(dataset.get("namespace")), dataset["name"])
                model, hashed = facets.get(pf.MODEL), facets.get(pf.DATASET_HASH)
                if isinstance(hashed, dict) or (isinstance(model, dict) and model.get("digest")):
                    latest[key] = None
                elif isinstance(model, dict):
                    label = (
                        f"{model.get('name')}@{model['version']}" if model.get("version") else f"{model.get('name')}"
                    )
                    latest[key] = DatasetCheck(
                        *key,
                        "no-digest",
                        "",
                        detail=f"model {label}: no artifact digest was recorded (the file could not be read when it "
                        "was logged); nothing to compare",
                        recorded_at=f"{source}:{line}",
                    )
    return [check for check in latest.values() if check is not None]


def summary_line(checks: list[DatasetCheck]) -> str:
    counts: dict[str, int] = {}
    for check in checks:
        counts[check.status] = counts.get(check.status, 0) + 1
    statuses = ("match", "changed", "missing", "unreadable") + (("no-digest",) if "no-digest" in counts else ())
    detail = ", ".join(f"{counts.get(status, 0)} {status}" for status in statuses)
    return f"{'datasets':11} {len(checks)} re-hashed: {detail}"
