"""``provlineage export neo4j``: write the verified lineage graph into Neo4j, idempotently and incrementally.

Only :class:`~provlineage.lineage.graph.Lineage` is read, so nothing that failed verification reaches the graph;
what was left out (unverified records, chain findings, inference logs that do not match their signed roots) is
returned for the command to report.  The graph model is :mod:`provlineage.export.neo4j_rows`, the Cypher
:mod:`provlineage.export.neo4j_cypher`, the watermark rule :mod:`provlineage.export.neo4j_watermark`.

**Incremental.** Each signing stream gets a ``(:ProvlineageImport {stream, sequence, digest})`` watermark: the
last event imported.  On the next import, runs whose events all sit at or below their stream's watermark are
skipped; every run with a newer event (or an event without a stream) is written again in full, merged from the
whole verified record, so a run that started in one import and completed in the next ends up exactly as a single
import would leave it.  A watermark is trusted only when the log still holds an event with the same stream,
sequence and digest; otherwise (another log, a rewritten stream) that stream is imported in full, which MERGE keys
make harmless.  Writing everything every time would also be correct; the watermark makes re-importing a grown log
cost only its new part.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from neo4j import Driver
from neo4j.exceptions import AuthError, ClientError, Neo4jError, ServiceUnavailable
from neo4j.time import DateTime

from provlineage._internal.instants import normalize_instant
from provlineage.errors import ProvlineageError
from provlineage.export import neo4j_cypher as cypher
from provlineage.export.neo4j_inferences import inference_rows
from provlineage.export.neo4j_rows import GraphRows, graph_rows
from provlineage.export.neo4j_watermark import Mark, runs_to_write, stream_heads
from provlineage.keys import Keyring
from provlineage.lineage.graph import Lineage

DEFAULT_BATCH = 2000


class Neo4jExportError(ProvlineageError):
    """Neo4j could not be reached, refused the credentials, or rejected a write."""


@dataclass
class ExportResult:
    """What one import wrote and what it left out."""

    runs_written: int = 0
    runs_skipped: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    inferences: int = 0
    left_out: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    """Time spent writing each kind of row (for ``benchmarks/bench_neo4j.py``)."""


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


_TIME_KEYS = ("startedAt", "endedAt", "timestamp")


def _native_time(value: Any) -> DateTime | None:
    """An ISO 8601 instant as the driver's ``DateTime`` (stored as a Neo4j ``datetime``, nanoseconds kept)."""
    normal = normalize_instant(value)
    if not isinstance(normal, str):
        return None
    try:
        return DateTime.from_iso_format(normal.replace("Z", "+00:00"))
    except ValueError:
        return None


def native_times(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with their instants (``timestamp`` and the ``props`` times) as driver values."""
    for row in rows:
        for holder in (row, row.get("props") or {}):
            for key in _TIME_KEYS:
                if holder.get(key) is not None:
                    holder[key] = _native_time(holder[key])
    return rows


def _batches(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def left_out(lineage: Lineage) -> list[str]:
    """One line per record kept out of the graph (as ``provlineage lineage`` lists them), and per chain finding."""
    lines = [item.line() for item in lineage.unverified]
    for record in lineage.legacy:
        lines.append(f"{'LEGACY':11} {record.source}:{record.line}  an older tool's record, not an OpenLineage event")
    for finding in lineage.chain:
        where = f" at {finding.source}:{finding.line}" if finding.source else ""
        lines.append(f"{'CHAIN':11} stream {finding.stream}: {finding.kind}{where}: {finding.detail}")
    return lines


class Neo4jExporter:
    """Writes a :class:`Lineage` through an open driver (the caller owns and closes it)."""

    def __init__(self, driver: Driver, *, database: str | None = None, batch_size: int = DEFAULT_BATCH) -> None:
        self.driver = driver
        self.database = database
        self.batch_size = batch_size

    def _run(self, statement: str | None, **parameters: Any) -> list[dict[str, Any]]:
        """Run one statement (``None``: only check that the server answers), errors turned into one line."""
        try:
            if statement is None:
                self.driver.verify_connectivity()
                return []
            records, _, _ = self.driver.execute_query(statement, parameters, database_=self.database)
        except ServiceUnavailable as error:
            raise Neo4jExportError(
                f"Neo4j is not reachable ({_one_line(error)})", "check --uri and that Neo4j is running"
            ) from None
        except AuthError as error:
            raise Neo4jExportError(
                f"Neo4j refused the credentials ({_one_line(error)})",
                "check --user and the variable named by --password-env",
            ) from None
        except ClientError as error:
            raise Neo4jExportError(
                f"Neo4j rejected a statement ({_one_line(error)})", "check --database and the user's rights"
            ) from None
        except Neo4jError as error:
            raise Neo4jExportError(f"Neo4j failed ({_one_line(error)})", "retry; the import is idempotent") from None
        return [record.data() for record in records]

    def ensure_schema(self) -> None:
        for statement in cypher.SCHEMA:
            self._run(statement)

    def read_marks(self) -> dict[str, Mark]:
        rows = self._run(cypher.READ_MARKS)
        return {row["stream"]: Mark(row["stream"], row["sequence"], row["digest"]) for row in rows}

    def write(self, statement: str, rows: list[dict[str, Any]]) -> None:
        for batch in _batches(native_times(rows), self.batch_size):
            self._run(statement, rows=batch)

    def export(
        self,
        lineage: Lineage,
        keyring: Keyring,
        *,
        event_logs: Sequence[str | os.PathLike[str]] = (),
        inference_logs: Sequence[str | os.PathLike[str]] = (),
        full: bool = False,
    ) -> ExportResult:
        """Import ``lineage``: schema first, then the runs past the watermarks, then the new watermarks."""
        self._run(None)
        self.ensure_schema()
        result = ExportResult(left_out=left_out(lineage))
        marks = self.read_marks()
        scope, result.notes = runs_to_write(lineage, {} if full else marks)
        result.runs_written, result.runs_skipped = len(scope), len(lineage.runs) - len(scope)
        rows: GraphRows = graph_rows(lineage, scope)
        found = inference_rows(lineage, scope, keyring, event_logs, inference_logs)
        result.left_out += found.left_out
        for name, statement in [*cypher.WRITES, ("inferences", cypher.INFERENCES)]:
            started = time.perf_counter()
            self.write(statement, found.rows if name == "inferences" else getattr(rows, name))
            result.seconds[name] = time.perf_counter() - started
        result.rows = {**rows.counts(), "inferences": len(found.rows)}
        result.inferences = len(found.rows)
        moved = [head.__dict__ for head in stream_heads(lineage).values() if marks.get(head.stream) != head]
        self.write(cypher.WRITE_MARKS, moved)
        return result
