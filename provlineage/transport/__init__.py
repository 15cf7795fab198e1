"""openlineage-python transports: signing (:class:`SigningTransport`) and an append-only file log
(:class:`FileLogTransport`).  Use them by dotted path, e.g. ``type: provlineage.transport.SigningTransport``."""

from __future__ import annotations

from provlineage.transport.config import SigningConfig
from provlineage.transport.file_log import FileLogConfig, FileLogTransport
from provlineage.transport.signing import SigningTransport

__all__ = ["FileLogConfig", "FileLogTransport", "SigningConfig", "SigningTransport"]
