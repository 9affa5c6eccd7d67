"""Async drivers (``aiosqlite``, ``asyncpg``) under contribkit's synchronous engine code.

A project that runs on an async driver must have its revisions run on that driver too: asyncpg
and psycopg do not even agree on which ``%`` sequences a raw SQL string may hold. SQLAlchemy's
``AsyncEngine`` is a synchronous ``Engine`` underneath whose driver calls await inside a
greenlet (that is how ``AsyncConnection.run_sync`` works). :func:`bridged` runs a whole command
in such a greenlet on a private event loop, so every engine :func:`contribkit.databases.engines.
create_engine` makes, sync or async, is used the same way and an env.py receives an ordinary
``Connection`` either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# Per thread: set while a bridged call runs on it; nested ones just call through.
_state = threading.local()


def bridged(fn: Callable[P, T]) -> Callable[P, T]:
    """Run ``fn`` where async drivers can be used synchronously (see the module docstring)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        if getattr(_state, "active", False):
            return fn(*args, **kwargs)
        from sqlalchemy.util import greenlet_spawn

        # A loop of our own, not asyncio.run: that would install its own Ctrl-C handler.
        loop = asyncio.new_event_loop()
        _state.active = True
        try:
            task = loop.create_task(greenlet_spawn(fn, *args, **kwargs))
            try:
                return loop.run_until_complete(task)
            except BaseException:
                # An interrupt that landed while the loop waited for a driver: the work's own
                # cleanup (drop the database, remove folders) still needs the loop to run.
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        loop.run_until_complete(task)
                raise
        finally:
            _state.active = False
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    return wrapper
