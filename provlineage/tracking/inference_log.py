"""Where a run's inference log goes when ``track(inference_log=)`` does not say."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from provlineage.inference import default_log_path
from provlineage.tracking.options import INFERENCE_LOG_ENV

log = logging.getLogger("provlineage.tracking")

FALLBACK_INFERENCE_LOG = "provlineage.inferences.jsonl"


def inference_log_path(configured: str | os.PathLike[str] | None, client: Any) -> Path:
    """``configured``, else ``$PROVLINEAGE_INFERENCE_LOG``, else beside the transport's file log, else ``./``."""
    configured = configured or os.environ.get(INFERENCE_LOG_ENV)
    if configured:
        return Path(configured)
    transport = getattr(client, "transport", None)
    event_log = getattr(transport, "file_log_path", None)
    config = getattr(transport, "config", None)
    if event_log is None and getattr(config, "append", False):
        event_log = getattr(config, "log_file_path", None)  # openlineage's own FileTransport
    if event_log and "://" not in str(event_log):
        return default_log_path(event_log)
    log.warning(
        "provlineage: no inference log configured and the transport writes no local file; using ./%s "
        "(set track(..., inference_log=PATH) or %s)",
        FALLBACK_INFERENCE_LOG,
        INFERENCE_LOG_ENV,
    )
    return Path.cwd() / FALLBACK_INFERENCE_LOG
