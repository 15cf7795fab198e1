"""``provlineage keygen``: create a signing key pair."""

from __future__ import annotations

from pathlib import Path

import click

from provlineage.keys import KEYGEN_ALGORITHMS, read_passphrase, write_key_pair


@click.command()
@click.option("--algorithm", type=click.Choice(list(KEYGEN_ALGORITHMS)), default="ed25519", show_default=True)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Where private_key.pem and public_key.pem go.",
)
@click.option(
    "--passphrase-env",
    metavar="VAR",
    help="Encrypt the private key with the passphrase held in this environment variable.",
)
@click.option("--force", is_flag=True, help="Replace existing key files.")
def keygen(algorithm: str, out_dir: Path, passphrase_env: str | None, force: bool) -> None:
    """Write DIR/private_key.pem (mode 0600) and DIR/public_key.pem and print the key id."""
    paths = write_key_pair(out_dir, algorithm, passphrase=read_passphrase(passphrase_env), force=force)
    click.echo(f"key id: {paths.key_id}")
    click.echo(f"private key: {paths.private_key}")
    click.echo(f"public key: {paths.public_key}")
