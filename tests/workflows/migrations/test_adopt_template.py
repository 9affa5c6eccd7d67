"""Adopting contribkit in a project that ``alembic init`` set up (tests/template_project), on
SQLite and the session's server: env.py as Alembic's old template wrote it (an unguarded
``fileConfig``), the connection taken through a helper of the project's own, a revision template
whose functions start with a docstring, the project's own ``file_template``, and one history
every dialect runs. Each test is a trait of real projects that adoption used to stop at."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys

import pytest
import sqlalchemy as sa
from migrations_support import SAMPLE_SERVER, Outcome

from contribkit.databases.throwaway import ephemeral_database

MODELS = "shop/models.py"
STARS = '    sa.Column("stars", sa.Integer, nullable=False),\n'
TITLE = '    sa.Column("title", sa.String(120), nullable=True),\n'
FIRST, SECOND = "4a0c9e1f7d01", "5e1d2a7c0b02"
#: What the project's file_template (%(year)d%(month).2d%(day).2d_%(slug)s_%(rev)s) writes.
OWN_NAME = re.compile(r"^\d{8}_(?P<slug>\w+)_(?P<rev>[0-9a-f]{12})\.py$")
DIALECTS = ("sqlite", SAMPLE_SERVER)


def problems(outcome: Outcome) -> list[str]:
    """What the run warned of, each as the line says it (``dialect: problem``)."""
    return [e.text for e in outcome.events if e.level == "warn"]


def alembic(template, url: str, *args: str) -> None:  # type: ignore[no-untyped-def]
    """The project's own tooling on the database at ``url``: plain Alembic, its alembic.ini and
    env.py, the URL in the variable its env.py reads."""
    env = {**os.environ, "SHOP_DATABASE_URL": url, "PYTHONPATH": str(template.root)}
    ini = str(template.migrations / "alembic.ini")
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", ini, *args],
        cwd=template.root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_an_env_py_from_alembic_init_runs_as_alembic_runs_it(template) -> None:
    """fileConfig(config.config_file_name) gets a file it accepts, and the connection passed
    through the project's helper is seen at run time: the check runs the whole history."""
    outcome = template.cli("check")
    assert outcome.code == 1, outcome.out + outcome.err
    assert "Traceback" not in outcome.out + outcome.err
    # Only SQLite's PRAGMA rule is left, for files older than contribkit; their names follow
    # the project's file_template, so no naming problem.
    assert sorted(problems(outcome)) == sorted(
        f"sqlite: {name}: {func}() must start with op.execute('PRAGMA foreign_keys=OFF') and "
        "end with op.execute('PRAGMA foreign_keys=ON')"
        for name in (
            f"20210310_create_product_table_{FIRST}.py",
            f"20220104_add_review_table_{SECOND}.py",
        )
        for func in ("upgrade", "downgrade")
    )
    assert "2 revisions: single head, round trips, no drift, notes match" in outcome.said(
        "ok", SAMPLE_SERVER
    )
    # Each dialect's first line names the driver its revisions ran on.
    assert "→ sqlite: check (driver pysqlite)" in outcome.out
    server_driver = {"postgresql": "psycopg", "mysql": "pymysql"}[SAMPLE_SERVER]
    assert f"→ {SAMPLE_SERVER}: check (driver {server_driver})" in outcome.out


def test_the_logging_env_py_configures_does_not_outlive_it(template) -> None:
    mine = logging.getLogger("a.logger.of.the.test.process")
    handlers = logging.getLogger().handlers[:]
    assert not mine.disabled
    template.cli("check", "--dialect", "sqlite")
    assert not mine.disabled  # fileConfig disables every logger it does not name
    assert logging.getLogger().handlers == handlers


