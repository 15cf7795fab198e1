"""``track()``: a context manager (one run per ``with``) and a decorator (one run per call)."""

from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import os
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from openlineage.client.client import OpenLineageClient

from provlineage.errors import ConfigError, ProvlineageError
from provlineage.tracking import lifecycle
from provlineage.tracking.context import current
from provlineage.tracking.options import TrackOptions
from provlineage.tracking.run import Run

log = logging.getLogger("provlineage.tracking")

F = TypeVar("F", bound=Callable[..., Any])


class Tracker:
    """What :func:`track` returns; the options are checked when it is made, each run starts on entry."""

    def __init__(self, options: TrackOptions, code: Any = None) -> None:
        self.options = options
        self._code = code
        """The decorated function: its module is the code the environment facet names."""
        self._run: Run | None = None
        self._token: contextvars.Token[Run | None] | None = None

    def __enter__(self) -> Run:
        if self._run is not None:
            raise ConfigError(
                f"track({self.options.job_name!r}) is already active", "call track() again for a second run"
            )
        run = Run(self.options)
        lifecycle.start(run, self._code)  # raises only in strict mode, before the body runs
        self._run, self._token = run, current.set(run)
        return run

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        run, token = self._run, self._token
        assert run is not None
        if token is not None:
            current.reset(token)
        self._run, self._token = None, None
        if exc is None:
            lifecycle.finish(run, None)
            return False
        try:
            lifecycle.finish(run, exc)
        except ProvlineageError as failure:  # strict mode: never hide the job's own exception behind ours
            log.error("provlineage (run %s): %s", run.run_id, failure)
        return False

    def __call__(self, function: F) -> F:
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with Tracker(self.options, function):
                    return await function(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(function)
        def run_sync(*args: Any, **kwargs: Any) -> Any:
            with Tracker(self.options, function):
                return function(*args, **kwargs)

        return run_sync  # type: ignore[return-value]


def track(
    job_name: str,
    *,
    kind: str,
    namespace: str | None = None,
    client: OpenLineageClient | None = None,
    parent: Any = None,
    strict: bool | None = None,
    inference_log: str | os.PathLike[str] | None = None,
    retain_payloads: bool = False,
    secret_pattern: str | None = None,
    hash_options: Any = None,
    manifest_limit: int = 1000,
    environment: bool = True,
    inference_digest_key: str | os.PathLike[str] | None = None,
) -> Tracker:
    """Track a custom job as an OpenLineage run; use as ``with track(...) as run:`` or ``@track(...)``.

    ``namespace`` defaults to ``$OPENLINEAGE_NAMESPACE``, else ``"default"``.  ``client`` defaults to a new
    ``OpenLineageClient()`` per run (normal config resolution; closed when the run ends).  ``inference_log``
    defaults to ``$PROVLINEAGE_INFERENCE_LOG``, else ``<event log>.inferences.jsonl`` beside the transport's file
    log, else ``./provlineage.inferences.jsonl``.  ``retain_payloads`` keeps raw inference inputs/outputs in that
    log (they may be personal data).  ``hash_options`` is a :class:`provlineage.hashing.HashOptions`;
    ``manifest_limit`` caps per-file manifests in events.  ``inference_digest_key`` (a file from ``provlineage keygen
    --inference-digest-key``; else ``$PROVLINEAGE_INFERENCE_DIGEST_KEY``) makes inference digests and ids keyed
    HMAC-SHA-256, so a reader of the log cannot recover inputs from a small space.
    """
    return Tracker(
        TrackOptions(
            job_name,
            kind,
            namespace=TrackOptions.default_namespace(namespace),
            client=client,
            parent=parent,
            strict=strict,
            inference_log=inference_log,
            retain_payloads=retain_payloads,
            secret_pattern=secret_pattern,
            hash_options=hash_options,
            manifest_limit=manifest_limit,
            environment=environment,
            inference_digest_key=inference_digest_key,
        )
    )
