"""The application's engine and sessions.

flowdesk is synchronous on purpose: SQLAlchemy sync sessions over the same drivers the migrations
use (``sqlite3`` and ``psycopg``), so no second, async driver stack (aiosqlite, asyncpg) has to be
installed, configured and kept in agreement with the migrations. FastAPI runs sync endpoints in
its threadpool, which is ample for a tracking server whose requests are short queries, and the
worker and the tests use the very same session code.

Engines come from :func:`contribkit.databases.create_engine`, which turns on
``PRAGMA foreign_keys`` for every SQLite connection: SQLite ignores foreign keys, and so
``ON DELETE CASCADE``, unless each connection asks for them.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    from contribkit.databases import create_engine

    # pre_ping: a server that outlives a database restart reconnects instead of failing once.
    return create_engine(url, pool_pre_ping=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine)


def one_line(exc: BaseException) -> str:
    """The driver's first line of a database error, without SQLAlchemy's SQL and links."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
