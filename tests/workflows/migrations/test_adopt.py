"""Adopting contribkit in an existing project (tests/legacy_project): its own async env.py and
drivers, a history that already drifts, an old revision that fails with rows, odd file names."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from migrations_support import Outcome

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from contribkit.databases.engines import with_driver
from contribkit.databases.throwaway import ephemeral_database

ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}
HEADS = {"sqlite": "c3d2c0de0003", "postgresql": "c3d2c0de1003"}
MODELS = "ledger/models.py"
EMAIL = '    sa.Column("email", sa.String(200), nullable=True),\n'
MEMO = '    sa.Column("memo", sa.String(120), nullable=True),\n'
AMOUNT = '    sa.Column("amount", sa.Integer, nullable=False),\n'
KNOWN_DRIFT = "drift: add column account.email VARCHAR(200)"
UNCOMPARED = {
    "postgresql": [
        "drift: account: the models cannot be created on postgresql (the models' table: "
        'date/time field value out of range: "0"), so what autogenerate does not compare was '
        "not compared there"
    ]
}


def problems(outcome: Outcome, dialect: str) -> list[str]:
    """What the run warned of about ``dialect``, as ``dialect: problem``."""
    return [f"{dialect}: {message}" for message in outcome.said("warn", dialect)]


def migrate_memo(legacy, dialect: str):  # type: ignore[no-untyped-def]
    """Add a column to the models and migrate: the outcome and the one file written."""
    before = set(legacy.versions(dialect))
    legacy.edit(MODELS, AMOUNT, AMOUNT + MEMO)
    outcome = legacy.cli("migrate", "-m", "add_entry_memo", "--dialect", dialect)
    assert outcome.code == 0, outcome.out + outcome.err
    (written,) = set(legacy.versions(dialect)) - before
    return outcome, written


def test_check_reports_every_problem_and_goes_on_past_a_failed_revision(legacy, dialect) -> None:
    outcome = legacy.cli("check", "--dialect", dialect)
    assert outcome.code == 1, outcome.out + outcome.err
    assert "Traceback" not in outcome.out + outcome.err
    found = problems(outcome, dialect)
    assert f"{dialect}: 0001_initial.py: not named YYYY_MM_DD_HHMMSS_<rev>_<slug>.py" in found
    currency = [p for p in found if "_add_entry_currency.py: upgrade to" in p]
    assert len(currency) == 1, found  # the revision that cannot run on a table with rows
    # Found after that failure: the check went on, on a database brought there without rows.
    assert f"{dialect}: {KNOWN_DRIFT}" in found
    assert found.index(f"{dialect}: {KNOWN_DRIFT}") > found.index(currency[0])
    # The project's own include_object hides its hand-made dba_ index from the comparison.
    assert "dba_entry_amount" not in outcome.out
    assert f"in {dialect}:" in outcome.err


def test_baseline_accepts_the_history_and_check_then_fails_only_on_news(legacy, dialect) -> None:
    assert legacy.cli("check", "--dialect", dialect).code == 1
    made = legacy.cli("baseline", "--dialect", dialect)
    assert made.code == 0, made.err
    text = (legacy.root / "contribkit-baseline.toml").read_text()
    assert f'    "{KNOWN_DRIFT}",\n' in text
    # Before the baseline point revisions run without rows and file rules: drift alone is left,
    # and on PostgreSQL that the models (a DateTime defaulting to "0") cannot be built there.
    known = tomllib.loads(text)[dialect]["known"]
    assert known == sorted([KNOWN_DRIFT, *UNCOMPARED.get(dialect, [])])
    revisions = text.split("revisions = [\n")[1].split("]")[0].splitlines()
    assert len(revisions) == 3 and revisions == sorted(revisions)

    passed = legacy.cli("check", "--dialect", dialect)
    assert passed.code == 0, passed.out + passed.err
    assert "known to the baseline" in passed.out

    legacy.edit(MODELS, AMOUNT, AMOUNT + MEMO)
    news = legacy.cli("check", "--dialect", dialect)
    assert news.code == 1
    assert problems(news, dialect) == [f"{dialect}: drift: add column entry.memo VARCHAR(120)"]

    # Fixing a known problem shrinks the baseline once it is written again.
    legacy.edit(MODELS, AMOUNT + MEMO, AMOUNT)
    legacy.edit(MODELS, EMAIL, "")
    fixed = legacy.cli("check", "--dialect", dialect)
    assert fixed.code == 0, fixed.out
    assert "problem(s) of the baseline are gone" in fixed.out
    assert legacy.cli("baseline", "--dialect", dialect).code == 0
    assert KNOWN_DRIFT not in (legacy.root / "contribkit-baseline.toml").read_text()


def test_the_parity_line_says_when_the_baseline_accepts_the_difference(legacy) -> None:
    """After a baseline every head still differs from the models, as accepted: said so, not
    as if something were wrong."""
    assert legacy.cli("baseline").code == 0
    passed = legacy.cli("check")
    assert passed.code == 0, passed.out + passed.err
    assert "heads that do not match the models, only as the baseline accepts: " in passed.out
    legacy.edit(MODELS, AMOUNT, AMOUNT + MEMO)
    news = legacy.cli("check")
    assert news.code == 1
    assert "heads that do not match the models: " in news.out


def test_a_baseline_revision_that_breaks_is_named(legacy, dialect) -> None:
    """The baseline's revisions run as whole passes; when one fails they are walked one by one
    again, so the problem still names the file."""
    assert legacy.cli("baseline", "--dialect", dialect).code == 0
    tags = next((legacy.migrations / "versions" / dialect).glob("*_add_entry_tags.py"))
    text = tags.read_text()
    tags.write_text(
        text.replace(
            "def downgrade():\n", "def downgrade():\n    raise RuntimeError('no way back')\n"
        )
    )
    outcome = legacy.cli("check", "--dialect", dialect)
    assert outcome.code == 1, outcome.out + outcome.err
    assert problems(outcome, dialect) == [f"{dialect}: {tags.name}: RuntimeError: no way back"]


def test_migrate_writes_only_the_change_in_the_projects_own_style(legacy, dialect) -> None:
    assert legacy.cli("baseline").code == 0
    _outcome, written = migrate_memo(legacy, dialect)
    text = written.read_text()
    assert "memo" in text and "email" not in text  # the baselined drift stays out
    assert f"Dialect: {dialect}" in text  # the project's own revision template
    upgrade = text.split("def upgrade")[1].split("def downgrade")[0]
    assert ("PRAGMA foreign_keys=OFF" in upgrade) == (dialect == "sqlite")
    rev = written.name.split("_")[4]
    notes = (legacy.migrations / "NOTES.md").read_text()
    label = {"sqlite": "SQLite", "postgresql": "Postgres"}[dialect]
    # Placed and styled like the newest entry: a '#' heading, revisions on the next line.
    assert f"\n\n# Add entry memo\n{label}: `{rev}`\n\n# Add entry tags\n" in notes

    checked = legacy.cli("check", "--dialect", dialect)
    assert checked.code == 0, checked.out + checked.err

    # The project's own tooling (its env.py, on its async driver) applies the new revision.
    with _database(dialect) as url:
        env = {**os.environ, "LEDGER_DATABASE_URL": url, "PYTHONPATH": str(legacy.root)}
        config = str(legacy.migrations / "alembic.ini")
        result = subprocess.run(
            [sys.executable, "-m", "alembic", "-c", config, "upgrade", "head"],
            cwd=legacy.root,
            env=env,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        engine = sa.create_engine(
            with_driver(url, "psycopg" if dialect == "postgresql" else "pysqlite")
        )
        try:
            with engine.connect() as connection:
                columns = {c["name"] for c in sa.inspect(connection).get_columns("entry")}
                version = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
                assert version.scalar_one() == rev
        finally:
            engine.dispose()
        assert "memo" in columns


# A project's own process_revision_directives (Langflow's env.py has one): it filters the
# operations, then derives the downgrade from the upgrade.
REVERSING_HOOK = """

