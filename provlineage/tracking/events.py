"""The OpenLineage events of a run: what START carries, and what the terminal event adds."""

from __future__ import annotations

import datetime as _dt
import re
import traceback
from typing import TYPE_CHECKING, Any

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, RunEvent, RunState
from openlineage.client.event_v2 import Run as OLRun
from openlineage.client.facet_v2 import error_message_run, job_type_job

from provlineage import facets as pf
from provlineage._internal.jsonsafe import utf8_safe
from provlineage.redaction import redact_text

if TYPE_CHECKING:
    from provlineage.tracking.run import Run

INTEGRATION = "PROVLINEAGE"


def job_type(kind: str) -> str:
    """``"training"`` -> ``"TRAINING"``; ``"feature-engineering"`` -> ``"FEATURE_ENGINEERING"``."""
    return re.sub(r"[^A-Za-z0-9]+", "_", kind).strip("_").upper() or "JOB"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat()


def error_facet(error: BaseException) -> tuple[error_message_run.ErrorMessageRunFacet, list[str]]:
    """The standard ``errorMessage`` facet (type and message, stack trace), secrets redacted; and what was."""
    message, message_changed = redact_text(utf8_safe(f"{type(error).__name__}: {_text(error)}"))
    trace, trace_changed = redact_text(utf8_safe(_stack_trace(error)))
    facet = error_message_run.ErrorMessageRunFacet(message=message, programmingLanguage="python", stackTrace=trace)
    paths = ["errorMessage.message"] * message_changed + ["errorMessage.stackTrace"] * trace_changed
    return facet, paths


def _text(error: BaseException) -> str:
    try:
        return str(error)
    except Exception as failure:  # a user's __str__ may raise; the FAIL event still goes out
        return f"<left out: str() of the exception raised {type(failure).__name__}>"


def _stack_trace(error: BaseException) -> str:
    try:
        return "".join(traceback.format_exception(type(error), error, error.__traceback__))
    except Exception as failure:
        return f"<left out: the stack trace could not be formatted ({type(failure).__name__})>"


def run_facets(run: Run, state: RunState, error: BaseException | None) -> dict[str, Any]:
    """START: environment and parent.  Terminal events add everything the run logged, and the error.

    Secrets found in metrics and in the error are replaced by ``***`` and listed in ``provlineage_redactions``.
    """
    facets: dict[str, Any] = {}
    if run._environment is not None:  # the distribution list on START only; later events carry its digest
        from provlineage.environment import without_distributions

        environment = run._environment
        facets[pf.ENVIRONMENT] = environment if state is RunState.START else without_distributions(environment)
    if run._parent is not None:
        facets["parent"] = run._parent.facet()
    if state is RunState.START:
        return facets
    if run._hyperparameters_facet is not None:
        facets[pf.HYPERPARAMETERS] = run._hyperparameters_facet
    metrics, redacted = run._metrics_facet()
    if metrics is not None:
        facets[pf.METRICS] = metrics
    if run._inference is not None and run._recorder is not None:
        facets[pf.INFERENCE] = run._inference.facet(
            model_digest=run._recorder.model_digest,
            log_path=run._recorder.path,
            payloads_retained=run._recorder.retain_payloads,
            digest_key_id=run._recorder.digest_key.key_id if run._recorder.digest_key is not None else None,
        )
    if error is not None:
        facets["errorMessage"], found = error_facet(error)
        redacted += found
    if redacted:
        facets[pf.REDACTIONS] = pf.RedactionsRunFacet(paths=sorted(redacted))
    return facets


def build_event(run: Run, state: RunState, error: BaseException | None = None) -> RunEvent:
    with run._lock:
        datasets = dict(run._datasets) if state is not RunState.START else {}
        facets = run_facets(run, state, error)
    inputs = [
        InputDataset(namespace=ns, name=name, facets=dict(f))
        for (role, ns, name), f in datasets.items()
        if role == "input"
    ]
    outputs = [
        OutputDataset(namespace=ns, name=name, facets=dict(f))
        for (role, ns, name), f in datasets.items()
        if role == "output"
    ]
    job_facets = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration=INTEGRATION, jobType=job_type(run.kind)
        )
    }
    return RunEvent(
        eventType=state,
        eventTime=_now(),
        run=OLRun(runId=run.run_id, facets=facets),
        job=Job(namespace=run.namespace, name=run.job_name, facets=job_facets),
        inputs=inputs,
        outputs=outputs,
        producer=pf.PRODUCER,
    )
