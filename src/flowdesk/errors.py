"""The failures flowdesk's command line reports as one line, and the one-line form of others.

A :class:`FlowdeskError` carries a sentence meant for the user and the exit code to leave with:
2 for a request that cannot be done as asked (a bad URL, a database not at head), 1 for one that
was tried and failed. ``flowdesk --debug`` shows the traceback instead of the line.
"""

from __future__ import annotations


class FlowdeskError(Exception):
    """A failure the user can act on; the command line prints :attr:`message` and exits."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MigrationFailed(FlowdeskError):
    """A migration ran and the database refused it (exit 1): the input was fine."""

    exit_code = 1


def one_line(exc: BaseException) -> str:
    """The first line of an error, without SQLAlchemy's SQL dump and documentation link.

    A SQLAlchemy error keeps the driver's own in ``orig``, whose first line is the reason.
    """
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__).rstrip(".")
