"""Options that several commands share, declared once so they read and behave the same everywhere."""

from __future__ import annotations

import click

public_keys_option = click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    required=True,
    metavar="PEM",
    help="Trusted public key; repeat for a keyring (key rotation). RSA keys also verify old-tool records.",
)

api_key_option = click.option(
    "--api-key",
    envvar="PROVLINEAGE_MARQUEZ_API_KEY",
    metavar="KEY",
    help="Bearer token for Marquez (or $PROVLINEAGE_MARQUEZ_API_KEY).",
)

workers_option = click.option(
    "--workers", type=int, default=None, help="Processes for signature checks (default: all cores for large logs)."
)

marquez_source_option = click.option(
    "--marquez", "marquez_url", metavar="URL", help="Read the events from Marquez (base URL) instead of log files."
)
