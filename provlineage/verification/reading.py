"""Read JSON Lines logs as (source, line number, text)."""

from __future__ import annotations

import os

from provlineage.errors import ProvlineageError


def read_log(path: str | os.PathLike[str]) -> list[tuple[str, int, str]]:
    """Non-empty lines of a JSON Lines log as (source, line number, text)."""
    source = str(path)
    try:
        with open(path, encoding="utf-8", errors="surrogateescape", newline="\n") as handle:
            # not isspace(): the same test as strip(), without copying every line
            return [(source, number, line) for number, line in enumerate(handle, 1) if not line.isspace()]
    except FileNotFoundError:
        raise ProvlineageError(
            f"log file {source} does not exist", "check the path (the file backend writes the `path` you configured)"
        ) from None
    except IsADirectoryError:
        raise ProvlineageError(f"{source} is a directory, not a log file", "pass the JSON Lines file itself") from None
    except OSError as error:
        raise ProvlineageError(
            f"log file {source} cannot be read ({error.strerror})", "check its permissions"
        ) from None
