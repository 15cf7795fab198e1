"""Exporters: the verified lineage graph written into other systems.

Each exporter reads :class:`provlineage.lineage.graph.Lineage` (built only from events whose signature verified)
and lives behind its own pyproject extra; nothing in the core imports this package, the CLI imports it lazily.

* :mod:`provlineage.export.neo4j`: ``provlineage export neo4j`` (extra ``neo4j``).
"""
