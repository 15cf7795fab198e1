"""``provlineage verify``'s records: from log files or Marquez, then held against a ``--checkpoint``."""

from __future__ import annotations

from typing import Any

from provlineage.keys import Keyring
from provlineage.log_input import reject_unusable_logs
from provlineage.verification import Report, verify_files


def source_report(
    paths: tuple[str, ...],
    marquez_url: str | None,
    api_key: str | None,
    keyring: Keyring,
    *,
    workers: int | None,
    keep_events: bool,
    checkpoint_file: str | None,
    checkpoint_keys: tuple[str, ...] = (),
    every_signature: bool = False,
) -> tuple[Report, str]:
    if checkpoint_file:
        from provlineage.checkpoint import checkpoint_keyring

        checkpoints = checkpoint_keyring(checkpoint_keys, keyring)  # before the log is read: a usage error is quick
    if marquez_url:
        from provlineage.marquez import verify_marquez

        report = verify_marquez(
            marquez_url, keyring, api_key=api_key, keep_events=keep_events, every_signature=every_signature
        )
        sources = marquez_url
    else:
        report = verify_files(
            list(paths), keyring, workers=workers, keep_events=keep_events, every_signature=every_signature
        )
        reject_unusable_logs(report.records, paths)  # not JSON Lines at all: one line and exit 2
        sources = ", ".join(paths)
    if checkpoint_file:
        from provlineage.checkpoint import apply_checkpoint, load_checkpoint

        checkpoint = load_checkpoint(checkpoint_file, checkpoints, event_keyring=keyring)
        apply_checkpoint(report, checkpoint, logs=list(paths))
    return report, sources


def served_lines(
    report: Report, marquez_url: str | None, api_key: str | None
) -> tuple[list[str], dict[str, Any], bool]:
    """``--served``: the run facets Marquez serves, held against the verified events (see marquez_served)."""
    from provlineage.marquez_served import check_served

    check = check_served(report, marquez_url or "", api_key=api_key)
    return check.lines(), check.to_json(), check.ok
