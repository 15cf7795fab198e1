"""provlineage's Airflow plugin: signed provenance on the OpenLineage provider's task events.

DAG authors only need :func:`provenance` (and only when task ids do not already say what a task is)::

    from airflow_plugin import provenance
"""

from __future__ import annotations

from airflow_plugin.markers import (
    DATA,
    EVALUATION,
    INFERENCE,
    NONE,
    TRAINING,
    ProvenanceMarker,
    marker_of,
    provenance,
)

__all__ = ["DATA", "EVALUATION", "INFERENCE", "NONE", "TRAINING", "ProvenanceMarker", "marker_of", "provenance"]
