"""The two kinds of failure every frontend reports the same way.

A :class:`UsageError` is bad input (exit 2); a :class:`CheckFailed` is a check that ran and found
a problem (exit 1). Both carry one sentence meant for the user; frontends print it without a
traceback unless ``--debug`` is given.
"""

from __future__ import annotations


class ContribkitError(Exception):
    """Base class: a message for the user and the exit code to leave with."""

    exit_code = 2

    def __init__(self, message: str, *, details: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class UsageError(ContribkitError):
    """The user asked for something that cannot be done as asked (exit 2)."""

    exit_code = 2


class CheckFailed(ContribkitError):
    """A check ran and found a problem (exit 1); ``details``, when given, is printed first."""

    exit_code = 1


class InterruptedWithChanges(ContribkitError):
    """Ctrl-C/SIGTERM stopped work that had already changed something it cannot undo (MySQL's
    DDL commits itself); the message says what, instead of "nothing was left behind"."""

    exit_code = 130


def one_line(exc: BaseException) -> str:
    """The first line of a (database) error, without SQLAlchemy's SQL dump and links."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return first.rstrip(".")
