"""One PostgreSQL server reached through an admin URL: create and drop databases on it.

The server is the embedded one (:mod:`contribkit.databases.postgresql.embedded`, which this
object then owns and stops) or the one ``CONTRIBKIT_POSTGRESQL_URL`` names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contribkit.core.errors import UsageError, one_line
from contribkit.databases.engines import create_engine, redact

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

EXTERNAL_URL_ENV = "CONTRIBKIT_POSTGRESQL_URL"


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
