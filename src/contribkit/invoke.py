"""contribkit's invoke tasks, for a project's ``tasks.py`` (a public module)::

    from contribkit.invoke import namespace

    ns = namespace()

One task per entry of :data:`contribkit.commands.table.COMMANDS` (``db upgrade`` becomes
``db.upgrade``), with the table's help. Configuration is read when a task runs, so
``invoke --list`` stays fast.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from invoke import Collection, Task

from contribkit.commands.spec import Command

__all__ = ["namespace", "task_for"]


def task_for(command: Command) -> Task:
    """An invoke task whose arguments are the command's options, with their help."""

    def body(c: Any, *args: Any, **kwargs: Any) -> None:
        from invoke.exceptions import Exit

        from contribkit.frontends.runner import run_command

        # Called by invoke with keywords, or from Python as a task is (positionals too).
        bound = signature.bind(c, *args, **kwargs)
        bound.apply_defaults()
        options = {name: value for name, value in bound.arguments.items() if name != "c"}
        # `invoke --debug` (or INVOKE_DEBUG=1) shows tracebacks, as `contribkit --debug` does.
        debug = logging.getLogger("invoke").isEnabledFor(logging.DEBUG)
        code = run_command(command, options, debug=debug)
        if code != 0:
            raise Exit(code=code)

    # invoke reads a task's arguments from its signature: give it the command's options.
    context = inspect.Parameter("c", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    parameters = [
        inspect.Parameter(
            option.name,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=inspect.Parameter.empty if option.positional else option.initial,
        )
        for option in command.options
    ]
    signature = inspect.Signature([context, *parameters])
    body.__signature__ = signature  # type: ignore[attr-defined]
    body.__doc__ = command.help
    body.__name__ = command.path[-1].replace("-", "_")
    help_texts = {option.name: option.help for option in command.options}
    return Task(body, name=command.path[-1], help=help_texts)


def namespace() -> Collection:
    """Every command as a task; grouped commands in sub-collections (``db``, ``ui``, ``dev``)."""
    from contribkit.commands.table import COMMANDS

    ns = Collection()
    for command in COMMANDS:
        *group, _ = command.path
        target = ns
        if group:
            if group[0] not in ns.collections:
                ns.add_collection(Collection(group[0]))
            target = ns.collections[group[0]]
        target.add_task(task_for(command))
    return ns
