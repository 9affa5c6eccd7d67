"""`db upgrade/downgrade/current/stamp/reset` against a configured (real) database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from contribkit.databases import create_engine, ephemeral_database


@pytest.fixture
def real_db(sample, dialect, monkeypatch):  # type: ignore[no-untyped-def]
    """The sample project with one migration, and INVENTORY_DATABASE_URL set to an empty database."""
    assert sample.cli("init").code == 0
    assert sample.cli("migrate", "-m", "initial", "--dialect", dialect).code == 0
    with ephemeral_database(dialect) as url:
        monkeypatch.setenv("INVENTORY_DATABASE_URL", url)
        yield sample, url


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_current_downgrade_stamp_reset(real_db) -> None:
    project, url = real_db
    up = project.cli("db", "upgrade")
    assert up.code == 0, up.err
    assert {"warehouse", "item", "alembic_version"} <= tables(url)
    current = project.cli("db", "current")
    assert current.code == 0 and "(up to date)" in current.out

    refused = project.cli("db", "downgrade")
    assert refused.code == 2
    assert "this would undo 1 revision(s)" in refused.err and "rerun with -y" in refused.err
    assert "item" in tables(url)  # nothing was undone

    down = project.cli("db", "downgrade", "-y")
    assert down.code == 0, down.err
    assert "item" not in tables(url)
    assert "base (head is" in project.cli("db", "current").out

    assert project.cli("db", "stamp", "head").code == 0
    assert "(up to date)" in project.cli("db", "current").out
    assert "item" not in tables(url)  # stamp records, it does not migrate

    assert project.cli("db", "reset").code == 2
    reset = project.cli("db", "reset", "-y")
    assert reset.code == 0, reset.err
    assert "item" in tables(url)


def test_dry_run_prints_sql_and_changes_nothing(real_db) -> None:
    project, url = real_db
    outcome = project.cli("db", "upgrade", "--dry-run")
    assert outcome.code == 0, outcome.err
    assert "CREATE TABLE warehouse" in outcome.out
    assert "warehouse" not in tables(url)


def test_a_database_at_an_unknown_revision_is_refused(real_db) -> None:
    project, url = real_db
    assert project.cli("db", "upgrade").code == 0
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'feedfacecafe'"))
    engine.dispose()
    outcome = project.cli("db", "upgrade")
    assert outcome.code == 2
    assert "is at revision feedfacecafe, which no" in outcome.err
    assert len(outcome.err.strip().splitlines()) == 1


def test_unreachable_database_is_one_line_with_the_password_hidden(sample, monkeypatch) -> None:
    assert sample.cli("init").code == 0
    monkeypatch.setenv("INVENTORY_DATABASE_URL", "postgresql+psycopg://bob:s3cret@127.0.0.1:9/inv")
    outcome = sample.cli("db", "current")
    assert outcome.code == 2
    assert "cannot reach the database postgresql+psycopg://bob:***@127.0.0.1:9/inv" in outcome.err
    assert "s3cret" not in outcome.err


@pytest.mark.dialects("sqlite")
@pytest.mark.parametrize(
    "command",
    [("db", "current"), ("db", "stamp", "head"), ("db", "reset", "-y"), ("db", "downgrade", "-y")],
)
def test_only_upgrade_creates_a_missing_sqlite_file(sample, tmp_path, monkeypatch, command) -> None:
    assert sample.cli("init").code == 0
    assert sample.cli("migrate", "-m", "initial", "--dialect", "sqlite").code == 0
    typo = tmp_path / "typo" / "sub" / "inventory.db"
    monkeypatch.setenv("INVENTORY_DATABASE_URL", f"sqlite:///{typo}")
    refused = sample.cli(*command)
    assert refused.code == 2, refused.out + refused.err
    assert f"the SQLite database {typo} does not exist" in refused.err
    assert not (tmp_path / "typo").exists()
    assert sample.cli("db", "upgrade").code == 0
    assert typo.is_file()


@pytest.mark.parametrize(
    ("variable", "url", "fragment"),
    [
        (
            "INVENTORY_DATABASE_URL",
            "postgresql+psycopg://u@127.0.0.1:1/db?connect_timeout=x",
            "bad value for connect_timeout",
        ),
        (
            "CONTRIBKIT_POSTGRESQL_URL",
            "postgresql://u@127.0.0.1:abc/postgres",
            "CONTRIBKIT_POSTGRESQL_URL is not a valid database URL",
        ),
    ],
)
def test_a_malformed_url_is_one_line(sample, monkeypatch, variable, url, fragment) -> None:
    assert sample.cli("init").code == 0
    monkeypatch.setenv(variable, url)
    command = ("db", "current") if variable == "INVENTORY_DATABASE_URL" else ("check",)
    outcome = sample.cli(*command)
    assert outcome.code == 2, outcome.out + outcome.err
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0]
    assert "Traceback" not in outcome.out + outcome.err
