"""``contribkit``: the engine's command line, for projects with or without invoke.

The parser is built from :data:`contribkit.commands.table.COMMANDS`; this module parses and
prints, nothing else.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from contribkit import __version__
from contribkit.commands.spec import Command


def add_command(
    groups: dict[tuple[str, ...], argparse._SubParsersAction], command: Command
) -> None:
    """``command`` as a subcommand, under the parser of its group (``db``, ``ui``, ``dev``)."""
    *group, last = command.path
    parent = groups[tuple(group)]
    parser = parent.add_parser(last, help=command.help, description=command.help)
    for option in command.options:
        if option.positional:
            parser.add_argument(option.name, help=option.help)
        elif option.flag:
            parser.add_argument(*option.flags, action="store_true", help=option.help)
        else:
            parser.add_argument(
                *option.flags, action=_Once, default=option.default, help=option.help
            )
    parser.set_defaults(command=command)


#: The namespace attribute that records which options were given (dropped after parsing).
_GIVEN = "_contribkit_given"


class _Once(argparse.Action):
    """An option that takes a value is given once: of ``--dialect sqlite --dialect postgresql``
    only the last one ran."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option: Any = None
    ) -> None:
        given = getattr(namespace, _GIVEN, set())
        if self.dest in given:
            raise argparse.ArgumentError(
                self, f"given twice ({getattr(namespace, self.dest)}, {values}): give it once"
            )
        setattr(namespace, _GIVEN, given | {self.dest})
        setattr(namespace, self.dest, values)


def build_parser() -> argparse.ArgumentParser:
    from contribkit.commands.table import COMMANDS, GROUPS

    parser = argparse.ArgumentParser(
        prog="contribkit",
        description="Contributor workflows for database-backed Python servers.",
    )
    parser.add_argument("--version", action="version", version=f"contribkit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    top = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
    groups: dict[tuple[str, ...], argparse._SubParsersAction] = {(): top}
    for command in COMMANDS:
        if not command.in_cli:
            continue
        group = command.path[:-1]
        if group and group not in groups:
            group_parser = top.add_parser(group[0], help=GROUPS[group[0]])
            groups[group] = group_parser.add_subparsers(
                dest=f"{group[0]}_command", required=True, metavar="COMMAND"
            )
        add_command(groups, command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from contribkit.frontends.runner import run_command

    args = vars(build_parser().parse_args(argv))
    args.pop(_GIVEN, None)
    command = args.pop("command")
    return run_command(command, args, debug=args.pop("debug"))


def entry() -> None:
    """The ``contribkit`` console script."""
    from contribkit.frontends.runner import INTERRUPTED, exit_with

    try:
        code = main()
    except KeyboardInterrupt:  # before run() took over (while parsing): nothing was started yet
        code = INTERRUPTED
    exit_with(code)


if __name__ == "__main__":
    entry()