def test_adoption_writes_and_accepts_the_projects_own_files(template, tmp_path) -> None:
    assert template.cli("baseline").code == 0
    passed = template.cli("check")
    assert passed.code == 0, passed.out + passed.err

    template.edit(MODELS, STARS, STARS + TITLE)
    before = set(template.migrations.glob("versions/*.py"))
    made = template.cli("migrate", "-m", "add_review_title")
    assert made.code == 0, made.out + made.err
    (written,) = set(template.migrations.glob("versions/*.py")) - before
    name = OWN_NAME.match(written.name)
    assert name and name["slug"] == "add_review_title", written.name
    text = written.read_text()
    upgrade = text.split("def upgrade():\n")[1].split("\n\n\ndef downgrade")[0]
    # The template's docstring first, then SQLite's PRAGMA line, then the change.
    assert upgrade.lstrip().startswith('"""Apply: add_review_title."""')
    assert upgrade.index("PRAGMA foreign_keys=OFF") < upgrade.index('add_column(sa.Column("title"')
    checked = template.cli("check")
    assert checked.code == 0, checked.out + checked.err

    # The project's own tooling applies the new file: plain Alembic, its alembic.ini and env.py.
    for dialect in DIALECTS:
        with ephemeral_database(dialect) as url:
            alembic(template, url, "upgrade", "head")
            engine = sa.create_engine(url)
            try:
                with engine.connect() as connection:
                    columns = {c["name"] for c in sa.inspect(connection).get_columns("review")}
                    version = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
                    assert version.scalar_one() == name["rev"]
            finally:
                engine.dispose()
            assert "title" in columns, dialect


def test_statements_the_template_puts_before_the_operations_come_first(template) -> None:
    """Langflow's template starts both functions with ``conn = op.get_bind()``: migrate writes
    SQLite's PRAGMA lines after it, and check accepts the file it wrote."""
    for function in ("upgrade", "downgrade"):
        template.edit(
            "migrations/script.py.mako",
            f'    ${{{function}s if {function}s else "pass"}}',
            f'    conn = op.get_bind()\n    ${{{function}s if {function}s else "pass"}}',
        )
    assert template.cli("baseline").code == 0
    template.edit(MODELS, STARS, STARS + TITLE)
    made = template.cli("migrate", "-m", "add_review_title")
    assert made.code == 0, made.out + made.err
    checked = template.cli("check")
    assert checked.code == 0, checked.out + checked.err
    # Anything else before the PRAGMA line is still refused.
    (written,) = [p for p in template.migrations.glob("versions/*.py") if "review_title" in p.name]
    template.edit(
        f"migrations/versions/{written.name}",
        "    conn = op.get_bind()\n",
        "    conn = op.get_bind()\n    op.drop_table('review')\n",
    )
    refused = template.cli("check", "--dialect", "sqlite")
    assert refused.code == 1
    assert "upgrade() must start with op.execute('PRAGMA foreign_keys=OFF')" in refused.out


def test_a_new_file_must_follow_the_projects_file_template(template) -> None:
    assert template.cli("baseline").code == 0
    versions = template.migrations / "versions"
    old = versions / f"20220104_add_review_table_{SECOND}.py"
    text = old.read_text().replace(SECOND, "7c3d4e5f6a04").replace(FIRST, SECOND)
    # Named as contribkit names its own files, not as this project does.
    (versions / "2023_05_01_120000_7c3d4e5f6a04_add_review_again.py").write_text(text)
    outcome = template.cli("check", "--dialect", "sqlite")
    assert outcome.code == 1
    assert (
        "sqlite: 2023_05_01_120000_7c3d4e5f6a04_add_review_again.py: not named "
        "YYYYMMDD_<slug>_<rev>.py" in problems(outcome)
    )


def test_a_baselined_failure_matches_on_the_next_run(template) -> None:
    """A database's error can quote the throw-away database's name (MySQL: "Unknown table
    'ck_….missing'"): the baseline records it without, so check right after baseline passes."""
    first = template.migrations / "versions" / f"20210310_create_product_table_{FIRST}.py"
    first.write_text(
        first.read_text().replace(
            '    op.drop_table("product")', '    op.execute("DROP TABLE no_such_table")'
        )
    )
    failed = template.cli("check", "--dialect", SAMPLE_SERVER)
    assert failed.code == 1
    assert any("no_such_table" in p for p in problems(failed)), failed.out
    assert template.cli("baseline").code == 0
    baseline = (template.root / "contribkit-baseline.toml").read_text()
    assert "ck_" not in baseline
    again = template.cli("check", "--no-cache")
    assert again.code == 0, again.out + again.err


