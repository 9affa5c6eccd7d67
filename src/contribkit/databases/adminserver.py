"""One database server reached through an admin URL: what PostgreSQL's and MySQL's share.

The server is a throw-away one (which the object then owns and stops with itself) or the one
its ``CONTRIBKIT_<DIALECT>_URL`` names. Subclasses say how a database is created and dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from contribkit.core.errors import UsageError, one_line
from contribkit.databases.engines import create_engine, redact

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine


class AdminServer:
    """Runs admin statements on one server, each on a new autocommit connection."""

    #: The variable naming an existing server, the URL its message shows as an example, the
    #: product's name, its backends, and the driver a URL without one gets.
    url_env = ""
    example = ""
    product = ""
    backends: tuple[str, ...] = ()
    default_driver = ""

    def __init__(self, admin_url: str, owner: Any = None) -> None:
        from sqlalchemy.engine import make_url

        try:
            url = make_url(admin_url)
        except Exception as exc:  # ValueError for a port such as 'abc', ArgumentError, ...
            raise UsageError(
                f"{self.url_env} is not a valid database URL ({one_line(exc)}): use {self.example}."
            ) from exc
        if url.get_backend_name() in self.backends and "+" not in url.drivername:
            url = url.set(drivername=f"{url.drivername}+{self.default_driver}")
        self.admin_url = self._admin_url(url)
        self.owner = (
            owner  # the throw-away server (a localserver.ThrowawayServer), kept alive with us
        )
        self._engine: Engine | None = None

    def _admin_url(self, url: URL) -> URL:
        """The URL admin statements connect to."""
        return url

    def _admin(self) -> Engine:
        if self._engine is None:
            from sqlalchemy.pool import NullPool

            self._engine = create_engine(
                self.admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool
            )
        return self._engine

    def url(self, database: str) -> URL:
        return self.admin_url.set(database=database)

    def run(self, work: Callable[[Connection], Any]) -> Any:
        """``work(connection)``; an unreachable server, or a throw-away one that died, is one line."""
        import sqlalchemy as sa

        try:
            with self._admin().connect() as conn:
                return work(conn)
        except sa.exc.OperationalError as exc:
            reason = one_line(exc)
            process = getattr(self.owner, "process", None)
            if process is not None and process.poll() is not None:
                raise UsageError(
                    f"the {self.owner.label} server stopped unexpectedly "
                    f"(exit {process.returncode}): {reason}."
                ) from exc
            raise UsageError(
                f"{self.product} at {redact(self.admin_url)} is unreachable: {reason}."
            ) from exc

    def execute_admin(self, statement: str) -> None:
        import sqlalchemy as sa

        self.run(lambda conn: conn.execute(sa.text(statement)))

    def create_database(self, name: str, template: str | None = None) -> URL:
        raise NotImplementedError

    #: The query listing the server's databases whose name starts with ``:prefix``.
    list_query = ""

    def database_names(self, prefix: str) -> list[str]:
        import sqlalchemy as sa

        pattern = prefix.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%"
        found = self.run(lambda conn: conn.execute(sa.text(self.list_query), {"p": pattern}).all())
        return [name for (name,) in found]

    def drop_database(self, name: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self.owner is not None:
            self.owner.stop()
            self.owner = None
