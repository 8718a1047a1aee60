"""Every command and group explains itself, and every command's example is a valid command line."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

import pytest
import typer
from typer.core import TyperCommand, TyperGroup

from azctl.main import app
from tests.commands.helpers import Cli, assert_usage_error, succeeded

ROOT = typer.main.get_command(app)
# The nouns and their verbs, as the README lists them; `serve`, `tui` and `demo` are commands.
VERBS = {
    "db": {"upgrade", "status"},
    "venue": {"add", "list", "show", "edit"},
    "show": {"add", "list", "show", "edit", "publish", "unpublish"},
    "perf": {"add", "schedule", "list", "show", "capacity", "open", "close", "cancel", "move"},
    "res": {"list", "show", "cancel", "resend", "expire", "move", "flag"},
    "checkin": {"scan", "manual", "list", "undo", "conflicts"},
    "staff": {"add", "list", "disable", "enable", "token"},
    "mail": {"send", "test"},
    "waitlist": {"list", "remove"},
}


Command = TyperCommand | TyperGroup


def walk(command: Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Command]]:
    yield path, command
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            yield from walk(sub, (*path, name))


COMMANDS = list(walk(ROOT))
LEAVES = [(path, command) for path, command in COMMANDS if not isinstance(command, TyperGroup)]


def name_of(path: tuple[str, ...]) -> str:
    return " ".join(("azctl", *path))


def test_the_tree_has_the_designed_nouns_and_verbs():
    groups = {
        path[0]: set(command.commands)
        for path, command in COMMANDS
        if len(path) == 1 and isinstance(command, TyperGroup)
    }
    assert groups == VERBS
    assert {("demo",), ("report",)} <= {path for path, _command in LEAVES}


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[name_of(p) for p, _ in COMMANDS])
def test_every_command_and_group_has_help(path: tuple[str, ...], command: Command):
    assert (command.help or "").strip(), f"{name_of(path)} has no help"


@pytest.mark.parametrize(("path", "command"), LEAVES, ids=[name_of(p) for p, _ in LEAVES])
def test_every_command_shows_an_example(cli: Cli, path: tuple[str, ...], command: Command):
    assert "Example:" in command.help
    result = succeeded(cli(*path, "--help"))
    assert "Example:" in result.stdout
    assert f"Usage: {name_of(path)} " in result.stdout


def example_command_lines(help_text: str) -> list[list[str]]:
    """The `azctl …` command lines in a help text's example, without env, pipes or redirects."""
    example = " ".join(help_text.split("Example:", 1)[1].split())
    lines = []
    for segment in example.split("&&"):
        words = shlex.split(segment.split(">")[0])
        while words and "=" in words[0]:
            words.pop(0)
        lines.append(words)
    return lines


def parse(words: list[str]) -> tuple[str, ...]:
    """Parse a command line as Click would; returns the command path it names."""
    assert words[0] == "azctl", words
    command, path, rest = ROOT, (), words[1:]
    while isinstance(command, TyperGroup):
        name, rest = rest[0], rest[1:]
        command, path = command.commands[name], (*path, name)
    command.make_context(name_of(path), list(rest))
    return path


@pytest.mark.parametrize(("path", "command"), LEAVES, ids=[name_of(p) for p, _ in LEAVES])
def test_every_example_is_a_valid_command_line(path: tuple[str, ...], command: Command):
    parsed = [parse(words) for words in example_command_lines(command.help)]
    assert path in parsed


def test_root_help(cli: Cli):
    for flag in ("--help", "-h"):
        result = succeeded(cli(flag))
        assert "azctl: the box office of a small theatre company." in result.stdout
        for noun in (*VERBS, "demo"):
            assert f" {noun} " in result.stdout


def test_no_arguments_shows_the_help_as_a_usage_error(cli: Cli):
    bare = cli()
    assert bare.exit_code == 2
    assert "Usage: azctl [OPTIONS] COMMAND [ARGS]..." in bare.stdout
    noun = cli("perf")
    assert noun.exit_code == 2
    assert "Usage: azctl perf [OPTIONS] COMMAND [ARGS]..." in noun.stdout
    assert " schedule " in noun.stdout


def test_an_unknown_command_is_a_usage_error(cli: Cli):
    assert_usage_error(cli("perf", "reschedule", "1"), "No such command 'reschedule'.")
