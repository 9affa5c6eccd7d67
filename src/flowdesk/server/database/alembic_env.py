"""What ``env.py`` runs when flowdesk itself migrates a database (not contribkit's tools).

Online, on the connection the caller passes in ``config.attributes["connection"]`` (the Alembic
cookbook's recipe; flowdesk's ``server database`` commands always pass one), else on
``sqlalchemy.url`` or flowdesk's configured database. Offline (``upgrade --dry-run``) it renders
the SQL for the dialect named in ``config.attributes["flowdesk_dialect"]``.

Each revision commits in its own transaction, so a failed upgrade stops after the last revision
that worked. SQLite needs help for that: see :func:`_sqlite_revisions_all_or_nothing`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

#: ``alembic.config.Config.attributes`` keys: the connection to migrate, the offline dialect.
CONNECTION = "connection"
DIALECT = "flowdesk_dialect"


def _options(dialect: str) -> dict[str, Any]:
    from flowdesk.server.database.orm_models import Base

    return {
        "target_metadata": Base.metadata,
        # SQLite cannot ALTER most things: its revisions rebuild tables in batch mode.
        "render_as_batch": dialect == "sqlite",
        "transaction_per_migration": True,
    }


def run_migrations(context: Any) -> None:
    """The body of ``env.py`` for flowdesk's own runs; ``context`` is ``alembic.context``."""
    config = context.config
    if context.is_offline_mode():
        dialect = (
            config.attributes.get(DIALECT) or sa.engine.make_url(_url(config)).get_backend_name()
        )
        context.configure(dialect_name=dialect, literal_binds=True, **_options(dialect))
        with context.begin_transaction():
            context.run_migrations()
        return
    given = config.attributes.get(CONNECTION)
    if isinstance(given, sa.engine.Connection):
        _migrate(context, given)
        return
    if given is None:
        from sqlalchemy.pool import NullPool

        from flowdesk.server.database.engine import make_engine

        engine = make_engine(_url(config), poolclass=NullPool)
    else:
        engine = given  # an Engine, as pytest-alembic passes one: it stays the caller's
    try:
        with engine.connect() as connection:
            _migrate(context, connection)
    finally:
        if given is None:
            engine.dispose()


def _url(config: Any) -> str:
    from flowdesk.settings import database_url

    return config.get_main_option("sqlalchemy.url") or database_url()


def _migrate(context: Any, connection: sa.engine.Connection) -> None:
    with _sqlite_revisions_all_or_nothing(connection) as on_version_apply:
        context.configure(
            connection=connection,
            on_version_apply=on_version_apply,
            **_options(connection.dialect.name),
        )
        with context.begin_transaction():
            context.run_migrations()
        if connection.in_transaction():
            connection.commit()


@contextmanager
def _sqlite_revisions_all_or_nothing(connection: sa.engine.Connection) -> Iterator[list[Any]]:
    """On SQLite, make each revision one transaction, as it is on PostgreSQL.

    Left to itself, Python's sqlite3 commits before each DDL statement, so a revision failing
    half-way through a batch rebuild would leave its ``_alembic_tmp_<table>`` behind, and every
    retry would fail on it. Here the driver leaves transactions alone and each one starts with
    ``BEGIN IMMEDIATE``: the write lock is taken before the revision reads anything, so two
    upgrades of one database wait for each other instead of interleaving.

    ``PRAGMA foreign_keys`` is ignored inside a transaction, so it is switched off around the
    whole run (a rebuilt parent table must not cascade into its children) and each revision is
    checked instead: it may not leave rows whose parent is missing. Yields the
    ``on_version_apply`` callbacks for ``context.configure``.
    """
    if connection.dialect.name != "sqlite" or connection.in_transaction():
        yield []
        return
    driver = connection.connection.dbapi_connection
    previous_isolation = driver.isolation_level
    driver.isolation_level = None  # no implicit BEGIN or COMMIT: SQLAlchemy's events decide
    sa.event.listen(connection, "begin", _begin_immediate)
    _run_pragma(driver, "PRAGMA foreign_keys=OFF")
    # Rows that dangle already are the database's own, not the revision's doing.
    dangling_before = set(_run_pragma(driver, "PRAGMA foreign_key_check"))

    def no_new_dangling_rows(*, step: Any, **_: Any) -> None:
        """Raised inside the revision's transaction, so the revision is rolled back."""
        from flowdesk.errors import MigrationFailed

        new = [
            r for r in _run_pragma(driver, "PRAGMA foreign_key_check") if r not in dangling_before
        ]
        if new:
            shown = "; ".join(
                f"{table} row {rowid} -> {parent}" for table, rowid, parent, *_ in new[:5]
            )
            raise MigrationFailed(
                f"revision {step.up_revision_id} leaves rows whose parent row is missing "
                f"({shown}): it was rolled back"
            )

    try:
        yield [no_new_dangling_rows]
    finally:
        if connection.in_transaction():
            connection.rollback()
        _run_pragma(driver, "PRAGMA foreign_keys=ON")
        sa.event.remove(connection, "begin", _begin_immediate)
        driver.isolation_level = previous_isolation


def _begin_immediate(connection: sa.engine.Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _run_pragma(driver: Any, statement: str) -> list[tuple[Any, ...]]:
    """``statement`` on the driver's own connection: inside the revision's transaction when one
    is open, else outside any, where SQLite honours ``PRAGMA foreign_keys``."""
    cursor = driver.cursor()
    try:
        cursor.execute(statement)
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        cursor.close()
