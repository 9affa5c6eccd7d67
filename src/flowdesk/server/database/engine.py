"""The application's engine.

flowdesk is synchronous on purpose: SQLAlchemy sync sessions over the same drivers the migrations
use (``sqlite3`` and ``psycopg``), so no second, async driver stack (aiosqlite, asyncpg) has to be
installed, configured and kept in agreement with the migrations. FastAPI runs sync endpoints in
its threadpool, which is ample for a tracking server whose requests are short queries, and the
worker and the tests use the very same session code.

Every SQLite connection turns ``PRAGMA foreign_keys`` on: SQLite ignores foreign keys, and so
``ON DELETE CASCADE``, unless each connection asks for them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from flowdesk.errors import FlowdeskError, one_line


def redact(url: str | URL) -> str:
    """``url`` with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # ArgumentError, or ValueError for a port such as 'abc'
        return "<unparseable URL>"


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for ``url``; ``options`` go to :func:`sqlalchemy.create_engine`.

    A malformed URL or a driver that is not installed is a one-line :class:`FlowdeskError`.
    """
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "postgresql":
            # psycopg returns timestamptz in the session's time zone, where an instant the API
            # accepts (any of years 1..9999 in UTC) can fall outside them: read everything in
            # UTC. Appended to the URL's own ?options=, which connect_args would otherwise
            # replace.
            given = parsed.query.get("options", "")
            given = " ".join(given) if isinstance(given, tuple) else given
            options["connect_args"] = {"options": f"{given} -c TimeZone=UTC".strip()}
        # pre_ping: a server that outlives a database restart reconnects instead of failing once.
        engine = sa.create_engine(parsed, pool_pre_ping=True, **options)
    except ModuleNotFoundError as exc:
        raise FlowdeskError(
            f"the database driver for {redact(url)} is not installed ({exc.name})."
        ) from exc
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise FlowdeskError(f"not a valid database URL: {redact(url)} ({one_line(exc)}).") from exc
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _foreign_keys_on)
    return engine


def _foreign_keys_on(dbapi_connection: Any, record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()
