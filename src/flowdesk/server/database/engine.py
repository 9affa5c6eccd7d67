"""The application's engine.

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

from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError


def make_engine(url: str) -> Engine:
    from contribkit.databases import create_engine

    try:
        parsed = make_url(url)
    except ArgumentError:
        parsed = None  # create_engine reports the malformed URL in one line
    options: dict[str, object] = {}
    if parsed is not None and parsed.get_backend_name() == "postgresql":
        # psycopg returns timestamptz in the session's time zone, where an instant the API
        # accepts (any of years 1..9999 in UTC) can fall outside them: read everything in UTC.
        # Appended to the URL's own ?options=, which connect_args would otherwise replace.
        given = parsed.query.get("options", "")
        given = " ".join(given) if isinstance(given, tuple) else given
        options["connect_args"] = {"options": f"{given} -c TimeZone=UTC".strip()}
    # pre_ping: a server that outlives a database restart reconnects instead of failing once.
    return create_engine(url, pool_pre_ping=True, **options)
