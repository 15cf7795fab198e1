"""``provlineage flush``: re-send every spooled event now, in order.

The transport is built from the configuration exactly as openlineage-python builds it: ``--config FILE`` is an
``openlineage.yml`` (its ``transport`` section) or a JSON/YAML file holding the transport itself (Airflow's
``[openlineage] transport`` value); without it, OpenLineageClient's own resolution is used (``$OPENLINEAGE_CONFIG``,
``./openlineage.yml``, ``~/.openlineage/openlineage.yml``, ``OPENLINEAGE__TRANSPORT__...``).  Relative paths in a
config file are resolved against its directory, as when the job ran.

An entry that cannot be read is moved to ``unreadable/`` in its spool directory, with the reason in
``dead-letter.jsonl``, and the rest is sent.

Exit status: 0 when every spool is empty afterwards, 1 when events remain (the backend is still failing), 2 for
usage or configuration errors.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import yaml

from provlineage.errors import ConfigError


def _transport_config(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist", "pass your openlineage.yml with --config") from None
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"config file {path} cannot be read ({error})", "pass a YAML or JSON file") from None
    if isinstance(data, dict) and isinstance(data.get("transport"), dict):
        return data["transport"]
    if isinstance(data, dict) and "type" in data:
        return data
    raise ConfigError(
        f"config file {path} has no `transport` section", "pass the openlineage.yml that configures SigningTransport"
    )


def load_signing_transport(config: Path | None) -> Any:
    """The SigningTransport configured by ``config`` (or by openlineage-python's usual lookup)."""
    from provlineage.transport import SigningTransport

    if config is not None:
        from openlineage.client.transport import get_default_factory

        from provlineage.transport.config_source import config_file

        try:
            with config_file(config):  # relative paths in it are relative to its directory
                transport = get_default_factory().create(_transport_config(config))
        except ConfigError:
            raise
        except Exception as error:  # openlineage-python's factory raises ImportError, RuntimeError, TypeError, ...
            raise ConfigError(
                f"the transport in config file {config} cannot be built ({type(error).__name__}: {error})",
                "fix its `transport` section (type: provlineage.transport.SigningTransport)",
            ) from None
    else:
        from openlineage.client import OpenLineageClient

        transport = OpenLineageClient().transport
    if not isinstance(transport, SigningTransport):
        where = config or "the OpenLineage configuration"
        raise ConfigError(
            f"{where} configures transport {transport.kind!r}, not provlineage.transport.SigningTransport",
            "pass the config whose transport type is provlineage.transport.SigningTransport",
        )
    return transport


@click.command()
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="openlineage.yml (default: openlineage-python's lookup).",
)
def flush(config: Path | None) -> None:
    """Re-send the events spooled while a backend was failing, oldest first."""
    transport = load_signing_transport(config)
    results = transport.flush()
    spools = {delivery.target: delivery.spool.directory for delivery in transport.deliveries}
    remaining = 0
    for result in results:
        line = f"{result.target}: re-sent {result.sent}"
        if result.dead_lettered:
            line += (
                f", {result.dead_lettered} refused or unreadable (see {spools[result.target] / 'dead-letter.jsonl'})"
            )
        if result.remaining:
            line += f", {result.remaining} still spooled ({result.error})"
        remaining += result.remaining
        click.echo(line)
    for directory, count, destination in transport.orphaned_spools():
        remaining += count
        if destination is None:  # spooled by a version that named spools by backend alone
            click.echo(
                f"{directory}: {count} spooled events from before spools were kept per destination; if they are "
                f"this configuration's, move its 0*.json files into the spool of the backend they were meant for "
                f"(under {transport.spool_dir}), then flush"
            )
            continue
        click.echo(
            f"{directory}: {count} spooled events for {destination}, which no backend of this configuration sends "
            f"to (renamed, pointed elsewhere, or another configuration's; the configuration with that backend name "
            f"and destination sends them with its flush)"
        )
    transport.close()
    sys.exit(1 if remaining else 0)
