"""How every frontend ends: one line for errors, exit codes, and Ctrl-C/SIGTERM that clean up."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from contribkit.core.errors import ContribkitError
from contribkit.core.signals import install_interrupt_handlers

if TYPE_CHECKING:
    from contribkit.commands.spec import Command, Result

T = TypeVar("T")
INTERRUPTED = 130


def exit_with(code: int) -> None:
    """Leave the process: the work is done, so a late Ctrl-C must neither turn a finished run into
    a failure nor cut the exit-time cleanup (stopping the embedded server) short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(code)


def _interrupted(exc: BaseException) -> bool:
    """True when Ctrl-C/SIGTERM started this failure: a driver interrupted mid-statement
    invalidates its connection, and the cleanup then fails with an error of its own that
    replaces the interrupt (e.g. SQLAlchemy's PendingRollbackError)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def run(action: Callable[[], T], *, debug: bool = False) -> T | int:
    """Call ``action``; on a known failure print one line and return its exit code."""
    from contribkit.core import console

    install_interrupt_handlers()
    try:
        return action()
    except ContribkitError as exc:
        if _interrupted(exc) and not debug:
            return _report_interrupt()
        if debug:
            raise
        if exc.details:
            console.info(exc.details)
        console.error(exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        if debug:
            raise
        return _report_interrupt()
    except Exception as exc:  # not ours: a traceback, unless an interrupt caused it
        if _interrupted(exc) and not debug:
            return _report_interrupt()
        raise


def _report_interrupt() -> int:
    from contribkit.core import console

    console.error("interrupted: nothing this run started was left behind.")
    return INTERRUPTED


def run_command(command: Command, options: dict[str, Any], *, debug: bool = False) -> int:
    """Run a table command with the options a frontend parsed, print its result (under the
    same error and Ctrl-C handling), return the exit code."""
    outcome = run(lambda: show(command.call(**options)), debug=debug)
    return outcome if isinstance(outcome, int) else 0


def show(result: Result) -> None:
    from contribkit.core import console

    for style, text in result.lines:
        if style == "out":
            print(text, end="")
        else:
            getattr(console, style)(text)
