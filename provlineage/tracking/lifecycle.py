"""Start and end of a run: the client, strict mode, the environment, the inference seal and sending events.

Lineage never breaks the job: every failure here goes through ``Run._failed`` (raise in strict mode, else log).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from openlineage.client.client import OpenLineageClient
from openlineage.client.event_v2 import RunState

from provlineage._internal import strictness
from provlineage.errors import DeliveryError, ProvlineageError
from provlineage.tracking.events import build_event
from provlineage.tracking.options import STRICT_ENV, truthy
from provlineage.tracking.run import Run

log = logging.getLogger("provlineage.tracking")


def emit(run: Run, state: RunState, error: BaseException | None = None) -> None:
    if run._client is None:
        return
    try:
        event = build_event(run, state, error)
        with strictness.scope(_asked(run)):  # the transport follows the run's strict mode (one rule, see there)
            run._client.emit(event)
    except ProvlineageError as failure:
        run._failed(
            DeliveryError(f"{state.value} event of run {run.run_id} was not sent ({failure})", "see the error above")
        )
    except Exception as failure:  # transports raise what their backend raises
        run._failed(
            DeliveryError(
                f"{state.value} event of run {run.run_id} was not sent ({type(failure).__name__}: {failure})",
                "check the OpenLineage transport configuration and the backend",
            )
        )


def _asked(run: Run) -> bool | None:
    """The strict mode the run imposes on its transport: ``None`` when no switch of the run's own was set."""
    return run.strict if run.options.strict is not None or run.strict else None


def start(run: Run, code: Any = None) -> None:
    """Resolve strict mode and the client, collect the environment, send START (raises only in strict mode)."""
    options = run.options
    run.strict = options.strict if options.strict is not None else truthy(os.environ.get(STRICT_ENV))
    if options.client is not None:
        run._client = options.client
    else:
        try:
            with strictness.scope(_asked(run)):  # strict: a transport that cannot record raises here, before the body
                run._client, run._owns_client = OpenLineageClient(), True
        except Exception as error:
            if isinstance(error, ProvlineageError) and options.strict is None:
                run.strict = True  # only a strict transport (strict: true) raises while it is built
            run._failed(
                DeliveryError(
                    f"cannot build the OpenLineage client ({type(error).__name__}: {error})",
                    "check openlineage.yml or OPENLINEAGE__* variables",
                )
            )
    if options.strict is None and getattr(getattr(run._client, "transport", None), "strict", False) is True:
        run.strict = True
    if options.environment:
        from provlineage.environment import collect_environment, entry_file_of

        try:  # the code that ran: the decorated function's module, else the __main__ script
            run._environment = collect_environment(entry_file=entry_file_of(code))
        except Exception as error:  # collection is meant never to raise; a run must not depend on it
            log.warning("provlineage: environment not recorded (%s: %s)", type(error).__name__, error)
    emit(run, RunState.START)


def _seal_inferences(run: Run, status: str) -> None:
    recorder = run._recorder
    if recorder is None:
        return
    signer = None
    try:  # SigningTransport loads its key lazily: a bad key must not cost the inference log its seal
        signer = getattr(getattr(run._client, "transport", None), "signer", None)
    except Exception as error:
        log.error("provlineage: the inference seal of run %s is not signed (%s)", run.run_id, error)
    try:
        run._inference = recorder.seal(signer, status=status)
    except OSError as error:
        run._inference = recorder.summary()
        run._failed(
            DeliveryError(
                f"cannot write inference log {recorder.path} ({error.strerror or error})",
                "check the directory and free space",
            )
        )
    except ProvlineageError as error:
        run._inference = recorder.summary()
        run._failed(error)


def terminal_state(error: BaseException | None) -> RunState:
    """COMPLETE on a clean exit (``SystemExit(0)`` included), ABORT on ``KeyboardInterrupt``, else FAIL."""
    if error is None or (isinstance(error, SystemExit) and error.code in (None, 0)):
        return RunState.COMPLETE
    return RunState.ABORT if isinstance(error, KeyboardInterrupt) else RunState.FAIL


def finish(run: Run, error: BaseException | None) -> None:
    """Seal the inference log, send the terminal event, close a client this run made."""
    state = terminal_state(error)
    try:
        try:  # strict mode raises a seal failure, but only after the terminal event (with the root) is sent
            _seal_inferences(run, state.value)
        finally:
            run.ended = True
            emit(run, state, error if state is RunState.FAIL else None)
    finally:
        if run._owns_client and run._client is not None:
            try:
                run._client.close(timeout=30.0)
            except Exception as failure:
                log.warning("provlineage: closing the OpenLineage client failed (%s)", failure)
