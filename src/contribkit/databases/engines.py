"""Engines for every database contribkit touches: throw-away, trial and the project's real one.

One factory, so every engine gets the same SQLite rules (:mod:`contribkit.databases.sqlite`) and
the same one-line errors for a missing driver or a malformed URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contribkit.core.errors import UsageError, one_line
from contribkit.databases.dialects import dialect_named

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine


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
    :func:`contribkit.databases.asyncdrivers.bridged`. ``transactional_ddl`` (SQLite): the driver never
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
    dialect_named(engine.dialect.name).prepare_engine(engine, transactional_ddl=transactional_ddl)
    return engine


def with_driver(url: str | URL, driver: str | None) -> str:
    """``url`` reached through ``driver`` (``None``: the URL's own)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if driver:
        parsed = parsed.set(drivername=f"{parsed.get_backend_name()}+{driver}")
    return parsed.render_as_string(hide_password=False)
