"""Which run is active in this thread or task, and how a run names its parent."""

from __future__ import annotations

import contextvars
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openlineage.client.facet_v2 import parent_run

from provlineage.errors import ConfigError

if TYPE_CHECKING:
    from provlineage.tracking.run import Run

PARENT_ENV = "OPENLINEAGE_PARENT_ID"

current: contextvars.ContextVar[Run | None] = contextvars.ContextVar("provlineage_current_run", default=None)


def current_run() -> Run | None:
    """The run of the innermost active ``track()`` in this thread/task, or ``None``."""
    return current.get()


@dataclass(frozen=True)
class ParentLink:
    """A run as another run's parent (with its own root, when it has one)."""

    run_id: str
    namespace: str
    name: str
    root: ParentLink | None = None

    def facet(self) -> parent_run.ParentRunFacet:
        root = None
        if self.root is not None:
            root = parent_run.Root(
                run=parent_run.RootRun(runId=self.root.run_id),
                job=parent_run.RootJob(namespace=self.root.namespace, name=self.root.name),
            )
        return parent_run.ParentRunFacet(
            run=parent_run.Run(runId=self.run_id),
            job=parent_run.Job(namespace=self.namespace, name=self.name),
            root=root,
        )


def parent_link(parent: Any) -> ParentLink | None:
    """``parent=`` as given, else the enclosing ``track()`` run, else ``$OPENLINEAGE_PARENT_ID``."""
    from provlineage.tracking.run import Run

    if parent is None:
        enclosing = current_run()
        if enclosing is not None:
            return enclosing.link()
        parts = os.environ.get(PARENT_ENV, "").rsplit("/", 2)
        return ParentLink(parts[2], parts[0], parts[1]) if len(parts) == 3 and all(parts) else None
    if isinstance(parent, Run):
        return parent.link()
    if isinstance(parent, parent_run.ParentRunFacet):
        root = parent.root and ParentLink(parent.root.run.runId, parent.root.job.namespace, parent.root.job.name)
        return ParentLink(parent.run.runId, parent.job.namespace, parent.job.name, root or None)
    if isinstance(parent, Mapping) and {"runId", "namespace", "name"} <= set(parent):
        return ParentLink(str(parent["runId"]), str(parent["namespace"]), str(parent["name"]))
    raise ConfigError(
        f"parent {parent!r} is not a run",
        'pass a provlineage Run, a ParentRunFacet or {"runId": ..., "namespace": ..., "name": ...}',
    )
