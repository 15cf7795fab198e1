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
    help="Where private_key.pem and public_key.pem go.",
)
@click.option(
    "--inference-digest-key",
    "digest_key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Also (or only) write a secret for keyed inference digests (HMAC-SHA-256) to FILE, mode 0600.",
)
@click.option(
    "--passphrase-env",
    metavar="VAR",
    help="Encrypt the private key with the passphrase held in this environment variable.",
)
@click.option("--force", is_flag=True, help="Replace existing key files.")
def keygen(
    algorithm: str, out_dir: Path | None, digest_key_path: Path | None, passphrase_env: str | None, force: bool
) -> None:
    """Write DIR/private_key.pem (mode 0600) and DIR/public_key.pem and print the key id."""
    if out_dir is None and digest_key_path is None:
        raise click.UsageError("Missing option '--out-dir' (or --inference-digest-key FILE for a digest key alone).")
    if digest_key_path is not None:
        from provlineage.inference.digest_key import write_digest_key

        digest_key = write_digest_key(digest_key_path)
        click.echo(f"inference digest key: {digest_key_path} (id {digest_key.key_id})")
        if out_dir is None:
            return
    paths = write_key_pair(out_dir, algorithm, passphrase=read_passphrase(passphrase_env), force=force)
    click.echo(f"key id: {paths.key_id}")
    click.echo(f"private key: {paths.private_key}")
    click.echo(f"public key: {paths.public_key}")