@pytest.mark.dialects("postgresql")  # where this revision's error quotes the constraint
def test_a_baselined_error_quoting_an_object_matches_on_the_next_run(template) -> None:
    """SQLAlchemy's errors can quote an object's repr, whose address is new every run (a
    constraint without a name: "ForeignKeyConstraint(<… object at 0x7f…>"): the baseline
    records it without, so check on a machine with no cache passes."""
    second = template.migrations / "versions" / f"20220104_add_review_table_{SECOND}.py"
    second.write_text(
        second.read_text().replace(
            '    op.drop_table("review")',
            '    op.drop_constraint(None, "review", type_="foreignkey")\n    op.drop_table("review")',
        )
    )
    failed = template.cli("check", "--dialect", SAMPLE_SERVER)
    assert failed.code == 1
    assert any("object at 0x" in p for p in problems(failed)), failed.out
    assert template.cli("baseline").code == 0
    again = template.cli("check", "--no-cache")
    assert again.code == 0, again.out + again.err


@pytest.mark.dialects("postgresql")
def test_revisions_that_need_autocommit_run_in_the_projects_isolation_level(template) -> None:
    """The shop's own engine runs its PostgreSQL revisions in autocommit, which CREATE INDEX
    CONCURRENTLY needs: ``isolation_level`` says so, and contribkit's connections follow."""
    versions = template.migrations / "versions"
    (versions / "20230201_index_review_stars_6f2e3b8d1c03.py").write_text(CONCURRENT_INDEX)
    template.edit(
        MODELS, STARS, '    sa.Column("stars", sa.Integer, nullable=False, index=True),\n'
    )
    notes = template.migrations / "CHANGES.md"
    notes.write_text(
        notes.read_text().replace(
            "## Add review table",
            "## Index review stars\nRevision: `6f2e3b8d1c03`\n\n## Add review table",
        )
    )
    refused = template.cli("check", "--dialect", "postgresql")
    assert refused.code == 1
    assert "CREATE INDEX CONCURRENTLY cannot run inside a transaction block" in refused.out

    template.edit(
        "pyproject.toml",
        'database_url_env = "SHOP_DATABASE_URL"',
        'database_url_env = "SHOP_DATABASE_URL"\nisolation_level = { postgresql = "AUTOCOMMIT" }',
    )
    passed = template.cli("check", "--dialect", "postgresql")
    assert passed.code == 0, passed.out + passed.err
    assert "no drift" in passed.out

    # What the database holds after the project's own upgrade: the index, built concurrently.
    with ephemeral_database("postgresql") as url:
        alembic(template, url, "upgrade", "head")
        engine = sa.create_engine(url)
        try:
            with engine.connect() as connection:
                indexes = connection.execute(
                    sa.text("SELECT indexname FROM pg_indexes WHERE tablename = 'review'")
                ).scalars()
                assert "ix_review_stars" in set(indexes)
        finally:
            engine.dispose()


CONCURRENT_INDEX = '''"""Index review stars

Revision ID: 6f2e3b8d1c03
Revises: 5e1d2a7c0b02
Create Date: 2023-02-01 10:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '6f2e3b8d1c03'
down_revision = '5e1d2a7c0b02'
branch_labels = None
depends_on = None


def upgrade():
    """Apply: Index review stars, without locking the table on PostgreSQL."""
    concurrently = "CONCURRENTLY " if op.get_context().dialect.name == "postgresql" else ""
    op.execute(f"CREATE INDEX {concurrently}ix_review_stars ON review (stars)")


def downgrade():
    """Revert: Index review stars."""
    op.drop_index("ix_review_stars", "review")
'''


AUDIT = '''"""The shop's audit trail: a storage of its own, with its own MetaData."""

import sqlalchemy as sa

metadata = sa.MetaData()

audit_event = sa.Table(
    "audit_event",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("what", sa.String(200), nullable=False),
)
'''


