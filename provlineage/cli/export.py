"""``provlineage export``: the verified lineage graph written into another system (``export neo4j``).

Exit status of ``export neo4j``: 0 when everything in the record verified and was imported; 1 when the import
ran but left something out (unverified records, chain findings, inference logs that do not match their signed
Merkle roots; each is listed); 2 for usage errors, unreadable logs or keys, an unreachable Neo4j, or a missing
``neo4j`` extra.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from provlineage.cli._options import api_key_option, marquez_source_option, public_keys_option, workers_option
from provlineage.errors import ConfigError
from provlineage.keys import Keyring

EXTRA_HINT = "pip install 'provlineage[neo4j]'"


@click.group()
def export() -> None:
    """Write the verified lineage graph into another system."""


def _driver(uri: str, user: str, password_env: str | None) -> Any:
    try:
        import neo4j
    except ImportError:
        raise ConfigError("the Neo4j export needs the neo4j driver, which is not installed", EXTRA_HINT) from None
    variable = password_env or "NEO4J_PASSWORD"
    password = os.environ.get(variable)
    if password is None and password_env:
        raise ConfigError(
            f"environment variable {password_env} (--password-env) is not set", "export the password in it"
        )
    auth = (user, password) if password is not None else None
    try:
        return neo4j.GraphDatabase.driver(uri, auth=auth, notifications_min_severity="OFF")
    except ValueError as error:  # a malformed URI or scheme
        raise ConfigError(
            f"--uri {uri} is not a Neo4j URI ({error})", "use bolt://HOST:7687 or neo4j://HOST:7687"
        ) from None


_EXAMPLE = """\b
Example (a Neo4j from Docker, see the README's "Neo4j export"):
  export NEO4J_PASSWORD=change-me-please
  provlineage export neo4j provlineage-demo/lineage.jsonl \\
      --public-key provlineage-demo/keys/public_key.pem --uri bolt://localhost:7687
"""


@export.command("neo4j", epilog=_EXAMPLE)
@click.argument("logs", nargs=-1, type=click.Path(dir_okay=False))
@marquez_source_option
@api_key_option
@public_keys_option
@click.option(
    "--uri",
    required=True,
    envvar="NEO4J_URI",
    metavar="URI",
    help="Neo4j Bolt URI, e.g. bolt://localhost:7687 (or $NEO4J_URI).",
)
@click.option(
    "--user",
    default="neo4j",
    show_default=True,
    envvar="NEO4J_USER",
    metavar="USER",
    help="Neo4j user (or $NEO4J_USER).",
)
@click.option(
    "--password-env",
    metavar="VAR",
    help="Environment variable holding the password (default NEO4J_PASSWORD; no password there: no authentication).",
)
@click.option("--database", metavar="NAME", help="Neo4j database (default: the server's default database).")
@click.option(
    "--inference-log",
    "inference_logs",
    multiple=True,
    type=click.Path(dir_okay=False),
    metavar="PATH",
    help="Also import inferences from this log (if it was moved); repeatable.",
)
@click.option("--full", is_flag=True, help="Ignore the import watermarks and merge every run again.")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    metavar="N",
    help="Rows per UNWIND transaction.",
)
@workers_option
def export_neo4j(  # noqa: PLR0917 (one parameter per click option)
    logs: tuple[str, ...],
    marquez_url: str | None,
    api_key: str | None,
    public_keys: tuple[str, ...],
    uri: str,
    user: str,
    password_env: str | None,
    database: str | None,
    inference_logs: tuple[str, ...],
    full: bool,
    batch_size: int,
    workers: int | None,
) -> None:
    """Import the verified events of LOGS (or of Marquez) into Neo4j; what does not verify is left out and listed."""
    if bool(logs) == bool(marquez_url):
        raise click.UsageError("give log files or --marquez URL (one of the two)")
    if api_key and not marquez_url:
        raise click.UsageError("--api-key is for --marquez")
    driver = _driver(uri, user, password_env)
    from provlineage.export.neo4j import Neo4jExporter
    from provlineage.lineage.source import lineage_from_files, lineage_from_marquez

    keyring = Keyring.from_files(list(public_keys))
    if marquez_url:
        graph = lineage_from_marquez(marquez_url, keyring, api_key=api_key)
    else:
        graph = lineage_from_files(list(logs), keyring, workers=workers)
    try:
        result = Neo4jExporter(driver, database=database, batch_size=batch_size).export(
            graph, keyring, event_logs=list(logs), inference_logs=list(inference_logs), full=full
        )
    finally:
        driver.close()
    sources = ", ".join(graph.sources)
    click.echo(
        f"provlineage export neo4j: {graph.verified_count} verified of {graph.record_count} records from {sources}"
    )
    click.echo(
        f"  runs written {result.runs_written}, unchanged since the last import {result.runs_skipped}, "
        f"inferences {result.inferences}"
    )
    for note in result.notes:
        click.echo(f"  note: {note}")
    if result.left_out:
        click.echo(f"LEFT OUT ({len(result.left_out)}), not imported:")
        for line in result.left_out:
            click.echo(f"  {line}")
    click.echo("RESULT: imported" if not result.left_out else "RESULT: imported, with records left out")
    sys.exit(1 if result.left_out else 0)