def regenerate_downgrade(context, revision, directives):
    for script in directives:
        script.upgrade_ops.ops[:] = [
            op for op in script.upgrade_ops.ops if getattr(op, "table_name", "") != "dba_audit"
        ]
        script.upgrade_ops.reverse_into(script.downgrade_ops)
"""


# The Alembic cookbook's "don't generate empty migrations" hook.
COOKBOOK_HOOK = """

def no_empty_revisions(context, revision, directives):
    if directives[0].upgrade_ops.is_empty():
        directives[:] = []
"""
# A hook that keeps nothing at all.
DROPPING_HOOK = """

def drop_everything(context, revision, directives):
    directives[:] = []
"""
DEFAULTED = '    sa.Column("amount", sa.Integer, nullable=False, server_default="0"),\n'


def with_revision_hook(legacy, source: str, name: str) -> None:  # type: ignore[no-untyped-def]
    """The project's env.py gets ``source``, whose function ``name`` is its
    process_revision_directives."""
    env = legacy.migrations / "env.py"
    text = env.read_text().replace(
        "def include_object(", source.lstrip() + "\n\ndef include_object("
    )
    env.write_text(
        text.replace(
            "        include_object=include_object,\n",
            f"        include_object=include_object,\n        process_revision_directives={name},\n",
        )
    )


def test_a_hook_that_drops_empty_revisions_leaves_contribkits_comparison_in_force(
    legacy, dialect
) -> None:
    """Autogenerate does not compare server defaults, so its revision is empty and the
    cookbook's hook drops it: migrate said "the models match the migrations; nothing to do"."""
    with_revision_hook(legacy, COOKBOOK_HOOK, "no_empty_revisions")
    legacy.edit(MODELS, EMAIL, "")  # the history's known drift: autogenerate would see it
    assert legacy.cli("baseline").code == 0
    before = set(legacy.versions(dialect))
    legacy.edit(MODELS, AMOUNT, DEFAULTED)
    outcome = legacy.cli("migrate", "-m", "default_entry_amount", "--dialect", dialect)
    assert outcome.code == 0, outcome.out + outcome.err
    assert "nothing to do" not in outcome.out
    (written,) = set(legacy.versions(dialect)) - before
    assert "server_default" in written.read_text().split("def downgrade")[0]
    checked = legacy.cli("check", "--dialect", dialect)
    assert checked.code == 0, checked.out + checked.err


