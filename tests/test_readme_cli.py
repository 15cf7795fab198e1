"""The README's command lines and the CLI's parsers cannot drift apart (issue 15, item 4).

The parsers are walked from ``provlineage.cli`` (every command in ``COMMANDS``, nested groups too), so a command or
option added by anyone is checked without touching this file:

* the README's "Commands" section has a line for every command, naming every option it has;
* no ``provlineage ...`` line anywhere in the README (fenced blocks and inline code) uses an option its command
  does not have.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from provlineage.cli import COMMANDS, cli

README = Path(__file__).resolve().parents[1] / "README.md"
#: Options every command has, documented once in the Commands section's introduction.
EVERYWHERE = {"-h", "--help", "-v", "--verbose"}
_OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)
_INLINE = re.compile(r"`([^`\n]+)`")
#: Where a shell line stops being provlineage's arguments.
_END = {"|", "||", "&&", ";", ">", ">>", "#", "2>&1"}


def _commands() -> dict[tuple[str, ...], click.Command]:
    context = click.Context(cli)
    found: dict[tuple[str, ...], click.Command] = {(): cli}

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        found[path] = command
        if isinstance(command, click.Group):
            for name in command.list_commands(context):
                sub = command.get_command(context, name)
                if sub is not None:
                    walk(sub, (*path, name))

    for name in COMMANDS:
        walk(cli.get_command(context, name), (name,))
    return found


COMMAND_TREE = _commands()


def _options(command: click.Command) -> set[str]:
    return {
        opt
        for param in command.params
        if isinstance(param, click.Option)
        for opt in [*param.opts, *param.secondary_opts]
    } | EVERYWHERE


def parse_line(line: str) -> tuple[tuple[str, ...], dict[tuple[str, ...], set[str]]] | None:
    """``provlineage A B --x ...`` -> (deepest command path, {command path: options written after it})."""
    tokens = line.strip().removeprefix("$ ").split()
    if not tokens or not re.fullmatch(r"(\S*/)?provlineage", tokens[0]):
        return None
    path: tuple[str, ...] = ()
    used: dict[tuple[str, ...], set[str]] = {(): set()}
    for index, token in enumerate(tokens[1:], 1):
        alternative = token == "|" and tokens[index + 1 : index + 2] and tokens[index + 1].startswith("-")
        if (token in _END and not alternative) or token.startswith("#"):  # a pipe ends it; `| --x` is a synopsis
            break
        command = COMMAND_TREE.get(path)
        if isinstance(command, click.Group) and (*path, token) in COMMAND_TREE:
            path = (*path, token)
            used.setdefault(path, set())
            continue
        used[path].update(_OPTION.findall(token))
    return path, used


def readme_lines(text: str) -> Iterator[str]:
    """Every ``provlineage`` command line: lines of fenced blocks, and inline code spans of the prose."""
    for block in _FENCE.findall(text):
        yield from block.splitlines()
    prose = _FENCE.sub("", text)
    yield from _INLINE.findall(prose)


def section(text: str, title: str) -> str:
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_the_walk_finds_every_command() -> None:
    """The check below is only as good as the walk: it must see the commands and their nested subcommands."""
    assert {path[0] for path in COMMAND_TREE if path} == set(COMMANDS)
    assert "--public-key" in _options(COMMAND_TREE[("verify",)])


@pytest.mark.parametrize("path", sorted(path for path in COMMAND_TREE if path), ids=" ".join)
def test_commands_section_names_every_option(path: tuple[str, ...]) -> None:
    commands = section(README.read_text(encoding="utf-8"), "Commands")
    written: set[str] = set()
    lines = 0
    for line in readme_lines(commands):
        parsed = parse_line(line)
        if parsed is not None and parsed[0] == path:
            lines += 1
            written |= parsed[1].get(path, set())
    name = "provlineage " + " ".join(path)
    own = _options(COMMAND_TREE[path]) - EVERYWHERE
    if isinstance(COMMAND_TREE[path], click.Group) and not own:
        return  # a group with no options of its own is covered by its subcommands' lines
    assert lines, f"README's Commands section has no `{name} ...` line"
    missing = sorted(own - written)
    assert not missing, f"README's Commands line for `{name}` does not name {', '.join(missing)}"


def test_commands_section_documents_the_options_every_command_has() -> None:
    intro = section(README.read_text(encoding="utf-8"), "Commands").split("```", 1)[0]
    for option in ("`-h`/`--help`", "`-v`/`--verbose`", "provlineage --version"):
        assert option in intro


def test_no_readme_line_uses_an_option_its_command_lacks() -> None:
    problems = []
    for line in readme_lines(README.read_text(encoding="utf-8")):
        parsed = parse_line(line)
        if parsed is None:
            continue
        for path, used in parsed[1].items():
            unknown = sorted(used - _options(COMMAND_TREE[path]))
            if unknown:
                problems.append(f"{line.strip()!r}: `provlineage {' '.join(path)}` has no {', '.join(unknown)}")
    assert not problems, "\n".join(problems)


def test_the_checker_catches_drift() -> None:
    """A line naming a removed option, and a command line that leaves one out, are both caught."""
    path, used = parse_line("provlineage verify LOG --public-key K --no-such-flag  # comment --ignored") or ((), {})
    piped = parse_line("provlineage lineage L --public-key K (--model M | --report) --format dot | dot -Tsvg")
    assert piped is not None and piped[1][("lineage",)] == {"--public-key", "--model", "--report", "--format"}
    assert path == ("verify",) and used[("verify",)] == {"--public-key", "--no-such-flag"}
    assert used[("verify",)] - _options(COMMAND_TREE[("verify",)]) == {"--no-such-flag"}
    nested = parse_line("$ .venv/bin/provlineage gateway --config g.yml quarantine list --limit 3 | head")
    assert nested is not None and nested[0] == ("gateway", "quarantine", "list")
    assert nested[1][("gateway",)] == {"--config"} and nested[1][("gateway", "quarantine", "list")] == {"--limit"}
