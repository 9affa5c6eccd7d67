"""What a command is, for every frontend: its name, its options with their help, and its result.

The CLI parser, the invoke tasks and the help texts are all built from these records, so the
frontends cannot drift apart. Options arrive as the frontends parse them (text, flags) and are
converted here, inside the command's error handling: a bad ``--port`` is the same one line in
every frontend.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from contribkit.core.errors import UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from contribkit.core.config import ProjectConfig


class Option(NamedTuple):
    """One argument of a command."""

    #: The command function's parameter (``no_cache`` is ``--no-cache`` on every frontend).
    name: str
    help: str
    #: An on/off switch rather than a value.
    flag: bool = False
    default: Any = None
    #: The CLI's one-letter form (``-m``); invoke picks its own.
    short: str | None = None
    #: Given without its name (``db stamp head``); such an option is required.
    positional: bool = False
    #: Turns the given text into the value, raising :class:`UsageError` when it is not one.
    convert: Callable[[str], Any] | None = None

    @property
    def initial(self) -> Any:
        """The value when the option is not given: a switch is off."""
        return False if self.flag else self.default

    @property
    def flags(self) -> list[str]:
        long = "--" + self.name.replace("_", "-")
        return [f"-{self.short}", long] if self.short else [long]


class Command(NamedTuple):
    """One user command: ``path`` is its name in groups (``("db", "upgrade")``)."""

    path: tuple[str, ...]
    run: Callable[..., Result]
    help: str
    options: tuple[Option, ...] = ()
    #: The project's ``[tool.contribkit]`` is loaded and passed first.
    needs_config: bool = True
    #: Also a ``contribkit`` subcommand (set-up, lint and test exist only as invoke tasks,
    #: next to the nox sessions that do the same in their own virtualenv).
    in_cli: bool = True

    @property
    def name(self) -> str:
        return " ".join(self.path)

    def call(self, **given: Any) -> Result:
        """Run with the options as a frontend parsed them (missing ones take their defaults)."""
        values = {}
        for option in self.options:
            value = given.get(option.name, option.initial)
            if option.convert is not None and isinstance(value, str):
                value = option.convert(str(value))
            values[option.name] = value
        if not self.needs_config:
            return self.run(**values)
        from contribkit.core.config import load_config

        return self.run(load_config(), **values)


class Result:
    """What a command has to say, for the frontend to print: status lines and plain output."""

    def __init__(self) -> None:
        #: ``(style, text)``: ``ok`` and ``info`` are status lines; ``out`` is printed as it
        #: is (a manifest, a list of requirements) so that it can be piped.
        self.lines: list[tuple[str, str]] = []

    def ok(self, text: str) -> Result:
        self.lines.append(("ok", text))
        return self

    def info(self, text: str) -> Result:
        self.lines.append(("info", text))
        return self

    def out(self, text: str) -> Result:
        self.lines.append(("out", text))
        return self


def revision_ids(text: str) -> tuple[str, ...]:
    """``--ours abc123,def456``: revision ids, comma- or space-separated."""
    ids = tuple(part for part in re.split(r"[,\s]+", text) if part)
    if not ids or any(not re.fullmatch(r"\w+", rev) for rev in ids):
        raise UsageError(
            f"not revision ids: {text!r} (give them comma-separated, e.g. abc123,def456)."
        )
    return ids


def shown(config: ProjectConfig, path: Path) -> str:
    """``path`` relative to the project when it is inside it (migrations may live elsewhere)."""
    return str(path.relative_to(config.root) if path.is_relative_to(config.root) else path)


def port(text: str) -> int:
    """A TCP port, 1 to 65535."""
    if text.isascii() and text.isdigit() and 0 < int(text) < 65536:
        return int(text)
    raise UsageError(f"--port must be a number from 1 to 65535, not {text!r}.")
