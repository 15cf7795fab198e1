"""``provlineage verify``: prove that a log of signed events was not altered, removed or reordered.

Exit status: 0 when every record verifies and every chain is intact, 1 when anything does not, 2 for usage errors.
"""

from __future__ import annotations

import json
import sys

import click

from provlineage.keys import Keyring
from provlineage.verification import Report, verify_files


def render_text(report: Report, sources: str) -> str:
    counts = report.counts()
    lines = [
        f"provlineage verify: {len(report.records)} records from {sources}",
        "  " + "  ".join(f"{name} {value}" for name, value in counts.items()),
    ]
    for record in report.problems():
        lines.append(f"{record.status.value.upper():11} {record.source}:{record.line}  {record.reason}")
    for finding in report.chain:
        where = f" at {finding.source}:{finding.line}" if finding.source else ""
        lines.append(f"{'CHAIN':11} stream {finding.stream}: {finding.kind}{where}: {finding.detail}")
    for summary in report.streams.values():
        lines.append(f"{'stream':11} {summary.stream}: {summary.count} events, sequence {summary.first_sequence}..{summary.last_sequence}, head {summary.head_digest}")
    lines.append("RESULT: OK" if report.ok else "RESULT: FAILED")
    return "\n".join(lines)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--public-key", "public_keys", multiple=True, required=True, metavar="PEM", help="Trusted public key; repeat for a keyring (key rotation). RSA keys also verify old-tool records.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--workers", type=int, default=None, help="Processes for signature checks (default: all cores for large logs).")
def verify(paths: tuple[str, ...], public_keys: tuple[str, ...], as_json: bool, workers: int | None) -> None:
    """Verify every record of the JSON Lines logs PATHS (read in the order given, as one log)."""
    if not paths:
        raise click.UsageError("give at least one log file to verify")
    keyring = Keyring.from_files(list(public_keys))
    report = verify_files(list(paths), keyring, workers=workers)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(render_text(report, ", ".join(paths)))
    sys.exit(0 if report.ok else 1)
