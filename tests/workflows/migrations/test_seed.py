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
