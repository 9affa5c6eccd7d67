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

from contribkit.errors import UsageError, one_line
from contribkit.signals import deferred_signals, temporary_folder

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

    from contribkit.pgembed import EmbeddedPostgres

EXTERNAL_URL_ENV = "CONTRIBKIT_POSTGRESQL_URL"
#: ``Connection.info`` key: the statement a transactional-DDL SQLite engine begins with.
BEGIN_STATEMENT = "contribkit_begin"


def redact(url: str | URL) -> str:
    """``url`` with its password hidden, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


#: Driver module → the package to install, where the names differ.
DRIVER_PACKAGES = {
    "psycopg": "psycopg[binary]",
    "psycopg2": "psycopg2-binary",
    "MySQLdb": "mysqlclient",
}


def create_engine(url: str | URL, *, transactional_ddl: bool = False, **kwargs: object) -> Engine:
    """An engine whose SQLite connections enforce foreign keys, as the migrations must survive.

    An async driver's URL gives the synchronous face of an ``AsyncEngine``: use it inside
    :func:`contribkit.asyncdrivers.bridged`. ``transactional_ddl`` (SQLite): the driver never
    begins or commits by itself and every SQLAlchemy transaction starts with an explicit BEGIN,
    so DDL is transactional (SQLAlchemy's documented recipe, which async SQLite projects use).
    """
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
        dialect_class = parsed.get_dialect()
        if dialect_class.is_async:
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine(parsed, **kwargs).sync_engine
        else:
            engine = sa.create_engine(parsed, **kwargs)
    except ModuleNotFoundError as exc:
        module = (exc.name or "").split(".")[0]
        raise UsageError(
            f"the database driver for {redact(url)} is not installed: "
            f"add the package {DRIVER_PACKAGES.get(module, module)!r} to your dev dependencies."
        ) from exc
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ValueError) as exc:
        raise UsageError(f"not a valid database URL: {redact(url)} ({one_line(exc)}).") from exc
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _foreign_keys_on(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            if transactional_ddl:
                dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        if transactional_ddl:

            @sa.event.listens_for(engine, "begin")
            def _begin(connection) -> None:  # type: ignore[no-untyped-def]
                # A migration run asks for BEGIN IMMEDIATE (runtime.sqlite_revision_transactions).
                connection.exec_driver_sql(connection.info.get(BEGIN_STATEMENT, "BEGIN"))

    return engine


def with_driver(url: str | URL, driver: str | None) -> str:
    """``url`` reached through ``driver`` (``None``: the URL's own)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if driver:
        parsed = parsed.set(drivername=f"{parsed.get_backend_name()}+{driver}")
    return parsed.render_as_string(hide_password=False)


class PostgresServer:
    """Creates and drops databases on one server reached through an admin URL."""

    def __init__(self, admin_url: str, owner: object | None = None) -> None:
        from sqlalchemy.engine import make_url

        try:
            url = make_url(admin_url)
        except Exception as exc:  # ValueError for a port such as 'abc', ArgumentError, ...
            raise UsageError(
                f"{EXTERNAL_URL_ENV} is not a valid database URL ({one_line(exc)}): "
                "use postgresql://user:password@host:port/postgres."
            ) from exc
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        self.admin_url = url
        self.owner = owner  # the embedded server, kept alive with us
        self._engine: Engine | None = None

    def _admin(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(
                self.admin_url, isolation_level="AUTOCOMMIT", poolclass=_null_pool()
            )
        return self._engine

    def url(self, database: str) -> URL:
        return self.admin_url.set(database=database)

    def execute_admin(self, statement: str) -> None:
        import sqlalchemy as sa

        try:
            with self._admin().connect() as conn:
                conn.execute(sa.text(statement))
        except sa.exc.OperationalError as exc:
            reason = one_line(exc)
            process = getattr(self.owner, "process", None)
            if process is not None and process.poll() is not None:
                raise UsageError(
                    f"the embedded PostgreSQL server stopped unexpectedly (exit {process.returncode}): {reason}."
                ) from exc
            raise UsageError(
                f"PostgreSQL at {redact(self.admin_url)} is unreachable: {reason}."
            ) from exc

    def create_database(self, name: str, template: str | None = None) -> URL:
        clause = f' TEMPLATE "{template}"' if template else ""
        self.execute_admin(f'CREATE DATABASE "{name}"{clause}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.execute_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self.owner is not None:
            self.owner.stop()  # type: ignore[attr-defined]
            self.owner = None


def _null_pool() -> type:
    from sqlalchemy.pool import NullPool

    return NullPool


# One server per source for the whole process: the embedded one (key None) or an external URL.
_servers: dict[str | None, PostgresServer] = {}
# An embedded server whose initdb is running while the caller does other work (see prewarm).
_starting: list[EmbeddedPostgres] = []


def _new_embedded() -> EmbeddedPostgres:
    from contribkit.pgembed import EmbeddedPostgres

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
    with deferred_signals():
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
        created = False
        try:
            # Held, so that `created` tells the truth and an interrupt right after CREATE is
            # delivered inside this try, whose finally then drops the database.
            with deferred_signals():
                url = server.create_database(name)
                created = True
            yield with_driver(url, driver)
        finally:
            if created:
                with deferred_signals():
                    server.drop_database(name)
    else:
        raise UsageError(f"cannot provision a {dialect!r} database: sqlite and postgresql only.")
