"""Where the record comes from: JSON Lines logs on disk, or Marquez's copy of the events.

Either way every record is verified first (:mod:`provlineage.verification`, keeping the parsed events) and only
then turned into a graph, so nothing reaches an answer without passing its signature check.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from provlineage.keys import Keyring
from provlineage.lineage.build import build_lineage
from provlineage.lineage.graph import Lineage
from provlineage.log_input import reject_unusable_logs
from provlineage.verification import verify_files, verify_records


def lineage_from_files(
    paths: Sequence[str | os.PathLike[str]], keyring: Keyring, *, workers: int | None = None
) -> Lineage:
    """Verify the logs (read in the order given, as one log) and build the graph of their verified events."""
    report = verify_files(list(paths), keyring, keep_events=True, workers=workers)
    reject_unusable_logs(report.records, paths)
    return build_lineage(report, [os.fspath(path) for path in paths])


def lineage_from_marquez(url: str, keyring: Keyring, *, api_key: str | None = None) -> Lineage:
    """Read every run event Marquez holds (``GET /api/v1/events/lineage``), verify them, build the graph.

    Marquez returns events ordered by time, not as they were written, so chains are checked by sequence numbers
    and links only.
    """
    from provlineage.marquez import MarquezReader

    reader = MarquezReader(url, api_key=api_key)
    try:
        records = list(reader.events())
    finally:
        reader.close()
    report = verify_records(records, keyring, keep_events=True, in_log_order=False)
    return build_lineage(report, [url])
