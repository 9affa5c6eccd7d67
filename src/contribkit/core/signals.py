"""Ctrl-C and SIGTERM: raised so that cleanup runs, remembered in case a finalizer swallows
them, and held where creating, cleaning up or committing must not be cut short.

SIGTERM is turned into an exception so ``with`` blocks and ``finally`` clauses run (ephemeral
databases dropped, staged files removed, the embedded server stopped) exactly as for Ctrl-C.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_DEFERRED = (signal.SIGINT, signal.SIGTERM)
# Every interrupt the handler raised since the frontend installed it.
_received: list[int] = []


class Interrupted(KeyboardInterrupt):
    """Ctrl-C.

    A subclass, because CPython remembers a plain KeyboardInterrupt that propagates out of an
    ``exec`` of a string (dataclasses and SQLAlchemy build functions that way) and then ends a
    ``python -m`` process by SIGINT, however the interrupt was handled and whatever exit code
    was chosen. It compares the exact type, so a subclass passes through unremembered.
    """


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that cleanup runs."""


def _exception_for(signum: int) -> KeyboardInterrupt:
    return Terminated() if signum == signal.SIGTERM else Interrupted()


def _raise_interrupt(signum: int, frame: Any) -> None:
    _received.append(signum)
    raise _exception_for(signum)


def install_interrupt_handlers() -> None:
    """Make SIGTERM and Ctrl-C raise, and remember them (see :func:`raise_if_interrupted`).

    A SIGINT that the parent set to be ignored (a shell's background job) stays ignored.
    """
    forget_interrupts()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _raise_interrupt)


def raise_if_interrupted() -> None:
    """Raise again the last interrupt received since the handlers were installed.

    Python prints and then ignores an exception raised inside a finalizer (``__del__``, a
    weakref callback), so an interrupt that lands while one runs is lost, and the work would
    carry on as if nobody had asked it to stop. Long work that no interrupt may let go on
    (migrate) calls this between its steps and before it commits.
    """
    if _received:
        raise _exception_for(_received[-1])


def forget_interrupts() -> None:
    """Start afresh: a new run in this process has received no interrupt yet."""
    _received.clear()


class Deferral:
    """What a :func:`deferred_signals` block caught, and what to do with it at the end."""

    def __init__(self) -> None:
        self.caught: list[int] = []

    def hold(self, signum: int, frame: Any) -> None:
        self.caught.append(signum)  # no lock, no I/O: this runs between any two bytecodes

    def finish_work(self) -> None:
        """The block's work is committed and an interrupt can no longer undo it: drop what was
        caught, so that a Ctrl-C pressed during the commit does not report a finished run as
        interrupted. Later signals reach the restored handlers as usual."""
        self.caught.clear()


@contextmanager
def deferred_signals() -> Iterator[Deferral]:
    """Hold SIGINT/SIGTERM while the block runs; a signal that arrived is delivered after it.

    Used around creating what cleanup must own (temporary folders, throw-away databases), the
    steps that undo a run (stopping the embedded server, dropping a database, removing staged
    files) and around commits: interrupted half-way they would leave debris behind. The
    handlers are swapped rather than the signals masked, because a mask covers only the
    calling thread: with other threads running (output pumps, the test runner's I/O) the
    kernel hands the signal to one of them and Python runs its handler here anyway.
    """
    deferral = Deferral()
    if threading.current_thread() is not threading.main_thread():
        yield deferral  # only the main thread runs signal handlers
        return
    # Read before any is swapped, so that whatever interrupts the swaps, all are put back.
    previous = {signum: signal.getsignal(signum) for signum in _DEFERRED}
    try:
        for signum in _DEFERRED:
            signal.signal(signum, deferral.hold)
        yield deferral
    finally:
        _restore(previous)
        for signum in dict.fromkeys(deferral.caught):
            signal.raise_signal(signum)  # to the handler just restored, as if it came now


def _restore(handlers: dict[int, Any]) -> None:
    """Put ``handlers`` back. A signal whose handler is back already may raise before the others
    are: then they are all put back again, so that none is left holding signals for good."""

    def put_back() -> None:
        for signum, handler in handlers.items():
            # None: a handler installed outside Python, which cannot be put back as such.
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)

    try:
        put_back()
    except BaseException:
        put_back()
        raise
