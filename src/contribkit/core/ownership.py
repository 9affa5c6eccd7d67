"""Own what a run creates: made, recorded and removed with Ctrl-C/SIGTERM held.

An interrupt landing between "the database exists" and "the clean-up knows about it" leaves
debris that no later run removes; one landing in the middle of the clean-up leaves half of it.
These helpers close both gaps (see :func:`contribkit.core.signals.deferred_signals`), so the
modules that create things say only what they create and how it goes away.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
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


def _start_time(pid: int) -> str:
    """When process ``pid`` started (clock ticks since boot), so that a reused pid is another
    process; "0" where /proc cannot say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "0"
    return stat.rsplit(")", 1)[1].split()[19]  # field 22: after the name, which may hold spaces


def owner_tag() -> str:
    """This process, as a part of the names of what it creates: ``<pid>x<start time>``.

    What a run killed with SIGKILL left (folders, databases) carries the tag of a process
    that no longer exists, which the next run sees (:func:`owner_is_gone`)."""
    pid = os.getpid()
    return f"{pid}x{_start_time(pid)}"


_TAG = re.compile(r"(?P<pid>\d+)x(?P<start>\d+)")


def owner_is_gone(name: str, prefix: str) -> bool:
    """Whether ``name`` is ``prefix`` + an owner tag + more, whose process has ended (a name
    without a tag is never said to be gone: it may be another program's)."""
    tag = _TAG.match(name, len(prefix)) if name.startswith(prefix) else None
    if tag is None:
        return False
    pid = int(tag["pid"])
    if not Path(f"/proc/{pid}").exists():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # another user's live process
            return False
        return False
    return _start_time(pid) != tag["start"]


def host_tag() -> str:
    """This machine, in 6 characters: what runs on a shared server left is swept only by a
    run on the machine whose processes it can see."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]


def sweep_folders(parent: Path, prefix: str) -> None:
    """Remove the folders ``prefix<owner tag>-*`` under ``parent`` whose owner has ended."""
    try:
        names = [p.name for p in parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return
    for name in names:
        if owner_is_gone(name, prefix):
            shutil.rmtree(parent / name, ignore_errors=True)


@contextmanager
def temporary_folder(prefix: str, parent: Path | None = None) -> Iterator[Path]:
    """Yield a new folder under ``parent`` (default: the temp folder); remove it afterwards.

    Its name carries this process's owner tag: the first such folder a run makes also removes
    those of killed runs. A folder the block renamed away is simply not there to remove.
    """
    where = parent or Path(tempfile.gettempdir())
    if prefix not in _swept:
        _swept.add(prefix)
        sweep_folders(where, prefix)
    with owned(
        lambda: Path(tempfile.mkdtemp(prefix=f"{prefix}{owner_tag()}-", dir=where)),
        lambda folder: shutil.rmtree(folder, ignore_errors=True),
    ) as folder:
        yield folder


#: The prefixes this process has swept for (once is enough: its own folders are alive).
_swept: set[str] = set()
