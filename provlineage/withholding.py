"""Take values out of a stored, signed log (a leaked secret, personal data under erasure) so that it still verifies.

Only values signed as salted commitments can be withheld (see :mod:`provlineage._internal.commitments` for the
scheme and which fields qualify).  The log is rewritten in place under the same lock its writers take, keeping every
untouched line byte for byte; a changed line is written again in its canonical form.  ``provlineage verify`` then
reports each changed event as "verified, with N value(s) withheld", never as valid as-is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provlineage._internal import commitments
from provlineage._internal.canonical import SIGNATURE_FACET, canonical_bytes, loads
from provlineage._internal.fdlock import locked_open
from provlineage.errors import ProvlineageError

__all__ = ["Withheld", "WithholdableValue", "list_withholdable", "withhold_in_log"]

LOCK_TIMEOUT = 30.0


@dataclass(frozen=True)
class WithholdableValue:
    """A salted value of a stored event: where it is and (for listing) a short preview."""

    line: int
    run_id: str
    event_type: str
    pointer: str


@dataclass(frozen=True)
class Withheld:
    line: int
    run_id: str
    pointer: str


def _interrupted_path(path: Path) -> Path:
    return path.with_name(path.name + ".withhold-tmp")


def _events(data: bytes) -> Iterator[tuple[int, bytes, Any]]:
    """(line number, raw line with its newline, parsed event or None) for every line of the log."""
    for number, raw in enumerate(data.splitlines(keepends=True), 1):
        try:
            event = loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):  # torn, malformed or not ours: left exactly as it is
            event = None
        yield number, raw, event if isinstance(event, dict) else None


def _signature_facet(event: dict[str, Any]) -> dict[str, Any] | None:
    run = event.get("run")
    facets = run.get("facets") if isinstance(run, dict) else None
    facet = facets.get(SIGNATURE_FACET) if isinstance(facets, dict) else None
    return facet if isinstance(facet, dict) else None


def _run_id(event: dict[str, Any]) -> str:
    run = event.get("run")
    return str(run.get("runId", "")) if isinstance(run, dict) else ""


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ProvlineageError(f"log file {path} does not exist", "check the path") from None
    except OSError as error:
        raise ProvlineageError(f"log file {path} cannot be read ({error.strerror})", "check its permissions") from None


def list_withholdable(path: str | os.PathLike[str], *, run_id: str | None = None) -> list[WithholdableValue]:
    """Every value of the log that can still be withheld."""
    found = []
    for number, _, event in _events(_read(Path(path))):
        facet = _signature_facet(event) if event is not None else None
        salts = facet.get(commitments.SALTS) if facet else None
        if not isinstance(salts, dict) or (run_id is not None and _run_id(event) != run_id):  # type: ignore[arg-type]
            continue
        event_type = str(event.get("eventType", ""))  # type: ignore[union-attr]
        found.extend(WithholdableValue(number, _run_id(event), event_type, pointer) for pointer in salts)  # type: ignore[arg-type]
    return found


def _matches(event: dict[str, Any], pointer: str, value_text: str | None) -> bool:
    if value_text is None:
        return True
    leaf = dict(commitments.withholdable_leaves(event)).get(pointer)
    return (isinstance(leaf, str) and value_text in leaf) or (leaf is not None and str(leaf) == value_text)


def withhold_in_log(
    path: str | os.PathLike[str],
    *,
    pointer: str | None = None,
    run_id: str | None = None,
    value_text: str | None = None,
    dry_run: bool = False,
) -> list[Withheld]:
    """Withhold the salted values at ``pointer`` and/or containing ``value_text`` (of run ``run_id`` if given).

    Raises :class:`ProvlineageError` when nothing matches, so a typo never passes for a done erasure.
    """
    if pointer is None and value_text is None:
        raise ProvlineageError("nothing to withhold was named", "pass --path POINTER and/or --value TEXT")
    if pointer is not None:
        try:
            commitments.parse_pointer(pointer)
        except ValueError as error:
            raise ProvlineageError(
                str(error), "write it like /run/facets/provlineage_hyperparameters/parameters/db_url"
            ) from None
    log_path = Path(path)
    interrupted = _interrupted_path(log_path)
    if interrupted.exists():
        raise ProvlineageError(
            f"an earlier withholding of {log_path} was interrupted; its complete result is {interrupted}",
            f"check it, move it over the log (mv {interrupted} {log_path}), then run the command again",
        )
    _read(log_path)  # one clear error for a missing or unreadable log
    with locked_open(log_path, os.O_RDWR, timeout=LOCK_TIMEOUT) as fd:
        data = b""
        while chunk := os.pread(fd, 1 << 20, len(data)):
            data += chunk
        done: list[Withheld] = []
        parts: list[bytes] = []
        for number, raw, event in _events(data):
            changed = event is not None and _withhold_event(event, number, pointer, run_id, value_text, done)
            if changed:
                ending = b"\n" if raw.endswith(b"\n") else b""
                parts.append(canonical_bytes(event) + ending)
            else:
                parts.append(raw)
        if not done:
            what = " and ".join(
                part
                for part in (f"at {pointer}" if pointer else "", f"holding {value_text!r}" if value_text else "")
                if part
            )
            raise ProvlineageError(
                f"no withholdable value {what} in {log_path}" + (f" for run {run_id}" if run_id else ""),
                f"list what can be withheld with `provlineage withhold {log_path} --list`; values signed in clear "
                "(outside the withholdable fields, or written before provlineage 0.2) cannot be withheld",
            )
        if not dry_run:
            _rewrite(fd, log_path, b"".join(parts))
    return done


def _withhold_event(  # noqa: PLR0917 (the selection is passed through as it came)
    event: dict[str, Any],
    number: int,
    pointer: str | None,
    run_id: str | None,
    value_text: str | None,
    done: list[Withheld],
) -> bool:
    facet = _signature_facet(event)
    salts = facet.get(commitments.SALTS) if facet else None
    if not isinstance(salts, dict) or (run_id is not None and _run_id(event) != run_id):
        return False
    targets = [pointer] if pointer is not None else list(salts)
    changed = False
    for target in targets:
        if target in salts and _matches(event, target, value_text) and commitments.withhold(event, facet, target):  # type: ignore[arg-type]
            done.append(Withheld(number, _run_id(event), target))
            changed = True
    return changed


def _rewrite(fd: int, path: Path, content: bytes) -> None:
    """Replace the log's content in place (writers hold fds to this inode), with a complete copy kept until done."""
    interrupted = _interrupted_path(path)
    temp = os.open(interrupted, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(temp, content)
        os.fsync(temp)
    finally:
        os.close(temp)
    os.ftruncate(fd, 0)
    view = memoryview(content)
    offset = 0
    while offset < len(content):
        offset += os.pwrite(fd, view[offset:], offset)
    os.fsync(fd)
    interrupted.unlink()
