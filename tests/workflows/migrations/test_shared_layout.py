"""One history every dialect runs (layout = "shared"), on the sample project: SQLite and
PostgreSQL, real databases, through the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from contribkit.databases.throwaway import ephemeral_database

MODELS = "inventory/models.py"
CODE = '    sa.Column("code", sa.String(20), nullable=False, unique=True),\n'
CITY = '    sa.Column("city", sa.String(80), nullable=True),\n'
#: A batch rebuild on SQLite (the type change) and a type with a PostgreSQL variant.
WIDER_CITY = (
    '    sa.Column("city", sa.String(120), nullable=True),\n'
    '    sa.Column("meta", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=True),\n'
)
PLAIN_ENV = """from alembic import context

context.configure(connection=context.config.attributes["connection"])
with context.begin_transaction():
    context.run_migrations()
"""


def revisions(project) -> list[Path]:  # type: ignore[no-untyped-def]
    return sorted((project.root / "migrations" / "versions").glob("*.py"))


@pytest.fixture
def shared(sample):  # type: ignore[no-untyped-def]
    """The sample project with one history for both dialects, after its first migration."""
    sample.edit("pyproject.toml", 'notes = "NOTES.md"\n', 'notes = "NOTES.md"\nlayout = "shared"\n')
    assert sample.cli("init").code == 0
    assert (sample.root / "migrations" / "versions" / ".gitkeep").is_file()
    outcome = sample.cli("migrate", "-m", "initial inventory")
    assert outcome.code == 0, outcome.err
    return sample


@pytest.mark.dialects("sqlite", "postgresql")  # PostgreSQL's output; MySQL's in test_mysql.py
def test_one_revision_verified_on_every_dialect_and_recorded_once(shared) -> None:
    (first,) = revisions(shared)
    assert not (shared.root / "migrations" / "versions" / "sqlite").exists()
    text = first.read_text()
    downgrade = text.split("def downgrade")[1]
    # SQLite's bracket and PostgreSQL's enum clean-up, each behind a test of the dialect.
    assert (
        'if op.get_context().dialect.name == "sqlite":\n        op.execute("PRAGMA foreign_keys=OFF")'
        in text
    )
    assert (
        'if op.get_context().dialect.name == "postgresql":\n        op.execute(\'DROP TYPE IF EXISTS "item_kind"\')'
        in downgrade
    )
    rev = first.name.split("_")[4]
    notes = (shared.root / "NOTES.md").read_text()
    assert f"Revision: `{rev}`" in notes
    assert "SQLite:" not in notes and "Postgres:" not in notes
    check = shared.cli("check")
    assert check.code == 0, check.err
    assert "sqlite: 1 revisions" in check.out and "postgresql: 1 revisions" in check.out


@pytest.mark.dialects("sqlite", "postgresql")  # PostgreSQL's output
def test_batch_rebuild_and_variant_run_on_both_dialects(shared) -> None:
    shared.edit(
        MODELS,
        "import sqlalchemy as sa\n",
        "import sqlalchemy as sa\nfrom sqlalchemy.dialects.postgresql import JSONB\n",
    )
    shared.edit(MODELS, CITY, WIDER_CITY)
    outcome = shared.cli("migrate", "-m", "widen city")
    assert outcome.code == 0, outcome.err
    for dialect in ("sqlite", "postgresql"):
        assert f"{dialect}: verify" in outcome.out
    (new,) = (p for p in revisions(shared) if p.name.endswith("_widen_city.py"))
    text = new.read_text()
    assert 'with op.batch_alter_table("warehouse"' in text
    assert (
        'sa.JSON().with_variant(\n                    postgresql.JSONB(astext_type=sa.Text()), "postgresql"'
        in text
    )
    assert shared.cli("check").code == 0


def test_the_files_run_with_plain_alembic_on_both_dialects(shared, tmp_path) -> None:
    """No contribkit at run time: a bare env.py, the project's own drivers' defaults."""
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    shared.edit(
        MODELS,
        "import sqlalchemy as sa\n",
        "import sqlalchemy as sa\nfrom sqlalchemy.dialects.postgresql import JSONB\n",
    )
    shared.edit(MODELS, CITY, WIDER_CITY)
    assert shared.cli("migrate", "-m", "widen city").code == 0
    plain = tmp_path / "plain"
    (plain / "versions").mkdir(parents=True)
    (plain / "env.py").write_text(PLAIN_ENV)
    for path in revisions(shared):
        (plain / "versions" / path.name).write_bytes(path.read_bytes())
    config = Config()
    config.set_main_option("script_location", str(plain))
    for dialect in ("sqlite", "postgresql"):
        with ephemeral_database(dialect) as url:
            engine = sa.create_engine(url)
            try:
                # Alembic's template form: each revision commits (on SQLite, where a PRAGMA
                # has no effect inside a transaction, that is what keeps child rows).
                with engine.connect() as connection:
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
                    columns = {c["name"] for c in sa.inspect(connection).get_columns("warehouse")}
                    command.downgrade(config, "base")
                    left = set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
            finally:
                engine.dispose()
        assert {"meta", "city"} <= columns, dialect
        assert left == set(), dialect


@pytest.mark.dialects("sqlite", "postgresql")  # PostgreSQL's output
def test_a_revision_one_dialect_cannot_run_is_refused_naming_it(shared) -> None:
    shared.edit(MODELS, CODE, '    sa.Column("code", sa.Integer, nullable=False, unique=True),\n')
    before = shared.snapshot()
    refused = shared.cli("migrate", "-m", "code as number")
    assert refused.code == 1
    assert "sqlite: 2" not in refused.err
    (line,) = refused.err.strip().splitlines()
    assert line.startswith("error: postgresql: verify: upgrade to ")
    assert "at ALTER TABLE warehouse ALTER COLUMN code TYPE INTEGER" in line
    assert 'column "code" cannot be cast automatically to type integer' in line
    assert shared.snapshot() == before


def test_a_dialect_only_type_is_refused_before_anything_is_written(shared) -> None:
    shared.edit(
        MODELS,
        CITY,
        CITY + '    sa.Column("tags", postgresql.ARRAY(sa.String), nullable=True),\n',
    )
    shared.edit(
        MODELS,
        "import sqlalchemy as sa\n",
        "import sqlalchemy as sa\nfrom sqlalchemy.dialects import postgresql\n",
    )
    before = shared.snapshot()
    refused = shared.cli("migrate", "-m", "tags")
    assert refused.code == 2
    assert refused.err.strip() == (
        "error: sqlite: generate: warehouse.tags is postgresql.ARRAY, which sqlite does not have, "
        "and a shared revision runs on every dialect: give the model's type a variant, e.g. "
        "sa.JSON().with_variant(postgresql.ARRAY(), 'postgresql')."
    )
    assert shared.snapshot() == before


@pytest.mark.dialects("sqlite", "postgresql")  # PostgreSQL's output
def test_dialect_selects_where_to_verify_never_where_to_write(shared) -> None:
    shared.edit(MODELS, CITY, CITY + '    sa.Column("note", sa.Text, nullable=True),\n')
    outcome = shared.cli("migrate", "-m", "add note", "--dialect", "postgres")
    assert outcome.code == 0, outcome.err
    assert "sqlite: generate" in outcome.out and "postgresql: verify" in outcome.out
    assert "sqlite: verify" not in outcome.out
    assert len(revisions(shared)) == 2
    assert shared.cli("check").code == 0  # and SQLite runs it too


@pytest.mark.dialects("sqlite", "postgresql")  # PostgreSQL's output
def test_check_names_the_revision_and_the_dialect_it_fails_on(shared) -> None:
    (first,) = revisions(shared)
    rev = first.name.split("_")[4]
    name = "2026_01_01_000000_0000000000aa_pg_only.py"
    (first.parent / name).write_text(
        f'revision = "0000000000aa"\ndown_revision = "{rev}"\n'
        "from alembic import op\n\n"
        'def upgrade():\n    op.execute("CREATE SCHEMA reports")\n\n'
        'def downgrade():\n    op.execute("DROP SCHEMA reports")\n'
    )
    notes = shared.root / "NOTES.md"
    notes.write_text(notes.read_text() + "\n## PG only\n\nRevision: `0000000000aa`\n")
    check = shared.cli("check", "--no-cache")
    assert check.code == 1
    assert (
        f"! sqlite: {name}: upgrade to 0000000000aa failed at CREATE SCHEMA reports:" in check.out
    )
    assert "✓ postgresql: 2 revisions" in check.out


def test_the_real_database_commands_use_the_shared_history(shared, tmp_path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'real.db'}"
    monkeypatch.setenv("INVENTORY_DATABASE_URL", url)
    assert shared.cli("db", "upgrade").code == 0
    current = shared.cli("db", "current")
    assert revisions(shared)[0].name.split("_")[4] in current.out


def _folder(tmp_path: Path, *names: str) -> Path:
    """A migrations folder whose versions/ holds ``names`` (a ``.py`` name is a file)."""
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    for name in names:
        (versions / name).write_text("") if name.endswith(".py") else (versions / name).mkdir()
    return versions.parent


@pytest.mark.parametrize(
    ("names", "configured", "wanted"),
    [
        ((), None, "per-dialect"),
        (("sqlite", "postgresql"), None, "per-dialect"),
        (("a1_first.py", "__init__.py"), None, "shared"),
        (("__init__.py",), "shared", "shared"),
        (("sqlite",), "per-dialect", "per-dialect"),
    ],
)
def test_the_layout_is_what_versions_holds_unless_configured(
    tmp_path, names, configured, wanted
) -> None:
    from contribkit.workflows.migrations.layout import project_layout

    assert project_layout(_folder(tmp_path, *names), configured) == wanted


@pytest.mark.parametrize(
    ("names", "configured", "wanted"),
    [
        (("a1_first.py", "sqlite"), None, "mixes both layouts: revision files (a1_first.py, ...)"),
        (("postgresql",), "shared", "layout = 'shared' but"),
        (("a1_first.py",), "per-dialect", "layout = 'per-dialect' but"),
    ],
)
def test_a_layout_contradiction_is_one_line(tmp_path, names, configured, wanted) -> None:
    from contribkit.core.errors import UsageError
    from contribkit.workflows.migrations.layout import project_layout

    with pytest.raises(UsageError) as raised:
        project_layout(_folder(tmp_path, *names), configured)
    assert wanted in raised.value.message and "\n" not in raised.value.message


def test_a_folder_mixing_layouts_stops_every_command_with_nothing_written(shared, tmp_path) -> None:
    shared.monkeypatch.setenv("INVENTORY_DATABASE_URL", f"sqlite:///{tmp_path / 'real.db'}")
    (shared.root / "migrations" / "versions" / "sqlite").mkdir()
    shared.edit(MODELS, CITY, CITY + '    sa.Column("note", sa.Text, nullable=True),\n')
    before = shared.snapshot()
    for args in (("check",), ("migrate", "-m", "note"), ("baseline",), ("db", "current")):
        outcome = shared.cli(*args)
        assert outcome.code == 2, args
        (line,) = outcome.err.strip().splitlines()
        assert "mixes both layouts" in line, args
    assert shared.snapshot() == before


def test_the_pytest_plugin_and_baseline_use_the_shared_history(shared, dialect) -> None:
    import sqlalchemy as sa

    from contribkit.core.config import load_config
    from contribkit.testing import MigratedDatabases

    (first,) = revisions(shared)
    databases = MigratedDatabases(load_config(shared.root), dialect)
    try:
        with databases.clone() as url:
            engine = sa.create_engine(url)
            try:
                with engine.connect() as connection:
                    version = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
                    assert version.scalar_one() == first.name.split("_")[4]
            finally:
                engine.dispose()
    finally:
        databases.close()
    assert shared.cli("baseline").code == 0
    text = (shared.root / "contribkit-baseline.toml").read_text()
    assert text.count(first.name.split("_")[4]) == 2  # once per dialect: each ran it
