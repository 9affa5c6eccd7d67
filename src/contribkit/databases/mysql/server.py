"""One MySQL or MariaDB server reached through an admin URL: create, copy and drop databases.

The server is the throw-away one (:mod:`contribkit.databases.mysql.embedded`, which this object
then owns and stops) or the one ``CONTRIBKIT_MYSQL_URL`` names. MySQL has no template
databases: a copy is made table by table from ``SHOW CREATE TABLE`` and ``INSERT … SELECT``.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import sqlalchemy as sa

from contribkit.databases.adminserver import AdminServer
from contribkit.databases.dialects.mysql import MySQL
from contribkit.databases.mysql.embedded import EXTERNAL_URL_ENV

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection

DEFAULT_DRIVER = MySQL.default_driver


class MySQLServer(AdminServer):
    """Creates, copies and drops databases on one server reached through an admin URL."""

    url_env = EXTERNAL_URL_ENV
    example = "mysql://user:password@host:port/"
    product = "MySQL"
    backends = ("mysql", "mariadb")
    default_driver = DEFAULT_DRIVER
    list_query = "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE :p"

    def _admin_url(self, url: URL) -> URL:
        return url.set(database="")  # the server, not one of its databases

    def create_database(self, name: str, template: str | None = None) -> URL:
        def create(conn: Connection) -> None:
            if template is not None and not _exists(conn, template):
                # A copy of nothing would be an empty database that looks ready.
                raise LookupError(f"no template database {template!r} on the MySQL server")
            conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
            if template is not None:
                _copy_tables(conn, template, name)

        self.run(create)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        def drop(conn: Connection) -> None:
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

        self.run(drop)


def _exists(conn: Connection, name: str) -> bool:
    found = conn.execute(
        sa.text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :name"),
        {"name": name},
    )
    return found.first() is not None


def _copy_tables(conn: Connection, source: str, target: str) -> None:
    """Copy every table of ``source`` (definition, keys, rows) into the empty ``target``."""
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
