"""The one place that configures Alembic's migration context.

A project's ``env.py`` calls :func:`run_env`; contribkit's own commands go through that same
``env.py`` (via ``alembic.command``) and pass what they need in ``Config.attributes``. So
autogenerate, upgrade, verification and the drift check all compare with the same options.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: Keys contribkit puts in ``alembic.config.Config.attributes``.
ATTR_CONNECTION = "connection"
ATTR_METADATA = "target_metadata"
ATTR_DIALECT = "contribkit_dialect"
ATTR_EXCLUDE = "contribkit_exclude_tables"


def context_options(dialect: str, metadata: Any, exclude_tables: frozenset[str] = frozenset()):
    """Options for ``context.configure`` / ``MigrationContext.configure``, shared by every path."""

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any):
        # One policy everywhere: tables the project excludes are invisible to autogenerate,
        # whether they exist in the models, the database, or both.
        table = obj if type_ == "table" else getattr(obj, "table", None)
        table_name = name if type_ == "table" else getattr(table, "name", None)
        return table_name not in exclude_tables

    def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
        # Each dialect has its own files, so a type is written as what that dialect stores (see
        # storedtypes): Alembic's repr of a variant does not even import cleanly, and of a
        # project's TypeDecorator it would make the revision import the project.
        if type_ != "type":
            return False
        from alembic.autogenerate.render import _repr_type

        from contribkit.migrations.storedtypes import stored_type

        stored = stored_type(obj, autogen_context.dialect)
        return False if stored is obj else _repr_type(stored, autogen_context)

    return {
        "target_metadata": metadata,
        "render_item": render_item,
        "compare_type": True,
        "include_object": include_object,
        # SQLite cannot ALTER most things: batch mode rebuilds the table.
        "render_as_batch": dialect == "sqlite",
        # Each revision in its own transaction: all or nothing, on SQLite too (see
        # sqlite_revision_transactions).
        "transaction_per_migration": True,
    }


def run_env() -> None:
    """Body of a contribkit-managed ``env.py``: run migrations online or render them offline."""
    from alembic import context

    config = context.config
    attrs = config.attributes
    dialect = attrs.get(ATTR_DIALECT) or config.get_main_option("contribkit.dialect") or "sqlite"
    metadata = attrs.get(ATTR_METADATA)
    if metadata is None:
        from contribkit.config import load_config
        from contribkit.importing import load_metadata

        project = load_config()
        metadata = load_metadata(project.require_models(), project.root)
        attrs.setdefault(ATTR_EXCLUDE, project.exclude_tables)
    options = context_options(dialect, metadata, frozenset(attrs.get(ATTR_EXCLUDE, ())))

    if context.is_offline_mode():
        context.configure(dialect_name=dialect, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return

    from sqlalchemy.engine import Engine

    from contribkit.databases import create_engine

    connectable = attrs.get(ATTR_CONNECTION)
    if isinstance(connectable, Engine):  # as pytest-alembic passes it: it stays the caller's
        with connectable.connect() as connection:
            _run_online(context, connection, options)
        return
    if connectable is not None:
        _run_online(context, connectable, options)
        return

    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as connection:
            _run_online(context, connection, options)
    finally:
        engine.dispose()


def _run_online(context: Any, connection: Any, options: dict[str, Any]) -> None:
    with sqlite_revision_transactions(connection) as on_version_apply:
        context.configure(connection=connection, on_version_apply=on_version_apply, **options)
        with context.begin_transaction():
            context.run_migrations()
        if connection.in_transaction():
            connection.commit()


@contextmanager
def sqlite_revision_transactions(connection: Any) -> Iterator[list[Any]]:
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
    if connection.dialect.name != "sqlite" or connection.in_transaction():
        yield []
        return
    import sqlalchemy as sa

    from contribkit.databases import BEGIN_STATEMENT

    pooled = connection.connection
    driver = pooled.dbapi_connection
    emits_begin = driver.isolation_level is None  # the engine already issues BEGIN itself
    if emits_begin:
        connection.info[BEGIN_STATEMENT] = "BEGIN IMMEDIATE"  # see databases.create_engine
    else:
        previous = driver.isolation_level
        driver.isolation_level = None
        sa.event.listen(connection, "begin", _begin_immediate)
    _pragma(pooled, "foreign_keys=OFF")
    # Rows already dangling before the run are the database's, not a revision's doing.
    dangling_before = set(_dangling(pooled))

    def no_new_dangling_rows(*, ctx: Any, step: Any, **_: Any) -> None:
        """Raised inside the revision's transaction, so the revision is rolled back."""
        from contribkit.errors import CheckFailed

        new = [row for row in _dangling(ctx.connection) if row not in dangling_before]
        if new:
            shown = "; ".join(
                f"{table} row {rowid} -> {parent}" for table, rowid, parent in new[:5]
            )
            raise CheckFailed(
                f"revision {step.up_revision_id} leaves rows whose parent row is missing "
                f"({shown}): it was rolled back"
            )

    try:
        yield [no_new_dangling_rows]
    finally:
        if connection.in_transaction():
            connection.rollback()
        _pragma(pooled, "foreign_keys=ON")
        connection.info.pop(BEGIN_STATEMENT, None)
        if not emits_begin:
            sa.event.remove(connection, "begin", _begin_immediate)
            driver.isolation_level = previous


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
