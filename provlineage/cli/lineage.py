"""``provlineage lineage``: answer the auditor's questions from the verified record, locally or from Marquez.

Exit status:
  0  the answer was found and the whole record verified (and, with --check-files, every file still matches);
  1  an answer was printed, but the record has problems: unverified records, chain findings (gaps, replays, ...),
     datasets changed on disk, an inclusion proof that does not match, or (with --report) models without dataset
     provenance.  The answer never uses unverified records; the output lists them separately;
  2  usage errors, unreadable logs or keys, and questions with no answer (nothing by that name verified).
"""

from __future__ import annotations

import sys

import click

from provlineage.cli._options import api_key_option, marquez_source_option, public_keys_option, workers_option
from provlineage.errors import ProvlineageError
from provlineage.keys import Keyring

FORMATS = ("text", "json", "dot", "prov-json")


def _question(
    model: str | None, dataset: str | None, inference: str | None, run: str | None, report: bool
) -> tuple[str, str]:
    asked = [
        (kind, value)
        for kind, value in (("model", model), ("dataset", dataset), ("inference", inference), ("run", run))
        if value
    ]
    if report:
        asked.append(("report", ""))
    if len(asked) != 1:
        raise click.UsageError("ask exactly one question: --model, --dataset, --inference, --run or --report")
    return asked[0]


def _render(answer: object, output_format: str) -> str:
    if output_format == "json":
        from provlineage.lineage.render_json import render_json

        return render_json(answer)  # type: ignore[arg-type]
    if output_format == "dot":
        from provlineage.lineage.render_dot import render_dot

        return render_dot(answer)  # type: ignore[arg-type]
    if output_format == "prov-json":
        from provlineage.lineage.render_prov import render_prov

        return render_prov(answer)  # type: ignore[arg-type]
    from provlineage.lineage.render_text import render_text

    return render_text(answer)  # type: ignore[arg-type]


@click.command()
@click.argument("logs", nargs=-1, type=click.Path(dir_okay=False))
@marquez_source_option
@api_key_option
@public_keys_option
@click.option(
    "--model",
    metavar="NAME[@VERSION]",
    help="Which datasets, code and configuration produced this model, and what read it. NAME is any name the "
    "output shows (model name, path, namespace:name); VERSION a version or 7+ hex digits of the artifact digest.",
)
@click.option(
    "--dataset", metavar="NAME_OR_PATH", help="Every run that read or wrote this dataset, and every model downstream."
)
@click.option(
    "--inference", metavar="ID", help="The chain inference -> run -> model -> training run -> datasets, with its proof."
)
@click.option("--run", "run_id", metavar="RUN_ID", help="One run in full (a unique prefix of 8+ characters will do).")
@click.option(
    "--report",
    is_flag=True,
    help="What an audit flags: multi-dataset models, models without provenance, unverified records.",
)
@click.option(
    "--check-files", is_flag=True, help="Re-hash local datasets in the answer and compare with the recorded digests."
)
@click.option(
    "--inference-log",
    "inference_logs",
    multiple=True,
    metavar="PATH",
    help="Also search this inference log (if it was moved).",
)
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True)
@workers_option
def lineage(  # noqa: PLR0917 (one parameter per click option)
    logs: tuple[str, ...],
    marquez_url: str | None,
    api_key: str | None,
    public_keys: tuple[str, ...],
    model: str | None,
    dataset: str | None,
    inference: str | None,
    run_id: str | None,
    report: bool,
    check_files: bool,
    inference_logs: tuple[str, ...],
    output_format: str,
    workers: int | None,
) -> None:
    """Answer an audit question from the signed events in LOGS (or in Marquez), using only events that verify."""
    from provlineage.lineage import queries
    from provlineage.lineage.filecheck import check_files as run_file_checks
    from provlineage.lineage.source import lineage_from_files, lineage_from_marquez

    kind, value = _question(model, dataset, inference, run_id, report)
    if bool(logs) == bool(marquez_url):
        raise click.UsageError("give log files or --marquez URL (one of the two)")
    if api_key and not marquez_url:
        raise click.UsageError("--api-key is for --marquez")
    keyring = Keyring.from_files(list(public_keys))
    if marquez_url:
        graph = lineage_from_marquez(marquez_url, keyring, api_key=api_key)
    else:
        graph = lineage_from_files(list(logs), keyring, workers=workers)
    if kind == "model":
        answer = queries.ask_model(graph, value)
    elif kind == "dataset":
        answer = queries.ask_dataset(graph, value)
    elif kind == "inference":
        answer = queries.ask_inference(graph, value, list(inference_logs))
    elif kind == "run":
        answer = queries.ask_run(graph, value)
    else:
        answer = queries.ask_report(graph)
    if check_files:
        refs = queries.latest_recorded(graph) if kind == "report" else answer.dataset_refs()
        answer.file_checks = run_file_checks(refs)
    try:
        click.echo(_render(answer, output_format))
    except ProvlineageError:
        raise
    except (TypeError, ValueError) as error:  # an event value a renderer cannot carry
        raise ProvlineageError(
            f"cannot render the answer as {output_format} ({error})", "try --format json or text"
        ) from error
    sys.exit(1 if answer.problems else 0)
