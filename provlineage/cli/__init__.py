"""The ``provlineage`` command line.

Each subcommand lives in its own module and is imported only when it runs, so ``provlineage verify``
does not pay for Airflow, PROV or hashing imports it does not use.
"""

from __future__ import annotations

import gc
import importlib
import logging
import sys

import click

from provlineage._version import __version__
from provlineage.errors import ProvlineageError

#: name -> "module:attribute" of a click command.
COMMANDS: dict[str, str] = {
    "checkpoint": "provlineage.cli.checkpoint:checkpoint",
    "demo": "provlineage.cli.demo:demo",
    "export": "provlineage.cli.export:export",
    "flush": "provlineage.cli.flush:flush",
    "gateway": "provlineage.cli.gateway:gateway",
    "hash": "provlineage.cli.hash:hash_command",
    "keygen": "provlineage.cli.keygen:keygen",
    "lineage": "provlineage.cli.lineage:lineage",
    "verify": "provlineage.cli.verify:verify",
    "withhold": "provlineage.cli.withhold:withhold",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        module = importlib.import_module(module_name)
        _resume_collection()
        return _with_verbose(getattr(module, attribute))


#: Holds ``True`` while :func:`main` keeps the cyclic garbage collector off during start-up imports.
_COLLECTION_HELD: list[bool] = []


def _resume_collection() -> None:
    """Start-up is over: the collector runs again for the command's own work.

    Imports make only long-lived objects (modules, classes, functions), which the collector would walk again and
    again without freeing any (~10 ms of ``provlineage verify``'s start-up).
    """
    if _COLLECTION_HELD:
        _COLLECTION_HELD.clear()
        gc.enable()


def _set_logging(verbose: bool) -> None:
    """Debug details on stderr with -v; otherwise warnings only, and urllib3's retry chatter left out."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger().setLevel(logging.DEBUG if verbose else logging.WARNING)
    # retries are reported by our own one-line error when they run out
    logging.getLogger("urllib3").setLevel(logging.NOTSET if verbose else logging.ERROR)


def _verbose_callback(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        _set_logging(True)


def _with_verbose(command: click.Command) -> click.Command:
    """Accept ``-v``/``--verbose`` after the subcommand too (``provlineage verify -v``), as before it.

    Subcommands of a group (``provlineage export neo4j -v``) get it as well.
    """
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _with_verbose(sub)
    taken = {opt for param in command.params for opt in getattr(param, "opts", [])}
    if not any(param.name == "verbose" for param in command.params):
        command.params.append(
            click.Option(
                ["--verbose"] if "-v" in taken else ["-v", "--verbose"],
                is_flag=True,
                expose_value=False,
                callback=_verbose_callback,
                help="Log debug details to stderr (same as provlineage -v).",
            )
        )
    return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="provlineage")
@click.option("-v", "--verbose", is_flag=True, help="Log debug details to stderr.")
def cli(verbose: bool) -> None:
    """Signed, verifiable ML provenance on OpenLineage events."""
    _set_logging(verbose)


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage errors and ProvlineageErrors exit 2 with one line on stderr."""
    if gc.isenabled():  # until the subcommand's modules are imported (see _resume_collection)
        gc.disable()
        _COLLECTION_HELD.append(True)
    try:
        cli.main(args=argv, prog_name="provlineage", standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.exceptions.ClickException as error:
        error.show()
        sys.exit(2)
    except ProvlineageError as error:
        click.echo(f"provlineage: error: {error}", err=True)
        sys.exit(2)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    finally:
        _resume_collection()
