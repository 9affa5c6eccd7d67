"""Throw-away databases, one per use, for every dialect contribkit supports.

``ephemeral_database("sqlite")`` is a file in a private temporary folder;
``ephemeral_database("postgresql")`` is a uniquely named database on one PostgreSQL server per
process: the embedded one (started on first use, stopped at exit), or the server named by
``CONTRIBKIT_POSTGRESQL_URL``. Either way the database is removed when the ``with`` block ends,
whether it ends normally, by an exception or by Ctrl-C.
"""

from __future__ import annotations

import atexit
import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from contribkit.core.errors import UsageError
from contribkit.core.ownership import owned, temporary_folder, uninterrupted
from contribkit.databases.engines import with_driver
from contribkit.databases.postgresql.server import EXTERNAL_URL_ENV, PostgresServer

if TYPE_CHECKING:
    from contribkit.databases.postgresql.embedded import EmbeddedPostgres

# One server per source for the whole process: the embedded one (key None) or an external URL.
_servers: dict[str | None, PostgresServer] = {}
# An embedded server whose initdb is running while the caller does other work (see prewarm).
_starting: list[EmbeddedPostgres] = []


def _new_embedded() -> EmbeddedPostgres:
    from contribkit.databases.postgresql.embedded import EmbeddedPostgres

    return EmbeddedPostgres()


def prewarm(dialects: Iterable[str]) -> None:
    """Begin starting the embedded server now if PostgreSQL will be needed and is not running.

    Only initdb is launched (a child process, no thread): the caller's imports and SQLite work
    overlap it, and :func:`postgres_server` finishes the start when PostgreSQL is first used.
    """
    if "postgresql" not in dialects or os.environ.get(EXTERNAL_URL_ENV):
        return
    if None not in _servers and not _starting:
        _starting.append(_new_embedded().begin())


def postgres_server() -> PostgresServer:
    """The run's PostgreSQL server: ``CONTRIBKIT_POSTGRESQL_URL`` if set, else the embedded one
    (started on first use, stopped at exit)."""
    external = os.environ.get(EXTERNAL_URL_ENV) or None
    server = _servers.get(external)
    if server is None:
        if external:
            server = PostgresServer(external)
            server.execute_admin("SELECT 1")  # fail now, with a clear message, if unreachable
        else:
            embedded = _starting.pop() if _starting else _new_embedded().begin()
            embedded.finish()
            server = PostgresServer(embedded.url(), owner=embedded)
        if not _servers:
            atexit.register(shutdown_postgres_servers)
        _servers[external] = server
    return server


def shutdown_postgres_servers() -> None:
    """Stop the embedded server (if any) and close admin connections; later use starts anew."""
    uninterrupted(_close_all)


def _close_all() -> None:
    while _starting:
        _starting.pop().stop()
    while _servers:
        _, server = _servers.popitem()
        server.close()


def unique_name(prefix: str = "ck") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@contextmanager
def ephemeral_database(dialect: str, driver: str | None = None) -> Iterator[str]:
    """Yield the URL of a new, empty database of ``dialect``, reached through ``driver`` (default:
    SQLAlchemy's); remove it afterwards."""
    if dialect == "sqlite":
        with temporary_folder("ck-sqlite-") as folder:
            yield with_driver(f"sqlite:///{folder / 'db.sqlite'}", driver)
    elif dialect == "postgresql":
        server = postgres_server()
        name = unique_name()
        with owned(
            lambda: server.create_database(name), lambda _: server.drop_database(name)
        ) as url:
            yield with_driver(url, driver)
    else:
        raise UsageError(f"cannot provision a {dialect!r} database: sqlite and postgresql only.")
