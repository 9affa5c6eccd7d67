"""One table, every frontend: the CLI and the invoke tasks offer the same commands, options and
help texts, because both are built from :data:`contribkit.commands.table.COMMANDS`."""

from __future__ import annotations

import argparse

import pytest

from contribkit.commands.spec import Command
from contribkit.commands.table import COMMANDS
from contribkit.frontends.cli import build_parser
from contribkit.invoke import namespace


def cli_parser(command: Command) -> argparse.ArgumentParser:
    parser = build_parser()
    for word in command.path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[word]
    return parser


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_invoke_task_has_the_tables_help_and_options(command: Command) -> None:
    task = namespace()[".".join(command.path)]
    assert task.__doc__ == command.help
    arguments = {arg.name: arg for arg in task.get_arguments()}
    assert set(arguments) == {o.name for o in command.options}
    for option in command.options:
        assert arguments[option.name].help == option.help
        assert arguments[option.name].default == option.initial
        assert arguments[option.name].positional == option.positional


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.in_cli], ids=lambda c: c.name)
def test_cli_subcommand_has_the_tables_help_and_options(command: Command) -> None:
    parser = cli_parser(command)
    assert parser.description == command.help
    actions = {a.dest: a for a in parser._actions if a.dest != "help"}
    assert set(actions) == {o.name for o in command.options}
    for option in command.options:
        assert actions[option.name].help == option.help
        assert actions[option.name].default == option.initial
        if not option.positional:
            assert "--" + option.name.replace("_", "-") in actions[option.name].option_strings


def test_options_reach_the_command_function_converted() -> None:
    """A parsed option arrives under its own name; a converter runs on given text only."""
    seen: dict[str, object] = {}
    [api] = [c for c in COMMANDS if c.path == ("dev", "api")]
    probe = Command(api.path, lambda config, **kw: seen.update(kw), api.help, api.options)
    probe.call(port="4300")
    assert seen == {"host": "127.0.0.1", "port": 4300}
    probe.call()
    assert seen == {"host": "127.0.0.1", "port": None}


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_a_default_is_declared_once_in_the_table(command: Command) -> None:
    """The function takes every option as the table resolved it: a default of its own would be
    a second one, which no frontend ever reaches."""
    import inspect

    parameters = inspect.signature(command.run).parameters
    options = {option.name for option in command.options}
    assert options <= set(parameters)
    with_default = [
        name
        for name, parameter in parameters.items()
        if parameter.default is not inspect.Parameter.empty
    ]
    assert not with_default, f"{command.name}: {with_default}"
