"""`db upgrade/downgrade/current/stamp/reset` against a configured (real) database."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa
from process_support import waiting_on_sqlite

from contribkit.databases.engines import create_engine
from contribkit.databases.throwaway import ephemeral_database


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


@pytest.mark.dialects("sqlite", "postgresql")  # a PostgreSQL URL
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


@pytest.mark.dialects("sqlite", "postgresql")  # PostgreSQL URLs and their driver's words
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


ROWS = (
    "INSERT INTO warehouse (id, code, city) VALUES (1, 'north', 'Oslo'), (2, 'south', 'Bergen')",
    "INSERT INTO item (warehouse_id, sku, kind, quantity) VALUES"
    " (1, 'a', 'part', 1), (2, 'b', 'tool', 2), (2, 'c', 'kit', 3)",
)
#: Left by years with foreign keys off: a child whose parent is long gone.
ORPHAN = "INSERT INTO item (warehouse_id, sku, kind, quantity) VALUES (99, 'orphan', 'kit', 1)"


def _rows(url: str, query: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(sa.text(query))]
    finally:
        engine.dispose()


def _execute(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))
    finally:
        engine.dispose()


@pytest.mark.dialects("sqlite")
def test_a_failed_sqlite_upgrade_leaves_nothing_behind_and_keeps_every_row(
    sample, tmp_path, monkeypatch
) -> None:
    """A revision that rebuilds the parent table fails on real data: it is rolled back whole
    (no _alembic_tmp_ table), a retry fails the same way, and once the data is fixed it applies
    without losing the children of the rebuilt table."""
    assert sample.cli("init").code == 0
    assert sample.cli("migrate", "-m", "initial", "--dialect", "sqlite").code == 0
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    monkeypatch.setenv("INVENTORY_DATABASE_URL", url)
    assert sample.cli("db", "upgrade").code == 0
    _execute(
        url,
        "INSERT INTO warehouse (id, code, city) VALUES (1, 'north', 'Oslo'), (2, 'south', NULL)",
        "INSERT INTO item (warehouse_id, sku, kind, quantity) VALUES"
        " (1, 'a', 'part', 1), (2, 'b', 'tool', 2), (2, 'c', 'kit', 3)",
    )
    sample.edit(
        "inventory/models.py",
        'sa.Column("city", sa.String(80), nullable=True)',
        'sa.Column("city", sa.String(80), nullable=False)',
    )
    assert sample.cli("migrate", "-m", "require_city", "--dialect", "sqlite").code == 0
    before = _rows(url, "SELECT version_num FROM alembic_version")

    for _ in range(2):  # the retry meets the same database, not a half-made one
        failed = sample.cli("db", "upgrade")
        assert failed.code == 1, failed.out + failed.err
        assert "NOT NULL constraint failed" in failed.err
        assert "already exists" not in failed.err
        names = {r[0] for r in _rows(url, "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert not any(name.startswith("_alembic_tmp") for name in names), names
        assert _rows(url, "SELECT version_num FROM alembic_version") == before
        assert _rows(url, "SELECT count(*) FROM item") == [(3,)]

    _execute(url, "UPDATE warehouse SET city = 'Bergen' WHERE id = 2")
    upgraded = sample.cli("db", "upgrade")
    assert upgraded.code == 0, upgraded.err
    assert _rows(url, "SELECT count(*) FROM warehouse") == [(2,)]
    assert _rows(url, "SELECT sku FROM item ORDER BY sku") == [("a",), ("b",), ("c",)]
    assert _rows(url, "PRAGMA foreign_key_check") == []


@pytest.mark.dialects("sqlite")
@pytest.mark.parametrize("transactional_ddl", [False, True], ids=["driver-begin", "explicit-begin"])
def test_two_upgrades_of_one_sqlite_database_at_once_serialize(
    sample, tmp_path, transactional_ddl
) -> None:
    """Both start while a third connection holds the write lock, so they meet at the lock."""
    import sqlite3

    if transactional_ddl:
        sample.edit(
            "pyproject.toml",
            "[tool.contribkit]\n",
            "[tool.contribkit]\nsqlite_transactional_ddl = true\n",
        )
    assert sample.cli("init").code == 0
    assert sample.cli("migrate", "-m", "initial", "--dialect", "sqlite").code == 0
    path = tmp_path / "inventory.db"
    url = f"sqlite:///{path}"
    env = {**os.environ, "INVENTORY_DATABASE_URL": url, "PYTHONPATH": str(sample.root)}
    argv = [sys.executable, "-m", "contribkit", "db", "upgrade"]
    assert subprocess.run(argv, cwd=sample.root, env=env, capture_output=True).returncode == 0
    _execute(url, *ROWS)
    blocker = sqlite3.connect(path, isolation_level=None)  # foreign keys off, as sqlite3's default
    blocker.execute(ORPHAN)  # there before: the upgrades must not blame themselves for it
    sample.edit(
        "inventory/models.py",
        'sa.Column("city", sa.String(80), nullable=True)',
        'sa.Column("city", sa.String(120), nullable=True)',
    )
    assert sample.cli("migrate", "-m", "widen_city", "--dialect", "sqlite").code == 0
    blocker.execute("BEGIN IMMEDIATE")
    runs = [
        subprocess.Popen(
            argv,
            cwd=sample.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    deadline = time.monotonic() + 60
    while not all(waiting_on_sqlite(run.pid, path) for run in runs):  # both wait on the lock
        assert time.monotonic() < deadline and all(run.poll() is None for run in runs)
        time.sleep(0.01)
    blocker.execute("ROLLBACK")
    blocker.close()
    outcomes = [(run.wait(timeout=120), run.stderr.read()) for run in runs]
    assert [code for code, _ in outcomes] == [0, 0], outcomes
    # Not versions()[-1]: both files may carry the same second, and then sort by revision id.
    (newest,) = (p for p in sample.versions("sqlite") if p.name.endswith("_widen_city.py"))
    assert _rows(url, "SELECT version_num FROM alembic_version") == [(newest.name.split("_")[4],)]
    names = {r[0] for r in _rows(url, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert not any(name.startswith("_alembic_tmp") for name in names), names
    assert _rows(url, "SELECT sku FROM item ORDER BY sku") == [("a",), ("b",), ("c",), ("orphan",)]
