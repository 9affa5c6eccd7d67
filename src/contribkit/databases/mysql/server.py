"""One MySQL or MariaDB server reached through an admin URL: create, copy and drop databases.

The server is the throw-away one (:mod:`contribkit.databases.mysql.embedded`, which this object
then owns and stops) or the one ``CONTRIBKIT_MYSQL_URL`` names. MySQL has no template
databases: a copy is made table by table from ``SHOW CREATE TABLE`` and ``INSERT … SELECT``.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from contribkit.core.errors import UsageError, one_line
from contribkit.databases.engines import create_engine, redact
from contribkit.databases.mysql.embedded import EXTERNAL_URL_ENV

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine

#: PyMySQL: maintained and pure Python, so it installs everywhere with nothing to compile.
DEFAULT_DRIVER = "pymysql"


class MySQLServer:
    """Creates, copies and drops databases on one server reached through an admin URL."""

    def __init__(self, admin_url: str, owner: object | None = None) -> None:
        from sqlalchemy.engine import make_url

        try:
            url = make_url(admin_url)
        except Exception as exc:
            raise UsageError(
                f"{EXTERNAL_URL_ENV} is not a valid database URL ({one_line(exc)}): "
                "use mysql://user:password@host:port/."
            ) from exc
        if url.get_backend_name() in ("mysql", "mariadb") and "+" not in url.drivername:
            url = url.set(drivername=f"{url.get_backend_name()}+{DEFAULT_DRIVER}")
        self.admin_url = url.set(database="")
        self.owner = owner  # the throw-away server, kept alive with us
        self._engine: Engine | None = None

    def _admin(self) -> Engine:
        if self._engine is None:
            from sqlalchemy.pool import NullPool

            self._engine = create_engine(
                self.admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool
            )
        return self._engine

    def url(self, database: str) -> URL:
        return self.admin_url.set(database=database)

    def _run(self, work: object) -> object:
        import sqlalchemy as sa

        try:
            with self._admin().connect() as conn:
                return work(conn)  # type: ignore[operator]
        except sa.exc.OperationalError as exc:
            reason = one_line(exc)
            process = getattr(self.owner, "process", None)
            if process is not None and process.poll() is not None:
                raise UsageError(
                    f"the throw-away MySQL server stopped unexpectedly (exit {process.returncode}): {reason}."
                ) from exc
            raise UsageError(
                f"MySQL at {redact(self.admin_url)} is unreachable: {reason}."
            ) from exc

    def execute_admin(self, statement: str) -> None:
        import sqlalchemy as sa

        self._run(lambda conn: conn.execute(sa.text(statement)))

    def create_database(self, name: str, template: str | None = None) -> URL:
        def create(conn: Connection) -> None:
            import sqlalchemy as sa

            conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
            if template is not None:
                _copy_tables(conn, template, name)

        self._run(create)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        def drop(conn: Connection) -> None:
            import sqlalchemy as sa

            # Sessions still in the database would hold its tables' metadata locks and make
            # DROP DATABASE wait for ever (PostgreSQL's WITH (FORCE), by hand).
            for (pid,) in conn.execute(
                sa.text(
                    "SELECT id FROM information_schema.processlist "
                    "WHERE db = :name AND id <> CONNECTION_ID()"
                ),
                {"name": name},
            ):
                with contextlib.suppress(sa.exc.DatabaseError):  # it may have just ended
                    conn.execute(sa.text(f"KILL {int(pid)}"))
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))

        self._run(drop)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self.owner is not None:
            self.owner.stop()  # type: ignore[attr-defined]
            self.owner = None


def _copy_tables(conn: Connection, source: str, target: str) -> None:
    """Copy every table of ``source`` (definition, keys, rows) into the empty ``target``."""
    import sqlalchemy as sa

    tables = conn.execute(
        sa.text(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = :db AND table_type = 'BASE TABLE'"
        ),
        {"db": source},
    ).scalars()
    conn.execute(sa.text("SET SESSION foreign_key_checks = 0"))  # any order, as it was
    conn.execute(sa.text(f"USE `{target}`"))
    try:
        for table in list(tables):
            ddl = conn.execute(sa.text(f"SHOW CREATE TABLE `{source}`.`{table}`")).one()[1]
            conn.exec_driver_sql(ddl)  # no parameters: a ':' or '%' in a default stays as is
            conn.execute(sa.text(f"INSERT INTO `{table}` SELECT * FROM `{source}`.`{table}`"))
    finally:
        conn.execute(sa.text("SET SESSION foreign_key_checks = 1"))
