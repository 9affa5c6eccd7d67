"""Short status lines and summaries; rich is imported only when something is printed."""

from __future__ import annotations

import sys
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any


@cache
def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def step(message: str) -> None:
    """A status line for one step of long work: ``→ sqlite: generate``."""
    _console().print(f"[cyan]→[/] {message}")


def ok(message: str) -> None:
    _console().print(f"[green]✓[/] {message}")


def warn(message: str) -> None:
    _console().print(f"[yellow]![/] {message}")


def info(message: str = "") -> None:
    _console().print(message, markup=False)


def error(message: str) -> None:
    """The one-line error every frontend ends with (on stderr)."""
    if sys.stderr.isatty():
        _console(stderr=True).print(f"[red]error:[/] {message}", markup=True)
    else:
        print(f"error: {message}", file=sys.stderr)


@contextmanager
def summarized_warnings(handled: tuple[str, ...] = ()) -> Iterator[None]:
    """Warnings raised while revisions run (SQLAlchemy's reflection notes, mostly) are counted
    and summed up in one line instead of being printed one by one; ``handled``: the starts of
    warnings the caller deals with itself, which are not counted."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            caught[:] = [w for w in caught if not str(w.message).startswith(handled)]
            if caught:
                kinds = Counter(str(w.message).splitlines()[0] for w in caught)
                common, times = kinds.most_common(1)[0]
                info(
                    f"{len(caught)} warning(s) while running the migrations, {len(kinds)} distinct; "
                    f"most often ({times}x): {common[:150]}"
                )
