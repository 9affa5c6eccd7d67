"""contribkit on an independent project (tests/sample_project), adopted only through config."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

MODELS = "inventory/models.py"
CITY = '    sa.Column("city", sa.String(80), nullable=True),\n'


@pytest.fixture
def adopted(sample):  # type: ignore[no-untyped-def]
    """The sample project after `contribkit init` and its first migration on both dialects."""
    assert sample.cli("init").code == 0
    outcome = sample.cli("migrate", "-m", "initial inventory")
    assert outcome.code == 0, outcome.err
    return sample


@pytest.mark.dialects("sqlite", "postgresql")  # names versions/postgresql; MySQL's in test_mysql.py
def test_init_creates_the_layout_and_refuses_to_overwrite(sample) -> None:
    outcome = sample.cli("init")
    assert outcome.code == 0, outcome.err
    for relative in (
        "migrations/env.py",
        "migrations/script.py.mako",
        "NOTES.md",
        "migrations/versions/sqlite/.gitkeep",
        "migrations/versions/postgresql/.gitkeep",
    ):
        assert (sample.root / relative).is_file(), relative
    before = sample.snapshot()
    again = sample.cli("init")
    assert again.code == 2
    assert "refusing to overwrite" in again.err
    assert sample.snapshot() == before


@pytest.mark.dialects("sqlite", "postgresql")  # PostgreSQL's enum type; MySQL's in test_mysql.py
def test_first_migration_covers_both_dialects_and_enum_hazard(adopted) -> None:
    assert len(adopted.versions("sqlite")) == 1
    assert len(adopted.versions("postgresql")) == 1
    pg_text = adopted.versions("postgresql")[0].read_text()
    assert 'DROP TYPE IF EXISTS "item_kind"' in pg_text.split("def downgrade")[1]
    notes = (adopted.root / "NOTES.md").read_text()
    assert "## Initial inventory" in notes
    assert "dialect hazard: PostgreSQL enum type item_kind is created" in notes
    assert adopted.cli("check").code == 0


def test_drop_is_refused_without_allow_destructive(adopted, dialect) -> None:
    adopted.edit(MODELS, CITY, "")
    before = adopted.snapshot()
    refused = adopted.cli("migrate", "-m", "drop_city", "--dialect", dialect)
    assert refused.code == 1
    assert (
        f"{dialect}: review: refusing destructive operations (drop column warehouse.city)"
        in refused.err
    )
    assert adopted.snapshot() == before

    allowed = adopted.cli("migrate", "-m", "drop_city", "--dialect", dialect, "--allow-destructive")
    assert allowed.code == 0, allowed.err
    assert len(adopted.versions(dialect)) == 2
    assert "destructive: drop column warehouse.city" in (adopted.root / "NOTES.md").read_text()


@pytest.mark.dialects("sqlite", "postgresql")  # names versions/postgresql; MySQL's in test_mysql.py
def test_not_null_without_default_fails_verification_on_existing_rows(adopted, dialect) -> None:
    adopted.edit(MODELS, CITY, CITY + '    sa.Column("region", sa.String(10), nullable=False),\n')
    before = adopted.snapshot()
    outcome = adopted.cli("migrate", "-m", "add_region", "--dialect", dialect)
    assert outcome.code == 1
    assert "data-dependent: add column warehouse.region VARCHAR(10) NOT NULL" in outcome.out
    assert outcome.err.startswith(f"error: {dialect}: verify: upgrade to ")
    assert adopted.snapshot() == before


def test_rebuilding_a_parent_table_keeps_child_rows(adopted, dialect) -> None:
    # Widening warehouse.code makes SQLite rebuild `warehouse` in batch mode. Without the
    # PRAGMA bracket, dropping the old table would cascade into `item` and delete its rows.
    adopted.edit(MODELS, 'sa.Column("code", sa.String(20)', 'sa.Column("code", sa.String(64)')
    outcome = adopted.cli("migrate", "-m", "widen_code", "--dialect", dialect)
    assert outcome.code == 0, outcome.err
    assert "could not seed" not in outcome.out
    assert "data-dependent" not in outcome.out  # widening cannot fail on existing values
    assert adopted.cli("check", "--dialect", dialect).code == 0


def test_check_catches_a_sqlite_revision_without_the_pragma_bracket(adopted) -> None:
    adopted.edit(MODELS, 'sa.Column("code", sa.String(20)', 'sa.Column("code", sa.String(64)')
    assert adopted.cli("migrate", "-m", "widen_code", "--dialect", "sqlite").code == 0
    newest = next(p for p in adopted.versions("sqlite") if p.name.endswith("_widen_code.py"))
    newest.write_text(newest.read_text().replace('op.execute("PRAGMA foreign_keys=OFF")', "pass"))
    outcome = adopted.cli("check", "--dialect", "sqlite")
    assert outcome.code == 1
    assert "upgrade() must start with op.execute('PRAGMA foreign_keys=OFF')" in outcome.out
    # contribkit's own runtime switches foreign keys off around the whole run, so even this
    # revision keeps the children of the rebuilt table (a plain Alembic run would not): the two
    # bracket findings (upgrade and downgrade) are all the check has to say.
    assert "migrations check failed with 2 problem(s) in sqlite" in outcome.err


def test_a_drop_and_add_of_one_type_is_flagged_as_a_suspected_rename(adopted, dialect) -> None:
    adopted.edit(MODELS, 'sa.Column("city", sa.String(80)', 'sa.Column("town", sa.String(80)')
    outcome = adopted.cli("migrate", "-m", "rename_city", "--dialect", dialect)
    assert outcome.code == 1  # still destructive
    assert "suspected rename: warehouse.city -> warehouse.town (VARCHAR(80))" in outcome.out


@pytest.mark.dialects("sqlite", "postgresql")  # names versions/postgresql
def test_check_requires_notes_to_match_the_revision_files(adopted) -> None:
    notes = adopted.root / "NOTES.md"
    rev = adopted.versions("sqlite")[0].name.split("_")[4]
    notes.write_text(notes.read_text().replace(f"SQLite: `{rev}`", "SQLite: `0123456789ab`"))
    outcome = adopted.cli("check")
    assert outcome.code == 1
    assert f"_{rev}_initial_inventory.py: revision {rev} has no entry in the notes" in outcome.out
    assert "sqlite: the notes name 0123456789ab, which has no revision file" in outcome.out
    assert "postgresql: 1 revisions" in outcome.out


def test_custom_types_are_written_as_the_types_they_store(adopted, dialect) -> None:
    """A TypeDecorator's Python-side conversion stays in the models: the revision holds the
    type it stores on that dialect, named by a public SQLAlchemy class, so it runs wherever
    alembic runs, without the project's package. SQLAlchemy's own decorators (Interval) stay
    whole. The seed rows that verify it are values of the stored type, bound through the
    conversion."""
    adopted.edit(
        MODELS, "import sqlalchemy as sa\n", "import datetime\n\nimport sqlalchemy as sa\n"
    )
    models = adopted.root / MODELS
    models.write_text(
        models.read_text() + "\n\nclass Lowercase(sa.types.TypeDecorator):\n"
        "    impl = sa.String(40)\n"
        "    cache_ok = True\n\n"
        "    def process_bind_param(self, value, dialect):\n"
        "        return value.lower()\n\n\n"
        "class Utc(sa.types.TypeDecorator):\n"
        "    impl = sa.DateTime(timezone=True)\n"
        "    cache_ok = True\n\n"
        "    def process_bind_param(self, value, dialect):\n"
        "        return value.astimezone(datetime.timezone.utc)\n\n\n"
        "class Guid(sa.types.TypeDecorator):  # SQLAlchemy's backend-agnostic GUID recipe\n"
        "    impl = sa.CHAR(32)\n"
        "    cache_ok = True\n\n"
        "    def load_dialect_impl(self, dialect):\n"
        "        if dialect.name == 'postgresql':\n"
        "            return dialect.type_descriptor(sa.UUID())\n"
        "        return dialect.type_descriptor(sa.CHAR(32))\n\n\n"
        "class Level(sa.types.TypeDecorator):\n"
        "    impl = sa.Enum('low', 'high', name='audit_level')\n"
        "    cache_ok = True\n\n\n"
        "audit = sa.Table(\n"
        "    'audit',\n"
        "    metadata,\n"
        "    sa.Column('id', sa.Integer, primary_key=True),\n"
        "    sa.Column('label', Lowercase(), nullable=False),\n"
        "    sa.Column('at', Utc(), nullable=False),\n"
        "    sa.Column('ref', Guid(), nullable=False),\n"
        "    sa.Column('level', Level(), nullable=False),\n"
        "    sa.Column('span', sa.Interval(), nullable=True),\n"
        ")\n"
    )
    outcome = adopted.cli("migrate", "-m", "add_audit", "--dialect", dialect)
    assert outcome.code == 0, outcome.err
    assert "could not seed" not in outcome.out + outcome.err
    [new] = [p for p in adopted.versions(dialect) if p.name.endswith("_add_audit.py")]
    text = new.read_text().replace('"', "'")
    stored_ref = "sa.UUID()" if dialect == "postgresql" else "sa.CHAR(length=32)"
    for column in (
        "sa.Column('label', sa.String(length=40), nullable=False)",
        "sa.Column('at', sa.DateTime(timezone=True), nullable=False)",
        f"sa.Column('ref', {stored_ref}, nullable=False)",
        "sa.Column('level', sa.Enum('low', 'high', name='audit_level'), nullable=False)",
        "sa.Column('span', sa.Interval(), nullable=True)",
    ):
        assert column in text, text
    for name in ("inventory", "Lowercase", "Utc", "Guid", "Level"):
        assert name not in text, name
    if dialect == "postgresql":  # the enum type the custom type creates goes with the downgrade
        assert "DROP TYPE IF EXISTS 'audit_level'" in text.split("def downgrade")[1]
    # The next change is verified on seed rows in every table, the custom-typed one included.
    adopted.edit(MODELS, 'sa.Column("city", sa.String(80)', 'sa.Column("city", sa.String(120)')
    widened = adopted.cli("migrate", "-m", "widen_city", "--dialect", dialect)
    assert widened.code == 0, widened.err
    assert "could not seed" not in widened.out + widened.err
    assert adopted.cli("check", "--dialect", dialect).code == 0


def test_runs_with_different_temporary_folders_share_one_lock(adopted, tmp_path) -> None:
    """The lock is in the project, not in TMPDIR: a second run waits even with its own TMPDIR."""
    from filelock import FileLock

    adopted.edit(MODELS, CITY, CITY + '    sa.Column("zone", sa.String(10), nullable=True),\n')
    before = adopted.versions("sqlite")
    other_tmp = tmp_path / "other-tmp"
    other_tmp.mkdir()
    (adopted.root / ".contribkit").mkdir(exist_ok=True)
    argv = [sys.executable, "-m", "contribkit", "migrate", "-m", "add_zone", "--dialect", "sqlite"]
    env = {**os.environ, "TMPDIR": str(other_tmp), "PYTHONUNBUFFERED": "1"}
    with FileLock(adopted.root / ".contribkit" / "migrate.lock"):
        run = subprocess.Popen(
            argv,
            cwd=adopted.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert run.stdout is not None
        seen = ""
        while "another migrate is running" not in seen:
            line = run.stdout.readline()
            assert line, f"migrate ended without waiting for the lock: {seen}"
            seen += line
        assert adopted.versions("sqlite") == before  # nothing written while the lock is held
    rest, _ = run.communicate(timeout=120)
    assert run.returncode == 0, seen + rest
    assert len(adopted.versions("sqlite")) == len(before) + 1


@pytest.mark.dialects("sqlite", "postgresql")  # names versions/postgresql
def test_check_says_whether_every_dialects_head_matches_the_models(adopted) -> None:
    matched = adopted.cli("check")
    assert matched.code == 0
    assert "sqlite, postgresql: every head matches the models" in matched.out
    adopted.edit(MODELS, CITY, CITY + '    sa.Column("zone", sa.String(8), nullable=True),\n')
    assert adopted.cli("migrate", "-m", "add_zone", "--dialect", "sqlite").code == 0
    differs = adopted.cli("check")
    assert differs.code == 1
    assert "heads that do not match the models: postgresql" in differs.out