def test_a_hook_that_drops_a_revision_with_operations_is_not_nothing_to_do(legacy, dialect) -> None:
    with_revision_hook(legacy, DROPPING_HOOK, "drop_everything")
    assert legacy.cli("baseline").code == 0
    before = legacy.snapshot()
    legacy.edit(MODELS, AMOUNT, AMOUNT + MEMO)
    edited = legacy.snapshot()
    outcome = legacy.cli("migrate", "-m", "add_entry_memo", "--dialect", dialect)
    assert outcome.code == 1, outcome.out + outcome.err
    assert "nothing to do" not in outcome.out
    assert "process_revision_directives dropped the revision" in outcome.err
    assert legacy.snapshot() == edited != before


def test_the_projects_revision_hook_runs_before_contribkits(legacy, dialect) -> None:
    """contribkit's additions (SQLite's PRAGMA bracket, enum types, the foreign-key guard)
    come after the project's hook: run before it, they made its reverse_into() fail
    (NotImplementedError), or were undone by it."""
    with_revision_hook(legacy, REVERSING_HOOK, "regenerate_downgrade")
    assert legacy.cli("baseline").code == 0
    _outcome, written = migrate_memo(legacy, dialect)
    downgrade = written.read_text().split("def downgrade")[1]
    assert "drop_column" in downgrade
    assert ("PRAGMA foreign_keys=OFF" in downgrade) == (dialect == "sqlite")
    checked = legacy.cli("check", "--dialect", dialect)
    assert checked.code == 0, checked.out + checked.err


