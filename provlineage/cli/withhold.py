"""``provlineage withhold``: take a leaked secret or personal data out of a signed log; it still verifies.

Only values that were signed as salted commitments can be withheld (hyperparameters, captured environment
variables and git details, error messages and stack traces, the job's source-code URL).  ``verify`` then reports
each changed event as "verified, with N value(s) withheld".
"""

from __future__ import annotations

import click

from provlineage.withholding import list_withholdable, withhold_in_log


@click.command()
@click.argument("log", type=click.Path(dir_okay=False))
@click.option(
    "--path", "pointer", metavar="POINTER", help="JSON Pointer of the value in the event, as --list shows it."
)
@click.option("--value", "value_text", metavar="TEXT", help="Withhold every withholdable value that contains TEXT.")
@click.option("--run", "run_id", metavar="RUN_ID", help="Only in the events of this run.")
@click.option("--list", "list_only", is_flag=True, help="List the values that can be withheld, and change nothing.")
@click.option("--dry-run", is_flag=True, help="Say what would be withheld, and change nothing.")
def withhold(  # noqa: PLR0917 (one parameter per click option)
    log: str, pointer: str | None, value_text: str | None, run_id: str | None, list_only: bool, dry_run: bool
) -> None:
    """Withhold values of LOG's signed events (rewritten in place, under its writers' lock)."""
    if list_only:
        values = list_withholdable(log, run_id=run_id)
        for item in values:
            click.echo(f"line {item.line}  run {item.run_id}  {item.event_type:8}  {item.pointer}")
        click.echo(f"{len(values)} withholdable value(s) in {log}")
        return
    done = withhold_in_log(log, pointer=pointer, run_id=run_id, value_text=value_text, dry_run=dry_run)
    for item in done:
        click.echo(f"line {item.line}  run {item.run_id}  {item.pointer}")
    events = len({item.line for item in done})
    verb = "would withhold" if dry_run else "withheld"
    click.echo(f"{verb} {len(done)} value(s) in {events} event(s) of {log}")
