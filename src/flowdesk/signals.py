"""Ctrl-C and SIGTERM as exceptions, so ``with`` blocks and ``finally`` clauses clean up.

SIGTERM (a supervisor stopping the server or the worker) is raised like Ctrl-C rather than
ending the process at once: connections are closed and the worker records the run it stops.
"""

from __future__ import annotations

import signal
from typing import Any

#: The exit code of a command stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
INTERRUPTED = 130


class Interrupted(KeyboardInterrupt):
    """Ctrl-C.

    A subclass, because CPython remembers a plain KeyboardInterrupt that propagates out of an
    ``exec`` of a string (dataclasses and SQLAlchemy build functions that way) and then ends the
    process by SIGINT whatever exit code was chosen; it compares the exact type, so a subclass
    passes through unremembered.
    """


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that cleanup runs."""


def _raise(signum: int, frame: Any) -> None:
    raise Terminated if signum == signal.SIGTERM else Interrupted


def raise_on_signals() -> None:
    """Make SIGTERM and Ctrl-C raise; a SIGINT the parent set to be ignored stays ignored."""
    signal.signal(signal.SIGTERM, _raise)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _raise)
