"""Own what a run creates: made, recorded and removed with Ctrl-C/SIGTERM held.

An interrupt landing between "the database exists" and "the clean-up knows about it" leaves
debris that no later run removes; one landing in the middle of the clean-up leaves half of it.
These helpers close both gaps (see :func:`contribkit.core.signals.deferred_signals`), so the
modules that create things say only what they create and how it goes away.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from contribkit.core.signals import deferred_signals

T = TypeVar("T")
K = TypeVar("K")
_NOTHING: Any = object()


@contextmanager
def owned(create: Callable[[], T], remove: Callable[[T], object]) -> Iterator[T]:
    """Yield what ``create`` made and ``remove`` it afterwards, however the block ends.

    An interrupt that arrives while ``create`` runs is delivered only once the ``finally``
    clause owns the result; ``remove`` cannot be cut short by a second one.
    """
    made = _NOTHING
    try:
        with deferred_signals():
            made = create()
        yield made
    finally:
        if made is not _NOTHING:
            with deferred_signals():
                remove(made)


def uninterrupted(action: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``action(*args, **kwargs)`` with signals held: a clean-up or a commit that a Ctrl-C must
    not leave half done; the interrupt is delivered when it returns."""
    with deferred_signals():
        return action(*args, **kwargs)


def start_recorded(owner: MutableMapping[K, T], key: K, start: Callable[[], T]) -> T:
    """Start a process (or anything that must be stopped later) and record it in ``owner``
    together, with signals held, so that whoever stops what ``owner`` holds always finds it."""
    with deferred_signals():
        started = owner[key] = start()
    return started


@contextmanager
def temporary_folder(prefix: str, parent: Path | None = None) -> Iterator[Path]:
    """Yield a new folder under ``parent`` (default: the temp folder); remove it afterwards.

    A folder the block renamed away is simply not there to remove.
    """
    with owned(
        lambda: Path(tempfile.mkdtemp(prefix=prefix, dir=parent)),
        lambda folder: shutil.rmtree(folder, ignore_errors=True),
    ) as folder:
        yield folder
