"""The text renderer: short status lines and the final error line; rich is imported only when
something is printed. Workflows report through :mod:`contribkit.core.reporting`, not here."""

from __future__ import annotations

import sys
from functools import cache
from typing import Any


@cache
def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def step(message: str) -> None:
    """A status line for one step of long work: ``→ sqlite: generate``."""
    _marked("[cyan]→[/]", message)


def ok(message: str) -> None:
    _marked("[green]✓[/]", message)


def warn(message: str) -> None:
    _marked("[yellow]![/]", message)


def _marked(mark: str, message: str) -> None:
    """``message`` after a coloured mark, as it is: ``[tool.contribkit]`` is not markup."""
    from rich.markup import escape

    _console().print(f"{mark} {escape(message)}")


def info(message: str = "") -> None:
    _console().print(message, markup=False)


def render(event: Any) -> None:
    """The text rendering of a :class:`~contribkit.core.reporting.Event`: the reporter unless a
    frontend chose another."""
    if event.level == "out":
        print(event.message, end="")
    else:
        {"step": step, "ok": ok, "warn": warn, "info": info}[event.level](event.text)


def error(message: str) -> None:
    """The one-line error every frontend ends with (on stderr)."""
    if sys.stderr.isatty():
        _console(stderr=True).print(f"[red]error:[/] {message}", markup=True)
    else:
        print(f"error: {message}", file=sys.stderr)
