"""SQLite's rules, in one place: foreign keys, transactional DDL, all-or-nothing revisions.

SQLite ignores foreign keys (and so ``ON DELETE CASCADE``) unless every connection asks for them,
and its driver commits DDL at once unless told otherwise. Every engine contribkit creates gets
:func:`enforce_foreign_keys`; every migration run goes through :func:`revision_transactions`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from contribkit.databases.dialects import dialect_named

#: ``Connection.info`` key: the statement a transactional-DDL SQLite engine begins with.
BEGIN_STATEMENT = "contribkit_begin"


def enforce_foreign_keys(engine: Any, *, transactional_ddl: bool = False) -> None:
    """``PRAGMA foreign_keys=ON`` on every new connection of ``engine``.

    ``transactional_ddl``: the driver never begins or commits by itself and every SQLAlchemy
    transaction starts with an explicit BEGIN, so DDL is transactional (SQLAlchemy's documented
    recipe, which async SQLite projects use).
    """
    import sqlalchemy as sa

    @sa.event.listens_for(engine, "connect")
    def _foreign_keys_on(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        if transactional_ddl:
            dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    if transactional_ddl:

        @sa.event.listens_for(engine, "begin")
        def _begin(connection) -> None:  # type: ignore[no-untyped-def]
            # A migration run asks for BEGIN IMMEDIATE (revision_transactions).
            connection.exec_driver_sql(connection.info.get(BEGIN_STATEMENT, "BEGIN"))


@contextmanager
def revision_transactions(connection: Any) -> Iterator[list[Any]]:
    """On SQLite, make every revision all or nothing, as on PostgreSQL.

    The driver by itself commits DDL at once, so a revision that fails half-way through a batch
    rebuild would leave its ``_alembic_tmp_<table>`` behind and every retry would fail on it.
    Here the driver leaves transactions to SQLAlchemy, which opens each one with
    ``BEGIN IMMEDIATE`` (the write lock is taken before the revision reads anything, so two
    upgrades of one database serialize): a revision's DDL, DML and version update commit or
    roll back together. ``PRAGMA foreign_keys`` has no effect inside a transaction, so it is
    switched off around the whole run instead (a rebuilt parent table must not cascade into its
    children), and each revision must leave no dangling foreign key before it commits. Yields
    the ``on_version_apply`` callbacks for ``context.configure``.
    """
    if (
        not dialect_named(connection.dialect.name).foreign_keys_can_be_off
        or connection.in_transaction()
    ):
        yield []
        return
    import sqlalchemy as sa

    pooled = connection.connection
    driver = pooled.dbapi_connection
    emits_begin = driver.isolation_level is None  # the engine already issues BEGIN itself
    if emits_begin:
        connection.info[BEGIN_STATEMENT] = "BEGIN IMMEDIATE"  # see enforce_foreign_keys
    else:
        previous = driver.isolation_level
        driver.isolation_level = None
        sa.event.listen(connection, "begin", _begin_immediate)
    _pragma(pooled, "foreign_keys=OFF")
    # Rows already dangling before the run are the database's, not a revision's doing.
    dangling_before = set(_dangling(pooled))
    try:
        yield [_no_new_dangling_rows(dangling_before)]
    finally:
        if connection.in_transaction():
            connection.rollback()
        _pragma(pooled, "foreign_keys=ON")
        connection.info.pop(BEGIN_STATEMENT, None)
        if not emits_begin:
            sa.event.remove(connection, "begin", _begin_immediate)
            driver.isolation_level = previous


def _no_new_dangling_rows(before: set[tuple[str, int, str]]) -> Any:
    """An ``on_version_apply`` callback refusing a revision that leaves a row without its
    parent; it raises inside the revision's transaction, so the revision is rolled back."""

    def check(*, ctx: Any, step: Any, **_: Any) -> None:
        from contribkit.core.errors import CheckFailed

        new = [row for row in _dangling(ctx.connection) if row not in before]
        if new:
            shown = "; ".join(
                f"{table} row {rowid} -> {parent}" for table, rowid, parent in new[:5]
            )
            raise CheckFailed(
                f"revision {step.up_revision_id} leaves rows whose parent row is missing "
                f"({shown}): it was rolled back"
            )

    return check


def _begin_immediate(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _dangling(connection: Any) -> list[tuple[str, int, str]]:
    """``PRAGMA foreign_key_check``: (table, rowid, parent table) of rows whose parent is gone."""
    if hasattr(connection, "exec_driver_sql"):
        rows = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    else:  # the pooled DBAPI connection, outside any transaction
        cursor = connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_key_check")
            rows = cursor.fetchall()
        finally:
            cursor.close()
    return [(row[0], row[1], row[2]) for row in rows]


def _pragma(pooled: Any, setting: str) -> None:
    """Outside any transaction, where SQLite honours it."""
    cursor = pooled.cursor()
    try:
        cursor.execute(f"PRAGMA {setting}")
    finally:
        cursor.close()