def test_several_metadata_are_compared_and_migrated_as_one(template) -> None:
    """One MetaData per storage: ``models`` lists them, env.py's target_metadata is a list."""
    assert template.cli("baseline").code == 0
    (template.root / "shop" / "audit.py").write_text(AUDIT)
    template.edit(
        "migrations/env.py",
        "target_metadata = metadata\n",
        "from shop import audit\n\ntarget_metadata = [metadata, audit.metadata]\n",
    )
    template.edit(
        "pyproject.toml",
        'models = "shop.models:metadata"',
        'models = ["shop.models:metadata", "shop.audit:metadata"]',
    )
    drifted = template.cli("check")
    assert drifted.code == 1, drifted.out + drifted.err
    assert sorted(problems(drifted)) == [
        f"{dialect}: drift: create table audit_event (id INTEGER, what VARCHAR(200))"
        for dialect in sorted(DIALECTS)
    ]
    made = template.cli("migrate", "-m", "add_audit_event")
    assert made.code == 0, made.out + made.err
    checked = template.cli("check")
    assert checked.code == 0, checked.out + checked.err
    with ephemeral_database(SAMPLE_SERVER) as url:
        alembic(template, url, "upgrade", "head")
        engine = sa.create_engine(url)
        try:
            assert {"product", "review", "audit_event"} <= set(sa.inspect(engine).get_table_names())
        finally:
            engine.dispose()


FROZEN = '''"""The shop's tables as its set-up creates them for a new database (frozen at {revision})."""

import sqlalchemy as sa

metadata = sa.MetaData()

sa.Table(
    "product",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("price_cents", sa.Integer, nullable=False, server_default="0"),
)
{review}'''
FROZEN_REVIEW = """
sa.Table(
    "review",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("product_id", sa.Integer, sa.ForeignKey("product.id"), nullable=False),
    sa.Column("stars", sa.Integer, nullable=False),
)
"""


def _start_at(template, revision: str, dialects: tuple[str, ...], review: bool) -> None:
    """The project's set-up for new databases: a frozen schema, stamped at ``revision``."""
    frozen = FROZEN.format(revision=revision, review=FROZEN_REVIEW if review else "")
    (template.root / "shop" / "frozen.py").write_text(frozen)
    entries = ", ".join(
        f'{d} = {{ revision = "{revision}", schema = "shop.frozen:metadata" }}' for d in dialects
    )
    template.edit(
        "pyproject.toml",
        'database_url_env = "SHOP_DATABASE_URL"',
        f'database_url_env = "SHOP_DATABASE_URL"\nstart = {{ {entries} }}',
    )


def _break(template, filename: str, dialects: str) -> None:
    """Make a revision's upgrade fail where ``dialects`` (a Python condition) holds."""
    path = template.migrations / "versions" / filename
    text = path.read_text()
    text = text.replace(
        '    """Apply: ',
        f"    if {dialects}:\n"
        '        raise RuntimeError("this revision never ran on new databases here")\n'
        '    """Apply: ',
        1,
    )
    path.write_text(text)


def _set_up_and_upgrade(template, dialect: str, revision: str) -> set[str]:
    """The project's own way: create_all of the frozen schema, alembic stamp, alembic upgrade
    head (plain Alembic, its alembic.ini); the review table's columns afterwards."""
    with ephemeral_database(dialect) as url:
        engine = sa.create_engine(url)
        try:
            template.forget_modules()
            from shop import frozen

            frozen.metadata.create_all(engine)
            alembic(template, url, "stamp", revision)
            alembic(template, url, "upgrade", "head")
            return {c["name"] for c in sa.inspect(engine).get_columns("review")}
        finally:
            engine.dispose()


def test_a_dialect_whose_databases_start_later_in_the_history(template) -> None:
    """The server's support starts after the first revision, which never ran there."""
    _break(
        template,
        f"20210310_create_product_table_{FIRST}.py",
        f"op.get_context().dialect.name == {SAMPLE_SERVER!r}",
    )
    failed = template.cli("check", "--dialect", SAMPLE_SERVER)
    assert failed.code == 1
    assert "this revision never ran on new databases here" in failed.out

    _start_at(template, FIRST, (SAMPLE_SERVER,), review=False)
    passed = template.cli("check", "--dialect", SAMPLE_SERVER)
    assert passed.code == 0, passed.out + passed.err
    assert "2 revisions: single head, round trips, no drift, notes match" in passed.said(
        "ok", SAMPLE_SERVER
    )

    assert template.cli("baseline").code == 0
    template.edit(MODELS, STARS, STARS + TITLE)
    made = template.cli("migrate", "-m", "add_review_title")
    assert made.code == 0, made.out + made.err
    assert template.cli("check").code == 0
    assert "title" in _set_up_and_upgrade(template, SAMPLE_SERVER, FIRST)


