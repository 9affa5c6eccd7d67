"""The seeder fills every flowdesk table, so verification really checks that rows survive."""

from __future__ import annotations

from sqlalchemy.pool import NullPool

from contribkit.databases.engines import create_engine
from contribkit.workflows.migrations import seed
from flowdesk.server.database.orm_models import Base


def test_every_flowdesk_table_gets_rows(database_url: str) -> None:
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.connect() as connection:
        failures = seed.seed(connection, Base.metadata)
        counts = seed.row_counts(connection)
        violations = seed.foreign_key_violations(connection)
    engine.dispose()
    assert failures == {}
    assert counts == {name: seed.ROWS_PER_TABLE for name in Base.metadata.tables}
    assert violations == []


def test_a_projects_type_gets_values_its_own_conversion_accepts(dialect: str) -> None:
    """A UUID kept as CHAR(36) by a TypeDecorator that takes only UUIDs (as Prefect's does),
    and JSON that its type validates: the seeder offers what the conversion accepts."""
    import uuid

    import sqlalchemy as sa

    from contribkit.databases.throwaway import ephemeral_database

    class StrictUUID(sa.TypeDecorator):
        impl = sa.CHAR(36)
        cache_ok = True

        def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
            return None if value is None else str(uuid.UUID(str(value)))

    class Settings(sa.TypeDecorator):
        impl = sa.JSON
        cache_ok = True

        def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
            if not isinstance(value, dict):
                raise TypeError("settings are a mapping")
            return value

    metadata = sa.MetaData()
    sa.Table(
        "run",
        metadata,
        sa.Column("id", StrictUUID, primary_key=True),
        sa.Column("settings", Settings, nullable=False),
    )
    with ephemeral_database(dialect) as url:
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                metadata.create_all(connection)
                connection.commit()
                failures = seed.seed(connection, metadata)
                counts = seed.row_counts(connection)
        finally:
            engine.dispose()
    assert failures == {}
    assert counts == {"run": seed.ROWS_PER_TABLE}
