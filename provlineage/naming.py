"""OpenLineage dataset identity (namespace, name) for paths and URIs.

Follows OpenLineage's naming rules (``openlineage.client.naming.dataset``) and the Airflow provider's file Assets,
so a model written by an Airflow training task and read by a ``track()`` inference job is the same dataset and
Marquez draws one connected graph.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from openlineage.client.naming.dataset import GCS, S3, LocalFileSystem


def dataset_identity(path_or_uri: str | os.PathLike[str]) -> tuple[str, str]:
    """``/data/x.csv`` and ``file:///data/x.csv`` -> ``("file", "/data/x.csv")``; ``s3://b/k`` -> ``("s3://b", "k")``."""
    text = os.fspath(path_or_uri)
    parts = urlsplit(text)
    if len(parts.scheme) <= 1:  # no scheme, or a Windows drive letter
        naming = LocalFileSystem(path=Path(text).expanduser().resolve().as_posix())
        return naming.get_namespace(), naming.get_name()
    if parts.scheme == "file":
        path = unquote(parts.path)
        if parts.netloc and parts.netloc != "localhost":
            return f"file://{parts.netloc}", path
        return "file", path
    if parts.scheme in ("s3", "s3a", "s3n"):
        return S3(bucket_name=parts.netloc, object_key=parts.path.lstrip("/")).get_namespace(), parts.path.lstrip("/")
    if parts.scheme in ("gs", "gcs"):
        return GCS(bucket_name=parts.netloc, object_key=parts.path.lstrip("/")).get_namespace(), parts.path.lstrip("/")
    return f"{parts.scheme}://{parts.netloc}", parts.path.lstrip("/") or "/"


def local_path(namespace: str, name: str) -> Path | None:
    """The local file behind a dataset identity, or ``None`` when it is not a local file."""
    return Path(name) if namespace == "file" else None
