"""The one output channel: what a workflow or command has to say is an :class:`Event` given to
the reporter, and only the reporter decides how it looks.

Workflows call :func:`step`, :func:`ok`, :func:`warn` and :func:`info`; commands return a
``Result`` whose lines the frontend reports the same way. The reporter is the text renderer
(:func:`contribkit.core.console.render`) unless a frontend, or a test, puts another in place
with :func:`reporting_to` or :func:`recorded`. It is one per process, not per thread or
context, so events from worker threads reach it as well.
"""

from __future__ import annotations

import threading
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from contribkit.core import console

#: ``step``: long work begins; ``ok``: something was checked and holds; ``warn``: something a
#: reader must act on or know; ``info``: context; ``out``: a command's plain output (a manifest,
#: a list), written as it is so that it can be piped.
Level = Literal["step", "ok", "warn", "info", "out"]


@dataclass(frozen=True)
class Event:
    level: Level
    message: str
    #: The dialect the event is about (``""``: none); the text renderer puts it in front.
    dialect: str = ""

    @property
    def text(self) -> str:
        return f"{self.dialect}: {self.message}" if self.dialect else self.message


Reporter = Callable[[Event], None]

_lock = threading.Lock()
_reporter: Reporter = console.render


def report(level: Level, message: str, dialect: str = "") -> None:
    _reporter(Event(level, message, dialect))


def step(message: str, dialect: str = "") -> None:
    report("step", message, dialect)


def ok(message: str, dialect: str = "") -> None:
    report("ok", message, dialect)


def warn(message: str, dialect: str = "") -> None:
    report("warn", message, dialect)


def info(message: str, dialect: str = "") -> None:
    report("info", message, dialect)


@contextmanager
def reporting_to(reporter: Reporter) -> Iterator[None]:
    """Give every event reported inside to ``reporter`` instead."""
    global _reporter
    with _lock:
        previous, _reporter = _reporter, reporter
    try:
        yield
    finally:
        with _lock:
            _reporter = previous


@contextmanager
def recorded(*, rendered: bool = False) -> Iterator[list[Event]]:
    """The events reported inside, in order; ``rendered``: also passed on to the reporter that
    was in place."""
    events: list[Event] = []
    passed_on = _reporter

    def record(event: Event) -> None:
        events.append(event)
        if rendered:
            passed_on(event)

    with reporting_to(record):
        yield events


@contextmanager
def summarized_warnings(handled: tuple[str, ...] = ()) -> Iterator[None]:
    """Warnings raised while revisions run (SQLAlchemy's reflection notes, mostly) are counted
    and summed up in one ``info`` event instead of being printed one by one; ``handled``: the
    starts of warnings the caller deals with itself, which are not counted."""
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
