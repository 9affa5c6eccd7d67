"""A history that starts from the project's own ``create_all`` (``base_schema``), with
downgrades that do nothing, as MLflow's does: adopted on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

INITIAL = '''"""What the project's own set-up creates before its first revision runs."""

import sqlalchemy as sa

metadata = sa.MetaData()
sa.Table(
    "warehouse",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(20), nullable=False, unique=True),
)
'''
REVISION = """import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = {down!r}


def upgrade():
    {upgrade}


def downgrade():
    {downgrade}
"""
#: The models without the item table, so that the base schema and two revisions make them.
ITEM = "item = sa.Table("


@pytest.fixture
def started(sample):  # type: ignore[no-untyped-def]
    """The sample project, shared layout, whose history starts from ``inventory.initial``."""
    sample.edit(
        "pyproject.toml",
        'notes = "NOTES.md"\n',
        'notes = "NOTES.md"\nlayout = "shared"\nbase_schema = "inventory.initial:metadata"\n',
    )
    models = sample.root / "inventory" / "models.py"
    text = models.read_text()
    models.write_text(text[: text.index(ITEM)])
    (sample.root / "inventory" / "initial.py").write_text(INITIAL)
    assert sample.cli("init").code == 0
    versions = sample.root / "migrations" / "versions"
    revisions = [
        # The first needs the base schema's table; its downgrade does nothing (MLflow's do).
        ("a1", None, 'op.add_column("warehouse", sa.Column("city", sa.String(80)))', "pass"),
        (
            "b2",
            "a1",
            'op.create_table("audit", sa.Column("id", sa.Integer, primary_key=True))',
            'op.drop_table("audit")',
        ),
    ]
    for rev, down, upgrade, downgrade in revisions:
        (versions / f"{rev}_step.py").write_text(
            REVISION.format(rev=rev, down=down, upgrade=upgrade, downgrade=downgrade)
        )
    return sample


@pytest.mark.dialects("sqlite", "postgresql")  # its history is written for PostgreSQL
def test_the_history_runs_on_the_base_schema_and_is_adopted(started) -> None:
    first = started.cli("check")
    assert first.code == 1
    for dialect in ("sqlite", "postgresql"):
        # It ran on the base schema: the add_column worked, and only its empty downgrade fails.
        assert (
            f"! {dialect}: a1_step.py: re-upgrade to a1 failed at ALTER TABLE warehouse ADD"
            in first.out
        )
    assert "no such table" not in first.out and "does not exist" not in first.out
    assert started.cli("baseline").code == 0
    assert started.cli("check").code == 0
    again = started.cli("check")
    assert again.code == 0, again.err
    # Its baseline passes failed (a1 cannot go down), yet the walk's states were kept.
    for dialect in ("sqlite", "postgresql"):
        assert f"{dialect}: 2 of 2 revisions proven by an earlier run (cache)" in again.out


def test_migrate_writes_on_top_of_it_without_the_folders_template(started) -> None:
    assert started.cli("baseline").code == 0
    (started.root / "migrations" / "script.py.mako").unlink()  # as a wheel ships it
    started.edit(
        "inventory/models.py",
        '    sa.Column("city", sa.String(80), nullable=True),\n',
        '    sa.Column("city", sa.String(80), nullable=True),\n'
        '    sa.Column("note", sa.Text, nullable=True),\n',
    )
    outcome = started.cli("migrate", "-m", "add note")
    assert outcome.code == 0, outcome.err
    assert "no script.py.mako: using contribkit's template" in outcome.out
    assert not (started.root / "migrations" / "script.py.mako").exists()
    (new,) = (started.root / "migrations" / "versions").glob("*_add_note.py")
    assert 'down_revision: str | Sequence[str] | None = "b2"' in new.read_text()
    assert started.cli("check").code == 0


def test_without_the_base_schema_the_first_revision_has_no_table(started) -> None:
    """The test above can fail: without base_schema the first revision finds no table."""
    started.edit("pyproject.toml", 'base_schema = "inventory.initial:metadata"\n', "")
    outcome = started.cli("check", "--dialect", "sqlite")
    assert outcome.code == 1
    assert (
        "a1_step.py: upgrade to a1 failed at ALTER TABLE warehouse ADD COLUMN city" in outcome.out
    )
    assert "no such table: warehouse" in outcome.out
