"""flowdesk's own migration runtime on SQLite: each revision commits or rolls back whole.

The revisions here are written for the test, in a scripts folder whose env.py runs
:func:`flowdesk.server.database.alembic_env.run_migrations`, as flowdesk's env.py does.
"""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.pool import NullPool

from flowdesk.errors import MigrationFailed
from flowdesk.server.database.engine import make_engine

ENV = """
from alembic import context

from flowdesk.server.database.alembic_env import run_migrations

run_migrations(context)
"""

PARENTS = """
revision = "a1"
down_revision = None


def upgrade():
    op.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT)")
    op.execute(
        "CREATE TABLE child (id INTEGER PRIMARY KEY,"
        " parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE)"
    )
    op.execute("INSERT INTO parent VALUES (1, 'p')")
    op.execute("INSERT INTO child VALUES (1, 1)")
"""

REBUILD = """
revision = "b2"
down_revision = "a1"


def upgrade():
    with op.batch_alter_table("parent", recreate="always") as batch:
        batch.add_column(sa.Column("note", sa.String(20)))
"""

#: A batch rebuild of the parent table (which would cascade into child with foreign keys on),
#: then a statement that fails: the rebuild must be rolled back with it.
REBUILD_THEN_FAIL = REBUILD + '    op.execute("INSERT INTO no_such_table VALUES (1)")\n'

ORPHAN_CHILDREN = """
revision = "b2"
down_revision = "a1"


def upgrade():
    op.execute("DELETE FROM parent")
"""


def scripts(folder: Path, second: str) -> Config:
    (folder / "versions").mkdir(parents=True)
    (folder / "env.py").write_text(ENV)
    header = "import sqlalchemy as sa\nfrom alembic import op\n"
    (folder / "versions" / "a1_parents.py").write_text(header + PARENTS)
    (folder / "versions" / "b2_second.py").write_text(header + second)
    config = Config(cmd_opts=Namespace(quiet=True))
    config.set_main_option("script_location", str(folder))
    config.set_main_option("path_separator", "os")
    return config


def upgrade(config: Config, url: str) -> None:
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            # The connection the caller passed has foreign keys on again afterwards.
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def state(url: str) -> tuple[str | None, set[str], int]:
    """(revision, tables, children) of the database."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
            revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            children = connection.exec_driver_sql("SELECT count(*) FROM child").scalar()
            return revision.scalar(), tables, children
    finally:
        engine.dispose()


def test_a_rebuild_neither_cascades_nor_survives_a_failed_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with pytest.raises(sa.exc.OperationalError, match="no_such_table"):
        upgrade(scripts(tmp_path / "failing", REBUILD_THEN_FAIL), url)
    revision, tables, children = state(url)
    assert revision == "a1"  # the first revision committed, the second not at all
    assert not {t for t in tables if t.startswith("_alembic_tmp")}, tables
    assert children == 1

    upgrade(scripts(tmp_path / "fixed", REBUILD), url)
    assert state(url) == ("b2", {"alembic_version", "parent", "child"}, 1)  # no cascade


def test_a_revision_that_leaves_dangling_rows_is_rolled_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with pytest.raises(MigrationFailed, match="revision b2 leaves rows whose parent"):
        upgrade(scripts(tmp_path / "orphans", ORPHAN_CHILDREN), url)
    assert state(url)[0] == "a1"
