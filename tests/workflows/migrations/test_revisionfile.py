"""Which existing tables a revision file's upgrade() changes, read from its source."""

from __future__ import annotations

from pathlib import Path

from contribkit.workflows.migrations.revisionfile import touched_tables

REVISION = """
from alembic import op
import sqlalchemy as sa


def upgrade():
    op.create_table("fresh", sa.Column("id", sa.Integer, primary_key=True))
    op.create_index("ix_fresh_id", "fresh", ["id"])
    with op.batch_alter_table("flow_run") as batch_op:
        batch_op.add_column(sa.Column("x", sa.Integer))
    op.add_column("log", sa.Column("y", sa.Integer))
    op.create_foreign_key("fk", source_table="task_run", referent_table="flow", local_cols=["a"], remote_cols=["b"])
    op.drop_index(op.f("ix_old"), table_name="artifact")
    op.alter_column(name, "c")


def downgrade():
    op.drop_column("elsewhere", "y")
"""


def test_the_tables_upgrade_changes_but_does_not_create(tmp_path: Path) -> None:
    path = tmp_path / "rev.py"
    path.write_text(REVISION)
    assert touched_tables(path) == {"flow_run", "log", "task_run", "artifact"}


def test_an_unreadable_file_names_no_table(tmp_path: Path) -> None:
    path = tmp_path / "rev.py"
    path.write_text("def upgrade(:\n")
    assert touched_tables(path) == frozenset()
    assert touched_tables(tmp_path / "missing.py") == frozenset()


def test_what_upgrade_changes_by_name_on_op_and_in_batches(tmp_path: Path) -> None:
    from contribkit.workflows.migrations.revisionfile import changed_items

    path = tmp_path / "rev.py"
    path.write_text(REVISION)
    assert changed_items(path) == {
        "table fresh",
        "index ix_fresh_id",
        "column flow_run.x",
        "column log.y",
        "constraint fk",
        "index ix_old",  # op.f("...") is read through
    }  # op.alter_column(name, ...) names its table with a variable: not read; downgrade() neither
