"""``provlineage checkpoint``: sign what a log holds now, so that later truncation is detected.

Store the checkpoint where the log's writer cannot rewrite it; ``provlineage verify LOG --checkpoint FILE
--checkpoint-key AUDITOR_PUBLIC_PEM`` then fails when the log is shorter than the checkpoint or disagrees with it.
The log must verify first against the event keys (``--public-key``; ``--force`` checkpoints its verified streams
anyway), and the checkpoint is signed with the auditor's own key (``--private-key``), never one of the event keys.
"""

from __future__ import annotations

from pathlib import Path

import click

from provlineage.checkpoint import build_checkpoint, sign_checkpoint, write_checkpoint
from provlineage.errors import ProvlineageError
from provlineage.keys import Keyring, load_private_key, load_public_key
from provlineage.signer import KeySigner
from provlineage.verification import verify_files


@click.command()
@click.argument("logs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Where to write the checkpoint.",
)
@click.option(
    "--private-key",
    required=True,
    type=click.Path(dir_okay=False),
    metavar="PEM",
    help="The auditor's key that signs the checkpoint (not a key that signs events).",
)
@click.option("--passphrase-env", metavar="VAR", help="Environment variable holding the private key's passphrase.")
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    required=True,
    metavar="PEM",
    help="Public key that signed events of the log; repeatable (key rotation).",
)
@click.option(
    "--force", is_flag=True, help="Write a checkpoint of the verified streams even when the log does not fully verify."
)
def checkpoint(  # noqa: PLR0917 (one parameter per click option)
    logs: tuple[str, ...],
    out: Path,
    private_key: str,
    passphrase_env: str | None,
    public_keys: tuple[str, ...],
    force: bool,
) -> None:
    """Write a signed checkpoint of LOGS: per stream, the last sequence number and the head digest."""
    key = load_private_key(private_key, passphrase_env=passphrase_env)
    signer = KeySigner(key)
    keyring = Keyring([load_public_key(path) for path in public_keys])
    if keyring.get(signer.key_id) is not None:
        raise ProvlineageError(
            f"{private_key} is the key of one of the --public-key event keys ({signer.key_id})",
            "sign checkpoints with the auditor's own key (provlineage keygen --out-dir auditor-keys), so that "
            "whoever can rewrite the log cannot re-sign its checkpoint",
        )
    report = verify_files(list(logs), keyring)
    if not report.streams:
        raise ProvlineageError(
            f"{', '.join(logs)} holds no verified chained event", "check the log and the keys (--public-key)"
        )
    if not report.ok and not force:
        problems = len(report.problems()) + len(report.chain)
        raise ProvlineageError(
            f"{', '.join(logs)} does not verify ({problems} problems)",
            "run `provlineage verify` to see them, or pass --force to checkpoint the verified streams anyway",
        )
    write_checkpoint(out, sign_checkpoint(build_checkpoint(report, list(logs)), signer))
    for summary in report.streams.values():
        click.echo(f"stream {summary.stream}: sequence {summary.last_sequence}, head {summary.head_digest}")
    click.echo(f"checkpoint written to {out} (signed by {signer.key_id})")
