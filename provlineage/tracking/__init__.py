"""``provlineage.track()``: OpenLineage run events for custom ML jobs (training, inference, evaluation, ...).

::

    with provlineage.track("churn.train", kind="training") as run:
        run.log_dataset("data/train.csv")
        run.log_hyperparameters({"lr": 0.1, "api_key": "..."})   # api_key is stored as "***"
        ...
        run.log_model("models/churn.json", name="churn", version="3")

or as a decorator (``@provlineage.track("churn.train", kind="training")``; the handle is :func:`current_run`).

What is emitted, through openlineage-python's ``OpenLineageClient`` (so ``openlineage.yml`` / ``OPENLINEAGE__*``
decide the transport, e.g. provlineage's ``SigningTransport``):

* **START** on entry: the ``jobType`` job facet (``processingType="BATCH"``, ``integration="PROVLINEAGE"``,
  ``jobType`` = ``kind`` upper-cased with non-alphanumerics as ``_``: ``TRAINING``, ``INFERENCE``, ``EVALUATION``),
  ``provlineage_environment`` (collected once per process) and ``parent`` when there is one.
* **COMPLETE** on a clean exit, or **FAIL** with the standard ``errorMessage`` facet (exception type and message,
  ``programmingLanguage="python"``, the stack trace) when the body raises; the exception is re-raised.
  ``KeyboardInterrupt`` gives **ABORT**; ``SystemExit`` with status 0 counts as a clean exit.  The terminal event
  carries *everything* the run logged: all inputs and outputs with their facets, ``provlineage_hyperparameters``,
  ``provlineage_metrics``, ``provlineage_inference`` and the environment.  No RUNNING events are sent: consumers
  such as Marquez merge a run's events, and one complete terminal event is what auditors read.

Failures never break the job: a dataset that cannot be hashed is logged as one error naming it and is still
recorded (without ``provlineage_datasetHash``, so lineage stays connected and the gap is visible); an event that
cannot be sent is logged.  In strict mode (``strict=True``, ``PROVLINEAGE_STRICT=1``, or a transport whose
``strict`` is true) both raise instead.

The parent run is, in order: ``parent=`` (a :class:`Run`, a ``ParentRunFacet`` or ``{"runId", "namespace",
"name"}``), the enclosing ``track()`` run, then ``OPENLINEAGE_PARENT_ID`` (``namespace/job/runId``, the variable
OpenLineage integrations pass to child processes).

Modules: ``options`` (the frozen :class:`TrackOptions`), ``tracker`` (``track()`` itself), ``run`` (the ``log_*``
API), ``events`` (event building), ``lifecycle`` (start and finish), ``context`` (current run, parents).
"""

from __future__ import annotations

from provlineage.tracking.context import current_run
from provlineage.tracking.events import job_type
from provlineage.tracking.options import TrackOptions
from provlineage.tracking.run import DatasetRef, Run
from provlineage.tracking.tracker import Tracker, track

__all__ = ["DatasetRef", "Run", "TrackOptions", "Tracker", "current_run", "job_type", "track"]