def test_an_alembic_ini_without_file_template_gets_alembics_own_names(legacy, dialect) -> None:
    """What the project's own ``alembic revision`` would write: ``<rev>_<slug>.py``."""
    ini = legacy.migrations / "alembic.ini"
    ini.write_text("\n".join(line for line in ini.read_text().splitlines() if "file_" not in line))
    assert legacy.cli("baseline").code == 0
    _outcome, written = migrate_memo(legacy, dialect)
    rev = written.name.split("_")[0]
    assert written.name == f"{rev}_add_entry_memo.py"
    assert f"Revision ID: {rev}\n" in written.read_text()
    checked = legacy.cli("check", "--dialect", dialect)
    assert checked.code == 0, checked.out + checked.err


@contextmanager
def _database(dialect: str) -> Iterator[str]:
    with ephemeral_database(dialect, ASYNC_DRIVERS[dialect]) as url:
        yield url


@pytest.mark.dialects("postgresql")
def test_revisions_run_on_the_projects_driver(legacy) -> None:
    """The ledger's PostgreSQL history holds SQL that asyncpg runs and psycopg refuses."""
    legacy.edit("pyproject.toml", 'postgresql = "asyncpg"', 'postgresql = "psycopg"')
    outcome = legacy.cli("check", "--dialect", "postgresql")
    assert outcome.code == 1
    assert any("_add_entry_tags.py" in p and "%" in p for p in problems(outcome, "postgresql"))


def test_db_commands_take_the_projects_async_url(legacy, dialect) -> None:
    with _database(dialect) as url:
        legacy.monkeypatch.setenv("LEDGER_DATABASE_URL", url)
        upgraded = legacy.cli("db", "upgrade")
        assert upgraded.code == 0, upgraded.out + upgraded.err
        current = legacy.cli("db", "current")
        assert current.code == 0, current.err
        assert "c3d2c0de" in current.out and "up to date" in current.out


def test_a_damaged_or_foreign_baseline_is_one_line_and_nothing_is_written(legacy, dialect) -> None:
    path = legacy.root / "contribkit-baseline.toml"
    foreign = f'[{dialect}]\nrevisions = ["0123456789ab"]\nknown = []\n'
    for text, fragment, commands in (
        ("[sqlite\nrevisions = [", "is not valid TOML", ("check", "baseline", "migrate")),
        # `baseline` itself is the way to start over, so only the others refuse.
        (foreign, "not in the history (0123456789ab)", ("check", "migrate")),
    ):
        path.write_text(text)
        before = legacy.snapshot()
        for command in commands:
            args = [command, "--dialect", dialect] + (["-m", "x"] if command == "migrate" else [])
            outcome = legacy.cli(*args)
            assert outcome.code == 2, (command, outcome.out, outcome.err)
            lines = outcome.err.strip().splitlines()
            assert len(lines) == 1 and fragment in lines[0], (command, outcome.err)
            assert legacy.snapshot() == before


def test_a_baseline_is_not_written_for_a_history_with_two_heads(legacy) -> None:
    versions = legacy.migrations / "versions" / "sqlite"
    tags = next(versions.glob("*_add_entry_tags.py"))
    branch = tags.read_text().replace('revision = "c3d2c0de0003"', 'revision = "d4d4d4d4d4d4"')
    (versions / "2023_03_02_090000_d4d4d4d4d4d4_branch.py").write_text(branch)
    before = legacy.snapshot()
    outcome = legacy.cli("baseline", "--dialect", "sqlite")
    assert outcome.code == 2, outcome.out + outcome.err
    assert "2 heads" in outcome.err and "run 'contribkit rebase'" in outcome.err
    assert legacy.snapshot() == before
    assert not (legacy.root / "contribkit-baseline.toml").exists()


def test_an_env_py_that_ignores_the_passed_connection_migrates_nothing(legacy) -> None:
    """The ledger's env.py, blind to the passed connection, tries its own async engine (on
    its default URL, ledger.db beside it), which cannot start inside contribkit's event loop:
    env.py is named as what failed, not the first revision, and nothing was migrated."""
    env = legacy.migrations / "env.py"
    text = env.read_text()
    env.write_text(
        text.replace('connection = config.attributes.get("connection")', "connection = None")
    )
    outcome = legacy.cli("check", "--dialect", "sqlite")
    assert outcome.code == 2, outcome.out + outcome.err
    assert outcome.err.startswith(
        f"error: sqlite: check: {env} failed before any revision ran: RuntimeError:"
    )
    assert "0001_initial.py" not in outcome.out + outcome.err
    own = legacy.root / "ledger.db"
    if own.exists():
        engine = sa.create_engine(f"sqlite:///{own}")
        try:
            assert sa.inspect(engine).get_table_names() == []
        finally:
            engine.dispose()


