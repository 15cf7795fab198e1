"""``provlineage verify``: prove that a log of signed events was not altered, removed or reordered.

Exit status: 0 when every record verifies and every chain is intact, 1 when anything does not, 2 for usage errors.
With ``--datasets`` / ``--inference-log`` / ``--inference``, 1 also when a dataset changed, an inference log does
not match the roots its verified events signed, or the inference cannot be proven.  With ``--served``, 1 also when
Marquez serves a run or job facet other than the verified events' (:mod:`provlineage.marquez_served`).
"""

from __future__ import annotations

import json
import sys

import click

from provlineage.cli._options import api_key_option, public_keys_option, workers_option
from provlineage.cli._verify_sources import served_lines, source_report
from provlineage.keys import Keyring
from provlineage.verification import Report


def render_text(report: Report, sources: str) -> str:
    counts = report.counts()
    lines = [
        f"provlineage verify: {len(report.records)} records from {sources}",
        "  " + "  ".join(f"{name} {value}" for name, value in counts.items()),
    ]
    for record in report.problems():
        lines.append(f"{record.status.value.upper():11} {record.source}:{record.line}  {record.reason}")
    for record in report.notes():
        lines.append(f"{'NOTE':11} {record.source}:{record.line}  {record.reason}")
    withheld = report.withheld()
    for record in withheld:
        lines.append(f"{'WITHHELD':11} {record.source}:{record.line}  {record.reason}")
    for finding in report.chain:
        where = f" at {finding.source}:{finding.line}" if finding.source else ""
        lines.append(f"{'CHAIN':11} stream {finding.stream}: {finding.kind}{where}: {finding.detail}")
    for summary in report.streams.values():
        lines.append(
            f"{'stream':11} {summary.stream}: {summary.count} events, sequence {summary.first_sequence}..{summary.last_sequence}, head {summary.head_digest}"
        )
    result = "RESULT: OK" if report.ok else "RESULT: FAILED"
    if withheld:
        values = sum(len(record.withheld) for record in withheld)
        result += f" (verified, with {values} value(s) withheld from {len(withheld)} event(s))"
    lines.append(result)
    return "\n".join(lines)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False))
@public_keys_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@workers_option
@click.option(
    "--datasets",
    "recheck_datasets",
    is_flag=True,
    help="Re-hash the datasets the verified events record; list added, missing and changed files.",
)
@click.option(
    "--inference-log",
    "inference_logs",
    multiple=True,
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Check an inference log against the Merkle roots signed in the verified events; repeatable.",
)
@click.option(
    "--inference",
    "inference_id",
    metavar="ID",
    help="Prove that inference ID belongs to a run whose verified event signed its Merkle root.",
)
@click.option(
    "--inference-input",
    "inference_input",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Prove that the input in FILE (JSON, as passed to log_inference) was scored by a verified run.",
)
@click.option(
    "--inference-digest-key",
    "digest_key_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="The deployment's inference digest key, for runs that used keyed (HMAC-SHA-256) digests.",
)
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Signed checkpoint (provlineage checkpoint): fail when the log is shorter than it or disagrees with it.",
)
@click.option(
    "--checkpoint-key",
    "checkpoint_keys",
    multiple=True,
    metavar="PEM",
    help="Auditor's public key trusted for --checkpoint only (never for events); repeatable.",
)
@click.option(
    "--marquez", "marquez_url", metavar="URL", help="Verify every event Marquez holds (instead of log files)."
)
@click.option(
    "--every-signature",
    is_flag=True,
    help="Check each event's own signature too (by default a stream's events are authenticated by their successors' signed links, and only the last event's signature is checked).",
)
@click.option(
    "--served",
    is_flag=True,
    help="With --marquez: also compare the run and job facets Marquez serves (its UI and read API) with the verified events; a difference fails.",
)
@api_key_option
def verify(  # noqa: PLR0917 (one parameter per click option)
    paths: tuple[str, ...],
    public_keys: tuple[str, ...],
    as_json: bool,
    workers: int | None,
    recheck_datasets: bool = False,
    inference_logs: tuple[str, ...] = (),
    inference_id: str | None = None,
    inference_input: str | None = None,
    digest_key_file: str | None = None,
    checkpoint_file: str | None = None,
    checkpoint_keys: tuple[str, ...] = (),
    marquez_url: str | None = None,
    every_signature: bool = False,
    served: bool = False,
    api_key: str | None = None,
) -> None:
    """Verify every record of the JSON Lines logs PATHS (read in the order given, as one log)."""
    if not paths and not marquez_url:
        raise click.UsageError("give at least one log file to verify, or --marquez URL")
    if paths and marquez_url:
        raise click.UsageError("verify log files or --marquez URL, one at a time")
    if served and not marquez_url:
        raise click.UsageError("--served compares what Marquez serves with its events: give --marquez URL")
    keyring = Keyring.from_files(list(public_keys))
    content_checks = recheck_datasets or bool(inference_logs) or inference_id is not None or bool(inference_input)
    report, sources = source_report(
        paths,
        marquez_url,
        api_key,
        keyring,
        workers=workers,
        keep_events=content_checks or served,
        checkpoint_file=checkpoint_file,
        checkpoint_keys=checkpoint_keys,
        every_signature=every_signature,
    )
    extra_lines: list[str] = []
    extra_json: dict[str, object] = {}
    extra_ok = True
    if recheck_datasets or inference_logs or inference_id is not None:
        from provlineage.cli._verify_content import content_checks

        extra_lines, extra_json, extra_ok = content_checks(
            report,
            keyring,
            paths,
            recheck_datasets=recheck_datasets,
            inference_logs=inference_logs,
            inference_id=inference_id,
        )
    if inference_input is not None:
        from provlineage.cli._prove_input import prove_input_lines

        input_lines, input_json, input_ok = prove_input_lines(
            report, paths, inference_logs, inference_input, digest_key_file
        )
        extra_lines, extra_ok = [*extra_lines, *input_lines], extra_ok and input_ok
        extra_json["inferenceInput"] = input_json
    if served:
        served_out, extra_json["served"], served_ok = served_lines(report, marquez_url, api_key)
        extra_lines, extra_ok = [*extra_lines, *served_out], extra_ok and served_ok
    ok = report.ok and extra_ok
    if as_json:
        click.echo(json.dumps({**report.to_json(), **extra_json, "ok": ok}, indent=2))
    else:
        text = render_text(report, sources)
        if content_checks or served:  # the content checks go before the one RESULT line, which then covers them too
            text = "\n".join([*text.splitlines()[:-1], *extra_lines, "RESULT: OK" if ok else "RESULT: FAILED"])
        click.echo(text)
    sys.exit(0 if ok else 1)
