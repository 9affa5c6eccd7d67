"""How every frontend ends: one line for errors, exit codes, and Ctrl-C/SIGTERM that clean up.

What a command needs is imported when it runs: every frontend loads this module at start-up.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from contribkit.core.errors import ContribkitError, InterruptedWithChanges
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
        if _interrupted(exc) and not debug and not isinstance(exc, InterruptedWithChanges):
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
    except SystemExit as exc:  # the project's code (a revision, the models) exited mid-run
        if debug:
            raise
        console.error(project_exit_message(exc))
        return 1
    except Exception as exc:  # not ours: a traceback, unless an interrupt caused it
        if _interrupted(exc) and not debug:
            return _report_interrupt()
        message = None if debug else project_error_message(exc)
        if message is None:
            raise
        console.error(message)
        return 1


def project_exit_message(exc: SystemExit) -> str:
    """A ``sys.exit()`` outside contribkit ends the run as a failure: an exit 0 would tell CI
    that everything was checked."""
    where = _project_frame(exc) or "project code"
    return (
        f"{where} called sys.exit({exc.code!r}) during the run, so nothing was checked: remove it"
    )


def project_error_message(exc: BaseException) -> str | None:
    """One line for an error raised in the project's own files (a revision, the models,
    env.py) or by Alembic about the history; ``None`` for anything else, which is a bug of
    contribkit's and keeps its traceback."""
    from contribkit.core.errors import one_line

    if isinstance(exc, SyntaxError) and exc.filename and _is_project_file(exc.filename):
        return f"{_shown(exc.filename)}:{exc.lineno}: SyntaxError: {exc.msg}"
    where = _project_frame(exc)
    if where is not None:
        return f"{where}: {type(exc).__name__}: {one_line(exc)} (--debug shows the traceback)"
    if _alembic_history_error(exc):
        return f"the revision history: {one_line(exc)}"
    return None


def _alembic_history_error(exc: BaseException) -> bool:
    try:
        from alembic.script.revision import RevisionError
        from alembic.util import CommandError
    except ImportError:  # pragma: no cover - alembic is a dependency
        return False
    return isinstance(exc, RevisionError | CommandError)


def _project_frame(exc: BaseException) -> str | None:
    """``file:line`` of the innermost frame of the traceback in a project file."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if _is_project_file(f.filename)]
    return f"{_shown(frames[-1].filename)}:{frames[-1].lineno}" if frames else None


def _is_project_file(filename: str) -> bool:
    """Not Python's, not an installed package's, not contribkit's own."""
    import sysconfig
    from pathlib import Path

    import contribkit

    if filename.startswith("<"):
        return False
    path = Path(filename).resolve()
    ours = Path(contribkit.__file__).resolve().parent
    installed = {
        Path(sysconfig.get_path(name)).resolve() for name in ("stdlib", "platstdlib", "purelib")
    }
    return not any(path.is_relative_to(folder) for folder in (ours, *installed))


def _shown(filename: str) -> str:
    from pathlib import Path

    path = Path(filename).resolve()
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


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
    """Report a command's result: its lines go through the one output channel as well."""
    from contribkit.core import reporting

    for style, text in result.lines:
        reporting.report(style, text)
