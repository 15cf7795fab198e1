"""Inference records: constants, ids, and appending lines to the log (canonical JSON is in ``canonical_values``)."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from provlineage._internal.fdlock import locked_open
from provlineage.errors import ProvlineageError

LOG_FORMAT = "provlineage-inference-log/1"
SEAL_PAYLOAD_TYPE = "application/vnd.provlineage.inference-seal+json;version=1"
RECORD_TYPE = "inference"
SEAL_TYPE = "inferenceSeal"
DEFAULT_BATCH_SIZE = 4096
LOG_SUFFIX = ".inferences.jsonl"
LOCK_TIMEOUT = 30.0


class InferenceLogError(ProvlineageError):
    """An inference log is missing, unreadable, or does not hold what was asked for."""


def inference_id(canonical_input: bytes, model_digest: str | None) -> str:
    """The deterministic id of an input scored by a model (see the module docstring)."""
    return "inf-" + hashlib.sha256((model_digest or "").encode("ascii") + b"\n" + canonical_input).hexdigest()[:32]


def default_log_path(event_log: str | os.PathLike[str]) -> Path:
    """``lineage.jsonl`` -> ``lineage.inferences.jsonl``, beside the event log."""
    path = Path(event_log)
    return path.with_name(path.stem + LOG_SUFFIX)


_second: list[tuple[int, str]] = [(-1, "")]  # (epoch second, its formatted date and time), shared by threads


def _now() -> str:
    """UTC now as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``; every record takes one, so the date part is formatted once a second."""
    seconds, micros = divmod(time.time_ns() // 1000, 1_000_000)
    cached = _second[0]
    if cached[0] != seconds:
        cached = _second[0] = (seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)))
    return f"{cached[1]}.{micros:06d}Z"


def _append(path: Path, text: str) -> None:
    """Append whole lines under the log's lock (as the file backend does), so concurrent writers never interleave."""
    data = text.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    with locked_open(path, os.O_RDWR | os.O_APPEND, timeout=LOCK_TIMEOUT) as fd:
        end = os.lseek(fd, 0, os.SEEK_END)
        if end and os.pread(fd, 1, end - 1) != b"\n":  # a writer crashed mid-line: never glue onto its torn record
            data = b"\n" + data
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        getattr(os, "fdatasync", os.fsync)(fd)
