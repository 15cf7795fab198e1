"""``provlineage gateway``: run the ingest gateway, make API-key hashes, and inspect its quarantine and gaps."""

from __future__ import annotations

import datetime
import json
import sys
import time
from typing import Any

import click

from provlineage.errors import ConfigError

_EXTRA = "pip install 'provlineage[gateway]'"


def _need(module: str) -> None:
    try:
        __import__(module)
    except ImportError as error:
        raise ConfigError(f"provlineage gateway needs {error.name or module}, which is not installed", _EXTRA) from None


def _config(ctx: click.Context) -> Any:
    path = ctx.obj
    if not path:
        raise ConfigError("no gateway config given", "pass --config gateway.yml (or set PROVLINEAGE_GATEWAY_CONFIG)")
    _need("yaml")
    from provlineage.gateway.config import load_config

    return load_config(path)


def _store(ctx: click.Context) -> Any:
    from provlineage.gateway.store import open_store

    return open_store(_config(ctx).store)


@click.group(invoke_without_command=True)
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    envvar="PROVLINEAGE_GATEWAY_CONFIG",
    help="gateway.yml (or $PROVLINEAGE_GATEWAY_CONFIG).",
)
@click.option("--ssl-certfile", type=click.Path(exists=True, dir_okay=False), help="Serve HTTPS with this certificate.")
@click.option("--ssl-keyfile", type=click.Path(exists=True, dir_okay=False), help="The certificate's private key.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning"]), default="info", show_default=True)
@click.pass_context
def gateway(ctx: click.Context, config: str | None, ssl_certfile: str | None, ssl_keyfile: str | None, log_level: str) -> None:  # fmt: skip
    """Run the verifying ingest gateway (POST /api/v1/lineage), or one of its operator commands."""
    ctx.obj = config
    if ctx.invoked_subcommand is not None:
        return
    if bool(ssl_certfile) != bool(ssl_keyfile):
        raise ConfigError("only one of --ssl-certfile and --ssl-keyfile given", "pass both, or neither")
    for module in ("starlette", "uvicorn", "prometheus_client"):
        _need(module)
    settings = _config(ctx)
    import logging

    from provlineage.gateway.server import serve

    serve(settings, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile, log_level=getattr(logging, log_level.upper()))


@gateway.command("hash-key")
@click.option("--new", "new", is_flag=True, help="Generate a new random API key and print it with its hash.")
def hash_key(new: bool) -> None:
    """Print the api_key_sha256 value for gateway.yml (reads the key from stdin unless --new)."""
    from provlineage.gateway.auth import hash_api_key, new_api_key

    if new:
        key = new_api_key()
        click.echo(f"api key (give it to the producer, keep it secret): {key}")
    else:
        key = sys.stdin.readline().strip()
        if not key:
            raise ConfigError("no API key on standard input", "pipe the key in, or use --new to make one")
    click.echo(f"api_key_sha256: {hash_api_key(key)}")


@gateway.group()
def quarantine() -> None:
    """Refused requests, kept with their reason, producer, time and body."""


def _when(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).isoformat(timespec="seconds")


def _entry_json(entry: Any, *, body: bool) -> dict[str, Any]:
    data = {
        "id": entry.id, "time": _when(entry.received_at), "producer": entry.producer, "reason": entry.reason,
        "status": entry.status, "detail": entry.detail, "stream": entry.stream, "sequence": entry.sequence,
    }  # fmt: skip
    if body:
        data["body"] = entry.body
    return data


@quarantine.command("list")
@click.option("--reason", help="Only this reason (e.g. bad-signature, unsigned, sequence-reused).")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def quarantine_list(ctx: click.Context, reason: str | None, limit: int, as_json: bool) -> None:
    """Newest first."""
    store = _store(ctx)
    try:
        entries = store.quarantined(limit=limit, reason=reason)
    finally:
        store.close()
    for entry in entries:
        if as_json:
            click.echo(json.dumps(_entry_json(entry, body=False)))
        else:
            where = f" {entry.stream}#{entry.sequence}" if entry.stream else ""
            click.echo(f"{entry.id}\t{_when(entry.received_at)}\t{entry.status}\t{entry.reason}\t"
                       f"{entry.producer or '-'}{where}\t{entry.detail}")  # fmt: skip
    if not entries and not as_json:
        click.echo("quarantine is empty" if not reason else f"nothing quarantined for {reason}")


@quarantine.command("show")
@click.argument("entry_id", type=int)
@click.pass_context
def quarantine_show(ctx: click.Context, entry_id: int) -> None:
    """One entry with its full body, as JSON."""
    store = _store(ctx)
    try:
        entry = store.quarantine_entry(entry_id)
    finally:
        store.close()
    if entry is None:
        raise ConfigError(f"no quarantine entry {entry_id}", "list them with `provlineage gateway quarantine list`")
    click.echo(json.dumps(_entry_json(entry, body=True), indent=2, ensure_ascii=False))


@quarantine.command("purge")
@click.option(
    "--older-than",
    "days",
    type=click.FloatRange(min=0),
    required=True,
    metavar="DAYS",
    help="Delete entries received more than DAYS days ago.",
)
@click.pass_context
def quarantine_purge(ctx: click.Context, days: float) -> None:
    """Retention: the quarantine keeps every refusal until purged."""
    store = _store(ctx)
    try:
        gone = store.purge_quarantine(time.time() - days * 86400)
    finally:
        store.close()
    click.echo(f"deleted {gone} quarantine entries older than {days:g} days")


@gateway.command("gaps")
@click.pass_context
def gaps(ctx: click.Context) -> None:
    """Streams with sequence numbers not (yet) received, the oldest gap first."""
    store = _store(ctx)
    try:
        found = store.open_gaps()
    finally:
        store.close()
    for stream, head, missing, since in found:
        click.echo(f"{stream}\thead {head}\tmissing {missing}\topen since {_when(since)}")
    if not found:
        click.echo("no open gaps")
