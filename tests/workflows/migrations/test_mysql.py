"""Every migration workflow on MySQL (the throw-away MariaDB server), on the sample project with
``dialects = ["sqlite", "mysql"]``: migrate, the MySQL review rules, a revision that fails
half-way (verify and the real database say what MySQL kept), check, baseline, db.*, a shared
history and the pytest plugin."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from contribkit.core.config import load_config
from contribkit.databases.engines import create_engine
from contribkit.databases.throwaway import ephemeral_database
from contribkit.testing import MigratedDatabases

pytestmark = pytest.mark.dialects("mysql")

MODELS = "inventory/models.py"
CITY = '    sa.Column("city", sa.String(80), nullable=True),\n'


@pytest.fixture
def on_mysql(sample):  # type: ignore[no-untyped-def]
    """The sample project, its second dialect MySQL (by its alias), after `contribkit init`."""
    sample.edit("pyproject.toml", '"mysql"]', '"mariadb"]')
    assert sample.cli("init").code == 0
    return sample


@pytest.fixture
def adopted(on_mysql):  # type: ignore[no-untyped-def]
    outcome = on_mysql.cli("migrate", "-m", "initial inventory")
    assert outcome.code == 0, outcome.err
    return on_mysql


def columns(url: str, table: str) -> list[str]:
    engine = create_engine(url, poolclass=sa.pool.NullPool)
    try:
        return [c["name"] for c in sa.inspect(engine).get_columns(table)]
    finally:
        engine.dispose()


def test_migrate_writes_a_mysql_history_that_drops_tables_with_their_indexes(adopted) -> None:
    [written] = adopted.versions("mysql")
    text = written.read_text()
    # MySQL refuses to drop ix_item_warehouse_id while the foreign key needs it; dropping the
    # table drops it anyway.
    assert "drop_index" not in text.split("def downgrade")[1]
    notes = (adopted.root / "NOTES.md").read_text()
    assert f"MySQL: `{written.name.split('_')[4]}`" in notes
    check = adopted.cli("check")
    assert check.code == 0, check.out + check.err
    assert "1 revisions: single head, round trips, no drift, notes match" in check.said(
        "ok", "mysql"
    )


def test_the_review_names_what_mysql_does_differently(adopted) -> None:
    adopted.edit(
        MODELS,
        CITY,
        CITY
        + '    sa.Column("label", sa.String(40), nullable=False),\n'
        + '    sa.Index("ix_warehouse_city", "city", unique=True),\n',
    )
    adopted.edit(MODELS, '"quantity", sa.Integer,', '"quantity", sa.BigInteger,')
    outcome = adopted.cli("migrate", "-m", "label city quantity", "--dialect", "mysql")
    assert outcome.code == 0, outcome.err
    out = outcome.out
    assert "mysql: dialect hazard: 3 operations, and MySQL commits each DDL statement" in out
    assert (
        "mysql: data-dependent: add column warehouse.label VARCHAR(40) NOT NULL: on MySQL "
        "existing rows silently get the type's implicit default" in out
    )
    assert "without a server default fails on a table with rows" not in out  # not on MySQL
    assert "under the case-insensitive collation utf8mb4_general_ci" in out
    assert "MySQL rebuilds item by copying it (ALGORITHM=COPY)" in out
    assert "rebuilds warehouse" not in out  # nothing there changes a type
    notes = (adopted.root / "NOTES.md").read_text()
    assert "ALGORITHM=COPY" in notes  # recorded with the revision, for the reviewer


def test_a_key_too_long_is_flagged(adopted) -> None:
    adopted.edit(MODELS, CITY, CITY + '    sa.Column("note", sa.String(800), index=True),\n')
    outcome = adopted.cli("migrate", "-m", "note", "--dialect", "mysql")
    assert (
        "create index ix_warehouse_note on warehouse (warehouse.note): the key is 3200 bytes in "
        "utf8mb4 (4 per character), over InnoDB's 3072" in outcome.out
    )


def test_a_revision_failing_half_way_in_verify_says_what_mysql_kept(adopted) -> None:
    """The new column is added, then its unique constraint fails on the seeded rows, which all
    got the same default: MySQL keeps the column, and the error says so."""
    adopted.edit(
        MODELS,
        CITY,
        CITY
        + '    sa.Column("zone", sa.String(10), nullable=False, server_default="x", unique=True),\n',
    )
    before = adopted.snapshot()
    outcome = adopted.cli("migrate", "-m", "zone", "--dialect", "mysql")
    assert outcome.code == 1
    assert "Duplicate entry 'x'" in outcome.err
    assert (
        "MySQL had already applied, and kept: ALTER TABLE warehouse ADD COLUMN zone" in outcome.err
    )
    assert adopted.snapshot() == before  # nothing written


def test_db_commands_on_a_real_mysql_database(adopted, monkeypatch) -> None:
    with ephemeral_database("mysql") as url:
        monkeypatch.setenv("INVENTORY_DATABASE_URL", url)
        up = adopted.cli("db", "upgrade")
        assert up.code == 0, up.err
        assert "(up to date)" in adopted.cli("db", "current").out
        down = adopted.cli("db", "downgrade", "-y")
        assert down.code == 0, down.err
        assert "base (head is" in adopted.cli("db", "current").out
        assert adopted.cli("db", "stamp", "head").code == 0
        reset = adopted.cli("db", "reset", "-y")
        assert reset.code == 0, reset.err
        assert "sku" in columns(url, "item")


HALF_WAY = {
    "a database error": (
        'op.create_index("ix_warehouse_nowhere", "warehouse", ["nowhere"])',
        1,
        "Key column 'nowhere' doesn't exist",
    ),
    "a Python error": ('raise RuntimeError("boom")', 1, "_half.py:14: RuntimeError: boom;"),
    "SIGTERM": ("os.kill(os.getpid(), signal.SIGTERM)", 130, "error: interrupted: mysql database"),
}


@pytest.mark.parametrize("failure", HALF_WAY)
def test_a_revision_stopped_half_way_on_the_real_database_says_what_stayed(
    adopted, monkeypatch, failure
) -> None:
    """However the revision stops after its first ALTER (SQL error, exception, SIGTERM), the
    message names what MySQL kept, never "nothing was left behind"."""
    [first] = adopted.versions("mysql")
    head = first.name.split("_")[4]
    second, code, said = HALF_WAY[failure]
    (first.parent / "2030_01_01_000000_badbadbadbad_half.py").write_text(
        f'''"""half"""
import os, signal
import sqlalchemy as sa
from alembic import op

revision = "badbadbadbad"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("warehouse", sa.Column("region", sa.String(20), nullable=True))
    {second}


def downgrade():
    op.drop_column("warehouse", "region")
'''
    )
    with ephemeral_database("mysql") as url:
        monkeypatch.setenv("INVENTORY_DATABASE_URL", url)
        assert adopted.cli("db", "upgrade", "-r", head).code == 0
        failed = adopted.cli("db", "upgrade")
        assert failed.code == code, failed.err
        assert said in failed.err
        assert (
            "MySQL had already applied, and kept: ALTER TABLE warehouse ADD COLUMN region"
            in failed.err
        )
        assert "undo them by hand before upgrading again" in failed.err
        assert "nothing this run started was left behind" not in failed.err
        assert len(failed.err.strip().splitlines()) == 1, failed.err
        assert "region" in columns(url, "warehouse")  # it really stayed
        assert f"{head} (head is badbadbadbad)" in adopted.cli("db", "current").out


def test_baseline_records_drift_and_check_then_passes(adopted) -> None:
    adopted.edit(MODELS, CITY, CITY + '    sa.Column("phone", sa.String(30), nullable=True),\n')
    drift = adopted.cli("check", "--dialect", "mysql")
    assert drift.code == 1
    assert "! mysql: drift: add column warehouse.phone VARCHAR(30)" in drift.out
    assert adopted.cli("baseline", "--dialect", "mysql").code == 0
    again = adopted.cli("check", "--dialect", "mysql")
    assert again.code == 0, again.out + again.err


def test_a_shared_history_is_written_once_and_verified_on_mysql_too(sample) -> None:
    sample.edit("pyproject.toml", '"mysql"]', '"mysql"]\nlayout = "shared"')
    assert sample.cli("init").code == 0
    on_mysql = sample
    outcome = on_mysql.cli("migrate", "-m", "initial inventory")
    assert outcome.code == 0, outcome.err
    written = sorted((on_mysql.root / "migrations" / "versions").glob("*.py"))
    assert len(written) == 1
    for dialect in ("sqlite", "mysql"):
        assert f"{written[0].name} verified" in outcome.said("ok", dialect)
    check = on_mysql.cli("check")
    assert check.code == 0, check.out + check.err


def test_the_pytest_plugin_clones_a_migrated_mysql_database(adopted) -> None:
    databases = MigratedDatabases(load_config(adopted.root), "mariadb")
    try:
        with databases.clone() as first, databases.clone() as second:
            assert first != second
            engine = create_engine(first, poolclass=sa.pool.NullPool)
            with engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO warehouse (code) VALUES ('a')"))
            engine.dispose()
            engine = create_engine(second, poolclass=sa.pool.NullPool)
            with engine.connect() as conn:
                assert conn.scalar(sa.text("SELECT COUNT(*) FROM warehouse")) == 0
                assert conn.scalar(sa.text("SELECT COUNT(*) FROM alembic_version")) == 1
            engine.dispose()
    finally:
        databases.close()