def _only_new_databases_at_second(template) -> None:
    """A history whose early revisions no longer run: new databases are made at SECOND (the
    frozen schema as of it is in shop/frozen.py)."""
    _break(template, f"20210310_create_product_table_{FIRST}.py", "True")
    _break(template, f"20220104_add_review_table_{SECOND}.py", "True")
    (template.root / "shop" / "frozen.py").write_text(
        FROZEN.format(revision=SECOND, review=FROZEN_REVIEW)
    )


def _checked_migrated_and_upgraded(template) -> None:
    """Adopted: every dialect checks from SECOND, a new column migrates, and the project's own
    set-up and upgrade apply it."""
    assert template.cli("baseline").code == 0  # SQLite's PRAGMA rule, for the old files
    passed = template.cli("check")
    assert passed.code == 0, passed.out + passed.err
    assert passed.out.count(": 2 revisions: single head") == len(DIALECTS)

    template.edit(MODELS, STARS, STARS + TITLE)
    made = template.cli("migrate", "-m", "add_review_title")
    assert made.code == 0, made.out + made.err
    assert template.cli("check").code == 0
    for dialect in DIALECTS:
        assert "title" in _set_up_and_upgrade(template, dialect, SECOND), dialect


def test_new_databases_made_by_create_all_and_stamp(template) -> None:
    """A history that only upgrades old databases (its early revisions no longer run): every
    dialect's trial databases are made as the project makes new ones, then stamped."""
    _only_new_databases_at_second(template)
    _start_at(template, SECOND, DIALECTS, review=True)
    _checked_migrated_and_upgraded(template)


SET_UP = """\"\"\"The shop's own set-up for a new database: its tables as of a revision, and (given one)
the version row, as create_all and alembic stamp make them.\"\"\"

import sys

import sqlalchemy as sa

from shop.frozen import metadata

engine = sa.create_engine(sys.argv[1])
with engine.begin() as connection:
    metadata.create_all(connection)
    if len(sys.argv) > 2:
        connection.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        connection.execute(sa.text(f"INSERT INTO alembic_version VALUES ('{sys.argv[2]}')"))
    if len(sys.argv) > 3:
        raise SystemExit("the shop's set-up cannot reach its object store")
engine.dispose()
"""


def _set_up_by_command(template, command: str) -> None:
    """The project's set-up command makes every dialect's new databases, at SECOND."""
    (template.root / "shop" / "setup.py").write_text(SET_UP)
    entries = ", ".join(
        f'{d} = {{ revision = "{SECOND}", command = "{command}" }}' for d in DIALECTS
    )
    template.edit(
        "pyproject.toml",
        'database_url_env = "SHOP_DATABASE_URL"',
        f'database_url_env = "SHOP_DATABASE_URL"\nstart = {{ {entries} }}',
    )


def test_new_databases_made_by_the_projects_own_set_up_command(template) -> None:
    """Optuna's ``create-study`` makes new databases (create_all, then a stamp at the head):
    contribkit's are made by that same command, stamped where it does not stamp itself."""
    _only_new_databases_at_second(template)
    _set_up_by_command(template, "python -m shop.setup {url}")
    _checked_migrated_and_upgraded(template)


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (f"{SECOND}", None),
        (f"{FIRST}", f"left the database at {FIRST}, not at sqlite's start revision {SECOND}"),
        (f"{SECOND} fail", "exited 1: the shop's set-up cannot reach its object store"),
    ],
)
def test_a_set_up_command_that_stamps_is_held_to_the_start_revision(
    template, arguments: str, said: str | None
) -> None:
    _only_new_databases_at_second(template)
    _set_up_by_command(template, f"python -m shop.setup {{url}} {arguments}")
    outcome = template.cli("check", "--dialect", "sqlite", "--no-cache")
    if said is None:  # it stamped at the start revision itself: only the old files' rule fails
        found = problems(outcome)
        assert outcome.code == 1 and len(found) == 4, outcome.out + outcome.err
        assert all("must start with op.execute('PRAGMA" in line for line in found), found
    else:
        assert outcome.code == 2, outcome.out + outcome.err
        (line,) = outcome.err.strip().splitlines()
        assert line.startswith("error: ") and "start.sqlite.command" in line and said in line, line
