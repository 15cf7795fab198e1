"""``provlineage hash``: print the content digest of files, directories and remote URIs.

Kept to the hashing imports only (no OpenLineage client unless ``--json`` asks for facets), so a
digest costs little more than reading the bytes.
"""

from __future__ import annotations

import json
import os

import click

from provlineage.hashing import DatasetDigest, HashOptions, hash_uri
from provlineage.hashing.failures import os_failure
from provlineage.hashing.options import DEFAULT_MANIFEST_LIMIT
from provlineage.hashing.uri import local_path


def _check_local_paths_exist(paths: tuple[str, ...]) -> None:
    """Fail on a missing path before spending minutes hashing the ones before it."""
    for path in paths:
        local = local_path(path)
        if local is not None:
            try:
                os.stat(local)
            except OSError as error:
                raise os_failure(path, error) from None


def _facet_json(digest: DatasetDigest) -> dict[str, object]:
    from openlineage.client.serde import Serde

    return Serde.to_dict(digest.to_facet())


@click.command("hash")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--no-cache", is_flag=True, help="Read every file even if an unchanged copy is in the hash cache.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of provlineage_datasetHash facets.")
@click.option(
    "--ignore",
    "ignore",
    multiple=True,
    metavar="PATTERN",
    help="fnmatch pattern of entries to leave out; no '/' matches names at any depth, a trailing '/' only "
    "directories. Repeatable.",
)
@click.option("--follow-symlinks", is_flag=True, help="Hash what symlinks point to instead of their link text.")
@click.option("--workers", type=click.IntRange(min=1), help="Files hashed at once (default: CPU count).")
@click.option(
    "--manifest-limit",
    type=click.IntRange(min=0),
    default=DEFAULT_MANIFEST_LIMIT,
    show_default=True,
    help="Manifest entries kept in --json facets.",
)
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal for > 256 MiB).")
def hash_command(  # noqa: PLR0917 (one parameter per click option)
    paths: tuple[str, ...],
    no_cache: bool,
    as_json: bool,
    ignore: tuple[str, ...],
    follow_symlinks: bool,
    workers: int | None,
    manifest_limit: int,
    progress: bool | None,
) -> None:
    """Print "sha256:<hex>  <bytes>  <files>  PATH" for each PATH (file, directory, file:// or fsspec URI).

    A directory's digest is SHA-256 over its sorted "<hex>  <path>" manifest lines (sha256-manifest-v1).
    """
    options = HashOptions(
        use_cache=not no_cache,
        ignore=ignore,
        workers=workers,
        progress=progress,
        manifest_limit=manifest_limit,
        follow_symlinks=follow_symlinks,
    )
    _check_local_paths_exist(paths)
    if as_json:
        facets = [_facet_json(hash_uri(path, options)) for path in paths]
        click.echo(json.dumps(facets, indent=2))
        return
    for path in paths:
        digest = hash_uri(path, options)
        click.echo(f"{digest.prefixed}  {digest.size}  {digest.file_count}  {path}")
