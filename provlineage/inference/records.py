"""Inference records: constants, canonical JSON of inputs and outputs, ids, and appending lines to the log."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from provlineage._internal.canonical import canonical_bytes, prepare
from provlineage._internal.fdlock import locked_open
from provlineage._internal.jsonsafe import to_json_safe
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


# --- canonical JSON, with a fast path for plain small values ------------------------------------------------
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
# Text the C encoder may spell differently from JCS (exponents, integral floats, long integers), or a member the
# JSON rule drops (null), or a key JCS sorts differently (outside the BMP).  A match in a string only costs speed.
_NOT_JCS_SAFE = re.compile(r"[0-9][eE]|\.0(?![0-9])|[0-9]{16}|:null|[\U00010000-\U0010ffff]")


def _string_keyed(value: Any) -> bool:
    """True when every mapping in ``value`` is a dict with ``str`` keys (the C encoder sorts other keys differently)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if type(key) is not str:
                return False
            if isinstance(item, (dict, list, tuple)) and not _string_keyed(item):
                return False
        return True
    if isinstance(value, (list, tuple)):
        return all(_string_keyed(item) for item in value if isinstance(item, (dict, list, tuple)))
    return True


def canonical_json(value: Any) -> bytes:
    """``canonical(value)``: RFC 8785 bytes of ``value`` after the JSON rule.

    Plain dicts/lists of strings, booleans, safe integers and ordinary floats are printed by the C encoder, whose
    output is then byte-identical to JCS; anything else goes through the general converter.
    """
    if _string_keyed(value):
        try:
            text = _ENCODER.encode(value)
        except (TypeError, ValueError):
            text = None
        if text is not None and not _NOT_JCS_SAFE.search(text):
            try:
                return text.encode("utf-8")
            except UnicodeEncodeError:
                pass  # a lone surrogate: let the general path report it
    return canonical_bytes(prepare(to_json_safe(value, exact_text=True)))  # digested: never re-spelled


def inference_id(canonical_input: bytes, model_digest: str | None) -> str:
    """The deterministic id of an input scored by a model (see the module docstring)."""
    return "inf-" + hashlib.sha256((model_digest or "").encode("ascii") + b"\n" + canonical_input).hexdigest()[:32]


def default_log_path(event_log: str | os.PathLike[str]) -> Path:
    """``lineage.jsonl`` -> ``lineage.inferences.jsonl``, beside the event log."""
    path = Path(event_log)
    return path.with_name(path.stem + LOG_SUFFIX)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


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
