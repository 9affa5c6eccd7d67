"""The ledger's own Alembic environment, written long before it adopted contribkit.

It migrates through an async engine of its own, switches SQLite's foreign keys off for the
whole run, and keeps indexes its DBAs add by hand out of autogenerate.
"""

import asyncio
import os
from pathlib import Path

import sqlalchemy as sa
from alembic import context
from ledger.models import metadata
from sqlalchemy.ext.asyncio import create_async_engine

config = context.config
# The Alembic cookbook's "Sharing a Connection across one or more programmatic migration
# commands": a tool such as contribkit passes the connection to migrate.
connection = config.attributes.get("connection")
URL = os.environ.get("LEDGER_DATABASE_URL", "sqlite+aiosqlite:///ledger.db")
dialect = connection.dialect.name if connection is not None else sa.make_url(URL).get_backend_name()


def include_object(obj, name, type_, reflected, compare_to):
    return not (type_ == "index" and reflected and name.startswith("dba_"))


def do_run_migrations(connection):
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        render_as_batch=dialect == "sqlite",
        transaction_per_migration=True,
        template_args={"dialect": dialect},
    )
    if dialect == "sqlite":
        context.execute("COMMIT")
        context.execute("PRAGMA foreign_keys=OFF")
        context.execute("BEGIN")
    with context.begin_transaction():
        context.run_migrations()
    if dialect == "sqlite":
        context.execute("END")
        context.execute("PRAGMA foreign_keys=ON")
        context.execute("BEGIN")


async def apply_migrations():
    engine = create_async_engine(URL)
    if dialect == "sqlite":
        # The ledger's engine emits BEGIN itself, so its DDL is transactional.
        @sa.event.listens_for(engine.sync_engine, "connect")
        def _autocommit(dbapi_connection, _record):
            dbapi_connection.isolation_level = None

        @sa.event.listens_for(engine.sync_engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN")

    context.script.version_locations = [str(Path(__file__).parent / "versions" / dialect)]
    try:
        async with engine.connect() as conn:
            await conn.run_sync(do_run_migrations)
            await conn.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("the ledger does not render offline SQL")
elif connection is not None:
    do_run_migrations(connection)
else:
    asyncio.run(apply_migrations())
