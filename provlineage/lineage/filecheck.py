"""``--check-files``: does each local dataset in an answer still hold the bytes its record says it held?

The comparison itself is :func:`provlineage.datasets_check.check_dataset` (the one ``provlineage verify --datasets``
uses: re-hash without the cache, directories compared file by file).  What is ours is *which* content is compared:
the digest each run recorded (a model's training inputs as they were when it was trained), each distinct content
once, and only datasets on this machine (namespace ``file``), since an audit must not depend on remote credentials.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from provlineage.datasets_check import DatasetCheck, RecordedDataset, check_dataset
from provlineage.naming import local_path

if TYPE_CHECKING:
    from provlineage.hashing import HashOptions
    from provlineage.lineage.views import DatasetRef

FileCheck = DatasetCheck
"""One dataset content compared with the disk: ``match``, ``changed``, ``missing`` or ``unreadable``."""


def check_files(refs: Iterable[DatasetRef], options: HashOptions | None = None) -> list[FileCheck]:
    """Re-hash each distinct local dataset content in ``refs``; remote or digest-less ones are skipped."""
    checks: dict[tuple[str, str, str], FileCheck] = {}
    for ref in refs:
        if ref.hash_facet is None or ref.digest is None or local_path(ref.namespace, ref.name) is None:
            continue
        key = (ref.namespace, ref.name, ref.digest)
        if key not in checks:
            checks[key] = check_dataset(RecordedDataset(ref.namespace, ref.name, ref.hash_facet, "", 0), options)
    return list(checks.values())
