"""provlineage: signed, verifiable ML provenance on OpenLineage events."""

from __future__ import annotations

from typing import Any

from provlineage._version import __version__

__all__ = ["__version__", "current_run", "track"]


def __getattr__(name: str) -> Any:
    # Imported lazily so that `import provlineage` (done by the transport in every Airflow task)
    # does not pull in the tracking API and its dependencies.
    if name in ("track", "current_run"):
        from provlineage import tracking

        return getattr(tracking, name)
    raise AttributeError(name)
