"""The migrations issue's acceptance scenarios, on a copy of flowdesk, through `invoke`."""

from __future__ import annotations

import re
import subprocess
import sys

NEW_COLUMN = "    worker: Mapped[str | None] = mapped_column(sa.String(200))\n"
WITH_NEW_COLUMN = NEW_COLUMN + "    new_column: Mapped[str | None] = mapped_column(sa.String(50))\n"
MODELS = "src/flowdesk/server/database/orm_models.py"

#: contribkit's own names: ``2026_11_21_051500_1a2b3c4d5e6f_add_flow_run_new_column.py``.
REVISION_FILE = re.compile(
    r"^(?P<stamp>\d{4}_\d{2}_\d{2}_\d{6})_(?P<rev>[0-9a-f]{12})_(?P<slug>\w+)\.py$"
)


def test_add_column_writes_one_file_per_dialect_and_check_passes(flowdesk_copy) -> None:
    project = flowdesk_copy
    before = {d: project.versions(d) for d in ("sqlite", "postgresql")}
    project.edit(MODELS, NEW_COLUMN, WITH_NEW_COLUMN)

    outcome = project.invoke("migrate", "-m", "add_flow_run_new_column")
    assert outcome.code == 0, outcome.err

    written = {}
    for dialect in ("sqlite", "postgresql"):
        new = sorted(set(project.versions(dialect)) - set(before[dialect]))
        assert len(new) == 1, new
        written[dialect] = new[0]
    names = {d: REVISION_FILE.match(p.name) for d, p in written.items()}
    assert names["sqlite"]["stamp"] == names["postgresql"]["stamp"]
    assert names["sqlite"]["slug"] == names["postgresql"]["slug"] == "add_flow_run_new_column"
    assert names["sqlite"]["rev"] != names["postgresql"]["rev"]

    sqlite_text = written["sqlite"].read_text()
    upgrade = sqlite_text.split("def upgrade() -> None:")[1].split("def downgrade")[0]
    statements = [
        s.strip()
        for s in upgrade.strip().splitlines()
        if s.strip() and not s.strip().startswith("#")
    ]
    assert statements[0] == 'op.execute("PRAGMA foreign_keys=OFF")'
    assert statements[-1] == 'op.execute("PRAGMA foreign_keys=ON")'
    assert "batch_alter_table" in sqlite_text
    pg_text = written["postgresql"].read_text()
    assert "PRAGMA" not in pg_text and "batch_alter_table" not in pg_text
    for text in (sqlite_text, pg_text):
        assert "contribkit" not in text  # plain Alembic scripts
        assert "sa.String(length=50)" in text
    formatted = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", *map(str, written.values())],
        cwd=project.root,
        capture_output=True,
        text=True,
    )
    assert formatted.returncode == 0, formatted.stdout

    notes = (project.root / "MIGRATION-NOTES.md").read_text()
    entry = notes.split("## Add flow run new column", 1)[1].split("\n## ", 1)[0]
    assert f"SQLite: `{names['sqlite']['rev']}`" in entry
    assert f"Postgres: `{names['postgresql']['rev']}`" in entry
    assert notes.index("## Add flow run new column") < notes.index("## Initial schema")

    check = project.invoke("migrate", "--check")
    assert check.code == 0, check.out + check.err
    assert "no drift" in check.out


def test_postgres_alias_writes_only_postgresql_and_check_reports_sqlite_drift(
    flowdesk_copy,
) -> None:
    project = flowdesk_copy
    sqlite_before = project.versions("sqlite")
    pg_before = project.versions("postgresql")
    project.edit(MODELS, NEW_COLUMN, WITH_NEW_COLUMN)

    outcome = project.invoke("migrate", "-m", "add_flow_run_new_column", "--dialect", "postgres")
    assert outcome.code == 0, outcome.err
    assert project.versions("sqlite") == sqlite_before
    assert len(project.versions("postgresql")) == len(pg_before) + 1
    notes = (project.root / "MIGRATION-NOTES.md").read_text()
    entry = notes.split("## Add flow run new column", 1)[1].split("\n## ", 1)[0]
    assert "Postgres: `" in entry and "SQLite:" not in entry

    check = project.invoke("migrate", "--check")
    assert check.code == 1
    assert "sqlite: drift: add column flow_run.new_column VARCHAR(50)" in check.out
    revisions = len(pg_before) + 1
    assert (
        f"postgresql: {revisions} revisions: single head, round trips, no drift, notes match"
        in check.out
    )
    assert "Column(" not in check.out  # readable operations, never reprs


def test_nothing_to_do_writes_nothing(flowdesk_copy) -> None:
    project = flowdesk_copy
    before = project.snapshot()
    outcome = project.invoke("migrate", "-m", "no_change_at_all")
    assert outcome.code == 0, outcome.err
    assert re.search(r"nothing to do", outcome.out)
    assert project.snapshot() == before
