"""contribkit's env.py body (contribkit.workflows.migrations.runtime) with what callers pass it."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from contribkit.core.config import load_config
from contribkit.databases.engines import create_engine
from contribkit.databases.throwaway import ephemeral_database
from contribkit.workflows.migrations.project import project_migrations


def test_an_engine_passed_as_the_connection_is_used_as_pytest_alembic_passes_it(
    grown, dialect
) -> None:
    grown.forget_modules()
    config = load_config(grown.root)
    migrations = project_migrations(config, (dialect,))
    with ephemeral_database(dialect) as url:
        engine = create_engine(url)
        try:
            alembic_config = migrations.alembic_config(dialect)
            alembic_config.attributes["connection"] = engine
            command.upgrade(alembic_config, "head")
            with engine.connect() as connection:
                version = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
                assert version.scalar_one() == migrations.single_head(dialect)
        finally:
            engine.dispose()