# Alembic's classic template: it names config.attributes only in a comment.
CLASSIC_ENV = """import os

import sqlalchemy as sa
from migrations_support import Outcome
from alembic import context

from ledger.models import metadata

# (this env.py never looks at config.attributes)
engine = sa.create_engine(os.environ["LEDGER_DATABASE_URL"])
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
"""


@pytest.mark.parametrize("command", [("check",), ("migrate", "-m", "add_note")])
def test_an_env_py_that_connects_elsewhere_at_run_time_writes_nothing_there(
    legacy, tmp_path, command
) -> None:
    """Alembic's classic form migrates the database its own settings name: contribkit stops
    as env.py configures Alembic on it, before Alembic creates its version table there."""
    real = tmp_path / "real.db"
    legacy.monkeypatch.setenv("LEDGER_DATABASE_URL", f"sqlite:///{real}")
    (legacy.migrations / "env.py").write_text(CLASSIC_ENV)
    outcome = legacy.cli(*command, "--dialect", "sqlite")
    assert outcome.code == 2, outcome.out + outcome.err
    assert "env.py connected to a database of its own" in outcome.err
    assert "wrote" not in outcome.out
    engine = sa.create_engine(f"sqlite:///{real}")
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_db_upgrade_with_an_env_py_that_connects_elsewhere_upgrades_neither(legacy, tmp_path):
    """``db upgrade`` on the real database: an env.py that migrates the database of its own
    settings instead would have been reported as the real database upgraded."""
    real, other = tmp_path / "real.db", tmp_path / "other.db"
    legacy.monkeypatch.setenv("LEDGER_DATABASE_URL", f"sqlite+aiosqlite:///{real}")
    legacy.monkeypatch.setenv("LEDGER_OTHER_URL", f"sqlite:///{other}")
    (legacy.migrations / "env.py").write_text(
        CLASSIC_ENV.replace("LEDGER_DATABASE_URL", "LEDGER_OTHER_URL")
    )
    outcome = legacy.cli("db", "upgrade")
    assert outcome.code == 2, outcome.out + outcome.err
    assert "env.py connected to a database of its own" in outcome.err
    assert "upgraded" not in outcome.out
    for path in (real, other):
        engine = sa.create_engine(f"sqlite:///{path}")
        try:
            assert sa.inspect(engine).get_table_names() == [], path
        finally:
            engine.dispose()


def test_a_driver_that_is_not_installed_names_its_package(legacy) -> None:
    legacy.edit("pyproject.toml", 'sqlite = "aiosqlite"', 'sqlite = "pysqlcipher"')
    outcome = legacy.cli("check", "--dialect", "sqlite")
    assert outcome.code == 2, outcome.out + outcome.err
    assert "add the package 'pysqlcipher3'" in outcome.err.strip().splitlines()[0]


def test_the_pytest_plugin_migrates_on_the_projects_driver(legacy, dialect) -> None:
    """The template runs the project's env.py on its async driver (on PostgreSQL a revision
    only asyncpg accepts proves it), and the tests get URLs on that driver."""
    from contribkit.core.config import load_config
    from contribkit.testing import MigratedDatabases

    databases = MigratedDatabases(load_config(legacy.root), dialect)
    try:
        with databases.clone() as url:
            assert url.startswith(f"{dialect}+{ASYNC_DRIVERS[dialect]}://"), url
            engine = sa.create_engine(
                with_driver(url, "psycopg" if dialect == "postgresql" else "pysqlite")
            )
            try:
                with engine.connect() as connection:
                    version = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
                    assert version.scalar_one() == HEADS[dialect]
            finally:
                engine.dispose()
    finally:
        databases.close()
