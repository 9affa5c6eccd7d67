"""One PostgreSQL server reached through an admin URL: create and drop databases on it.

The server is the embedded one (:mod:`contribkit.databases.postgresql.embedded`, which this
object then owns and stops) or the one ``CONTRIBKIT_POSTGRESQL_URL`` names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contribkit.databases.adminserver import AdminServer
from contribkit.databases.dialects.postgresql import PostgreSQL

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

EXTERNAL_URL_ENV = "CONTRIBKIT_POSTGRESQL_URL"


class PostgresServer(AdminServer):
    """Creates and drops databases on one server reached through an admin URL."""

    url_env = EXTERNAL_URL_ENV
    example = "postgresql://user:password@host:port/postgres"
    product = "PostgreSQL"
    backends = ("postgresql",)
    default_driver = PostgreSQL.default_driver
    list_query = "SELECT datname FROM pg_database WHERE datname LIKE :p"

    def create_database(self, name: str, template: str | None = None) -> URL:
        clause = f' TEMPLATE "{template}"' if template else ""
        self.execute_admin(f'CREATE DATABASE "{name}"{clause}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.execute_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
