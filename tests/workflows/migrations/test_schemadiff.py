"""What autogenerate does not compare (CHECK constraints, server defaults, native enum values,
indexes on expressions, FK options) is written by migrate and seen by check, on every dialect.

Each test applies the written files with plain Alembic (a bare env.py, no contribkit at run
time) and reads the result back with the dialect's own catalogue queries, not with the
comparison under test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from migrations_support import plain_alembic, project_at

from contribkit.databases.throwaway import ephemeral_database

MODELS = """\
import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)
shelf = sa.Table(
    "shelf",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("label", sa.String(40), nullable=False),
)
book = sa.Table(
    "book",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shelf_id", sa.ForeignKey("shelf.id", ondelete="CASCADE"), nullable=True, index=True),
    sa.Column("title", sa.String(80), nullable=False),
    sa.Column("pages", sa.Integer, nullable=False, server_default="0"),
    sa.Column("note", sa.String(40), nullable=True),
    # more
)
"""
FILE = "library/models.py"


@pytest.fixture
def library(tmp_path, monkeypatch, capsys, dialect):  # type: ignore[no-untyped-def]
    """A project of the session's dialect, after its first migration."""
    root = tmp_path / "library-project"
    (root / "library").mkdir(parents=True)
    (root / "library" / "__init__.py").write_text("")
    (root / FILE).write_text(MODELS)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "library"\nversion = "0"\n\n[tool.contribkit]\n'
        'models = "library.models:metadata"\nmigrations = "migrations"\n'
        f'dialects = ["{dialect}"]\nnotes = "NOTES.md"\ndatabase_url_env = "LIBRARY_URL"\n'
    )
    project = project_at(root, "library", monkeypatch, capsys)
    assert project.cli("init").code == 0
    first = project.cli("migrate", "-m", "initial")
    assert first.code == 0, first.err
    yield project
    project.forget_modules()


def _migrate(project, message: str):  # type: ignore[no-untyped-def]
    outcome = project.cli("migrate", "-m", message)
    assert outcome.code == 0, outcome.err + outcome.out
    assert "nothing to do" not in outcome.out
    return outcome


def _applied(project, dialect: str, tmp_path: Path, url: str, target: str = "head") -> None:  # type: ignore[no-untyped-def]
    config = plain_alembic(project.migrations / "versions" / dialect, url, tmp_path)
    command.upgrade(config, target)


def _query(url: str, sql: str, **params: object) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            result = connection.execute(sa.text(sql), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def _checks(dialect: str, url: str, table: str) -> dict[str, str]:
    """name → condition, from the catalogue."""
    if dialect == "sqlite":
        (sql,) = _query(url, "SELECT sql FROM sqlite_master WHERE name = :t", t=table)[0]
        import re

        return dict(re.findall(r"CONSTRAINT (\w+) CHECK \((.*?)\)(?:,|\s*\))", sql))
    if dialect == "postgresql":
        rows = _query(
            url,
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'c' AND conrelid = CAST(:t AS regclass)",
            t=table,
        )
        return dict(rows)
    rows = _query(
        url,
        "SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
        "WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = :t",
        t=table,
    )
    return dict(rows)


def _default(dialect: str, url: str, table: str, column: str) -> str | None:
    if dialect == "sqlite":
        rows = _query(url, f"PRAGMA table_info({table})")
        return next(row[4] for row in rows if row[1] == column)
    schema = "current_schema()" if dialect == "postgresql" else "DATABASE()"
    rows = _query(
        url,
        "SELECT column_default FROM information_schema.columns "
        f"WHERE table_schema = {schema} AND table_name = :t AND column_name = :c",
        t=table,
        c=column,
    )
    return rows[0][0]


def test_a_check_constraint_added_to_an_existing_table_is_written(
    library, dialect, tmp_path
) -> None:
    library.edit(FILE, "    # more\n", '    sa.CheckConstraint("pages >= 0", name="pages"),\n')
    _migrate(library, "pages_not_negative")
    with ephemeral_database(dialect) as url:
        _applied(library, dialect, tmp_path, url)
        checks = _checks(dialect, url, "book")
        assert "ck_book_pages" in checks, checks
        assert "pages" in checks["ck_book_pages"] and ">=" in checks["ck_book_pages"]
        with pytest.raises(sa.exc.DBAPIError):
            _query(url, "INSERT INTO book (title, pages) VALUES ('x', -1)")
    assert library.cli("check").code == 0


def test_a_changed_server_default_is_written(library, dialect, tmp_path) -> None:
    library.edit(FILE, 'server_default="0"', 'server_default="12"')
    _migrate(library, "default_pages")
    with ephemeral_database(dialect) as url:
        _applied(library, dialect, tmp_path, url)
        assert "12" in str(_default(dialect, url, "book", "pages"))
        _query(url, "INSERT INTO book (title) VALUES ('x')")
        assert _query(url, "SELECT pages FROM book") == [(12,)]
    assert library.cli("check").code == 0


def test_not_null_with_a_server_default_keeps_the_default(library, dialect, tmp_path) -> None:
    library.edit(
        FILE,
        'sa.Column("note", sa.String(40), nullable=True)',
        'sa.Column("note", sa.String(40), nullable=False, server_default="none")',
    )
    _migrate(library, "note_required")
    with ephemeral_database(dialect) as url:
        _applied(library, dialect, tmp_path, url)
        assert "none" in str(_default(dialect, url, "book", "note"))
        _query(url, "INSERT INTO book (title) VALUES ('x')")
        assert _query(url, "SELECT note FROM book") == [("none",)]
    assert library.cli("check").code == 0


def test_check_reports_what_autogenerate_misses(library, dialect) -> None:
    """A model change that only this comparison sees is drift, not a pass."""
    library.edit(FILE, 'server_default="0"', 'server_default="7"')
    library.edit(FILE, "    # more\n", '    sa.CheckConstraint("pages < 100000", name="max"),\n')
    outcome = library.cli("check")
    assert outcome.code == 1
    assert f"{dialect}: drift: alter column book.pages (server default '7')" in outcome.out
    assert f"{dialect}: drift: create check constraint ck_book_max on book" in outcome.out


def test_an_fk_option_change_is_not_destructive(library, dialect, tmp_path) -> None:
    library.edit(FILE, 'ondelete="CASCADE"', 'ondelete="SET NULL"')
    outcome = _migrate(library, "keep_books")  # no --allow-destructive needed
    assert "destructive" not in outcome.out
    with ephemeral_database(dialect) as url:
        _applied(library, dialect, tmp_path, url)
        if dialect == "sqlite":
            rule = _query(url, "PRAGMA foreign_key_list(book)")[0][6]
        elif dialect == "postgresql":
            rule = _query(
                url,
                "SELECT confdeltype FROM pg_constraint WHERE contype = 'f' "
                "AND conrelid = CAST('book' AS regclass)",
            )[0][0]
            rule = {"n": "SET NULL", "c": "CASCADE"}[rule]
        else:
            rule = _query(
                url,
                "SELECT DELETE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS "
                "WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'book'",
            )[0][0]
        assert rule == "SET NULL"


@pytest.mark.dialects("sqlite", "postgresql")
def test_an_index_on_an_expression_is_written(library, dialect, tmp_path) -> None:
    library.edit(
        FILE, "    # more\n", '    sa.Index("ix_book_title_lower", sa.text("lower(title)")),\n'
    )
    _migrate(library, "title_lookup")
    with ephemeral_database(dialect) as url:
        _applied(library, dialect, tmp_path, url)
        if dialect == "sqlite":
            rows = _query(url, "SELECT sql FROM sqlite_master WHERE name = 'ix_book_title_lower'")
        else:
            rows = _query(
                url, "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_book_title_lower'"
            )
        assert rows and "lower" in rows[0][0]
    assert library.cli("check").code == 0


def _descending_keys(dialect: str, url: str, index: str) -> list[str]:
    """The index's descending key columns, from the catalogue."""
    if dialect == "sqlite":
        rows = _query(url, f"PRAGMA index_xinfo({index})")
        return [row[2] for row in rows if row[5] and row[3]]
    if dialect == "postgresql":
        (definition,) = _query(url, "SELECT indexdef FROM pg_indexes WHERE indexname = :n", n=index)
        keys = definition[0][definition[0].index("(") + 1 : -1].split(", ")
        return [key.removesuffix(" DESC") for key in keys if key.endswith(" DESC")]
    rows = _query(
        url,
        "SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()"
        " AND INDEX_NAME = :n AND COLLATION = 'D' ORDER BY SEQ_IN_INDEX",
        n=index,
    )
    return [row[0] for row in rows]


def test_an_index_keys_direction_is_written_both_ways(library, dialect, tmp_path) -> None:
    """Autogenerate sees ``pages DESC`` as ``pages`` on SQLite and MariaDB: the change of
    direction, either way, said "nothing to do" there."""
    library.edit(FILE, "    # more\n", '    sa.Index("ix_book_title_pages", "title", "pages"),\n')
    _migrate(library, "title_pages")
    library.edit(
        FILE,
        '"ix_book_title_pages", "title", "pages"',
        '"ix_book_title_pages", "title", sa.desc("pages")',
    )
    _migrate(library, "pages_descending")
    with ephemeral_database(dialect) as url:
        _applied(library, dialect, tmp_path, url)
        assert _descending_keys(dialect, url, "ix_book_title_pages") == ["pages"]
    assert library.cli("check").code == 0
    # A rebuild of the table (SQLite) keeps the direction: Alembic's copy reads it ascending.
    library.edit(FILE, 'sa.Column("title", sa.String(80)', 'sa.Column("title", sa.String(120)')
    _migrate(library, "longer_titles")
    with ephemeral_database(dialect) as url:
        _applied(library, dialect, tmp_path / "rebuilt", url)
        assert _descending_keys(dialect, url, "ix_book_title_pages") == ["pages"]
        command.downgrade(
            plain_alembic(library.migrations / "versions" / dialect, url, tmp_path / "rebuilt"),
            "-1",
        )
        assert _descending_keys(dialect, url, "ix_book_title_pages") == ["pages"]
    assert library.cli("check").code == 0
    library.edit(FILE, 'sa.desc("pages")', '"pages"')
    _migrate(library, "pages_ascending")
    with ephemeral_database(dialect) as url:
        _applied(library, dialect, tmp_path / "again", url)
        assert _descending_keys(dialect, url, "ix_book_title_pages") == []
        command.downgrade(
            plain_alembic(library.migrations / "versions" / dialect, url, tmp_path / "down"), "-1"
        )
        assert _descending_keys(dialect, url, "ix_book_title_pages") == ["pages"]
    assert library.cli("check").code == 0


@pytest.mark.dialects("sqlite")
def test_an_index_on_an_expression_survives_a_rebuild_of_its_table(library, tmp_path) -> None:
    """SQLite rebuilds a table to change a column; Alembic's copy leaves out the indexes on
    expressions, which migrate creates again after the rebuild, in both directions."""
    library.edit(
        FILE, "    # more\n", '    sa.Index("ix_book_title_lower", sa.text("lower(title)")),\n'
    )
    _migrate(library, "title_lookup")
    library.edit(FILE, 'sa.Column("title", sa.String(80)', 'sa.Column("title", sa.String(120)')
    _migrate(library, "longer_titles")
    index = "SELECT count(*) FROM sqlite_master WHERE name = 'ix_book_title_lower'"
    with ephemeral_database("sqlite") as url:
        config = plain_alembic(library.migrations / "versions" / "sqlite", url, tmp_path)
        command.upgrade(config, "head")
        assert _query(url, index) == [(1,)]
        command.downgrade(config, "-1")
        assert _query(url, index) == [(1,)]
    assert library.cli("check").code == 0


@pytest.mark.dialects("mysql")
def test_an_index_on_an_expression_is_refused_on_mariadb(library) -> None:
    library.edit(
        FILE, "    # more\n", '    sa.Index("ix_book_title_lower", sa.text("lower(title)")),\n'
    )
    before = library.snapshot()
    outcome = library.cli("migrate", "-m", "title_lookup")
    assert outcome.code == 1
    assert (
        "error: mysql: index ix_book_title_lower on book is on an expression (lower(title)), "
        "which MariaDB cannot index" in outcome.err
    )
    assert library.snapshot() == before


@pytest.mark.dialects("sqlite", "mysql")
def test_an_unnamed_check_is_refused_where_it_cannot_be_dropped_again(library) -> None:
    library.edit(FILE, "    # more\n", '    sa.CheckConstraint("pages < 5000"),\n')
    library.edit(FILE, '"ck": "ck_%(table_name)s_%(constraint_name)s",\n', "")
    before = library.snapshot()
    outcome = library.cli("migrate", "-m", "max_pages")
    assert outcome.code == 1
    assert "on book has no name" in outcome.err and "name it in the models" in outcome.err
    assert library.snapshot() == before


def test_migrate_never_leaves_a_project_that_check_rejects(library) -> None:
    """Several kinds at once, then nothing more to do, and check passes."""
    library.edit(FILE, 'server_default="0"', 'server_default="1"')
    library.edit(FILE, "    # more\n", '    sa.CheckConstraint("pages >= 0", name="pages"),\n')
    library.edit(FILE, 'ondelete="CASCADE"', 'ondelete="SET NULL"')
    _migrate(library, "several")
    again = library.cli("migrate", "-m", "again")
    assert again.code == 0 and "nothing to do" in again.out
    assert library.cli("check", "--no-cache").code == 0


def _with_covers(library) -> None:  # type: ignore[no-untyped-def]
    """A native enum column added to an existing table (its type created first)."""
    cover = 'sa.Column("cover", sa.Enum("paper", "hard", name="cover"), nullable=True),\n'
    library.edit(FILE, "    # more\n", f"    {cover}    # more\n")
    _migrate(library, "covers")


@pytest.mark.dialects("postgresql")
def test_a_value_added_to_a_native_enum_is_written_in_the_models_order(library, tmp_path) -> None:
    _with_covers(library)
    library.edit(FILE, '"paper", "hard"', '"paper", "spiral", "hard", "cloth"')
    _migrate(library, "more_covers")
    written = next(p for p in library.versions("postgresql") if p.name.endswith("_more_covers.py"))
    text = written.read_text()
    assert "autocommit_block()" in text
    assert "ADD VALUE IF NOT EXISTS 'spiral' AFTER 'paper'" in text
    assert "ADD VALUE IF NOT EXISTS 'cloth' AFTER 'hard'" in text
    labels = "SELECT enumlabel FROM pg_enum WHERE enumtypid = CAST('cover' AS regtype) ORDER BY enumsortorder"
    with ephemeral_database("postgresql") as url:
        _applied(library, "postgresql", tmp_path, url)
        assert [row[0] for row in _query(url, labels)] == ["paper", "spiral", "hard", "cloth"]
        _query(url, "INSERT INTO book (title, cover) VALUES ('x', 'spiral')")
    assert library.cli("check").code == 0


@pytest.mark.dialects("postgresql")
def test_a_removed_enum_value_is_refused_with_what_to_write(library) -> None:
    _with_covers(library)
    library.edit(FILE, '"paper", "hard"', '"paper"')
    before = library.snapshot()
    outcome = library.cli("migrate", "-m", "fewer_covers")
    assert outcome.code == 1
    assert (
        "error: postgresql: enum type cover has values ['paper', 'hard'] in the database but "
        "['paper'] in the models: postgresql can only add values" in outcome.err
    )
    assert library.snapshot() == before
    assert library.cli("check").code == 1


def test_a_deferrable_foreign_key_is_written_once_or_refused_whole(
    library, dialect, tmp_path
) -> None:
    """SQLite and PostgreSQL hold a deferrable foreign key: written, then no drift. MariaDB has
    no deferrable constraints and refuses the DDL: migrate fails naming it, writing nothing."""
    library.edit(
        FILE,
        "    # more\n",
        '    sa.Column("next_id", sa.Integer, nullable=True),\n'
        '    sa.ForeignKeyConstraint(["next_id"], ["book.id"], name="fk_book_next",'
        ' deferrable=True, initially="DEFERRED"),\n',
    )
    if dialect == "mysql":
        before = library.snapshot()
        outcome = library.cli("migrate", "-m", "next_book")
        assert outcome.code == 1
        assert "DEFERRABLE" in outcome.err and "\n" not in outcome.err.strip().split("→")[0]
        assert library.snapshot() == before
        return
    _migrate(library, "next_book")
    checked = library.cli("check")
    assert checked.code == 0, checked.out + checked.err
    assert "nothing to do" in library.cli("migrate", "-m", "again").out
    with ephemeral_database(dialect) as url:
        _applied(library, dialect, tmp_path, url)
        if dialect == "postgresql":
            sql = "SELECT condeferrable, condeferred FROM pg_constraint WHERE conname = 'fk_book_next'"
            assert _query(url, sql) == [(True, True)]
        else:
            (ddl,) = _query(url, "SELECT sql FROM sqlite_master WHERE name = 'book'")
            assert "DEFERRABLE INITIALLY DEFERRED" in ddl[0]


def test_a_changed_generation_expression_is_refused_and_fails_check(library, dialect) -> None:
    """Autogenerate never compares a computed column's expression: migrate said "nothing to
    do" and check passed while the database computed something else."""
    library.edit(
        FILE,
        "    # more\n",
        '    sa.Column("sheets", sa.Integer, sa.Computed("pages + 1", persisted=True)),\n',
    )
    _migrate(library, "sheets")
    assert library.cli("check").code == 0
    library.edit(FILE, 'sa.Computed("pages + 1"', 'sa.Computed("pages + 2"')
    before = library.snapshot()
    outcome = library.cli("migrate", "-m", "sheets_again")
    assert outcome.code == 1
    assert (
        f"error: {dialect}: column book.sheets is GENERATED AS (" in outcome.err
        and f"in the models on {dialect}: write the change by hand" in outcome.err
    )
    assert library.snapshot() == before
    checked = library.cli("check")
    assert checked.code == 1
    assert "column book.sheets is GENERATED AS" in checked.out + checked.err


def test_a_check_that_stops_before_the_head_never_says_no_drift(library, dialect) -> None:
    """A revision that cannot be applied even without rows ends the walk: the head was never
    compared, so check fails; after a baseline accepts it, the summary still says so."""
    library.edit(FILE, "    # more\n", '    sa.Column("isbn", sa.String(20), nullable=True),\n')
    _migrate(library, "isbn")
    newest = next(p for p in library.versions(dialect) if p.name.endswith("_isbn.py"))
    text = newest.read_text()
    newest.write_text(
        text.replace(
            "def upgrade() -> None:\n",
            "def upgrade() -> None:\n    raise RuntimeError('broken')\n",
            1,
        )
    )
    failed = library.cli("check", "--no-cache")
    assert failed.code == 1
    assert (
        f"{dialect}: drift at head was not checked: the check stopped at {newest.name}"
        in failed.out
    )
    assert "no drift" not in failed.out
    assert library.cli("baseline").code == 0
    accepted = library.cli("check")
    assert accepted.code == 0
    assert any(
        m.startswith("2 revisions: drift at head was not checked")
        for m in accepted.said("warn", dialect)
    )
    assert not [m for m in accepted.said("ok") if "no drift" in m]


OWNER = '    sa.Column("owner", sa.String(40), nullable=True),\n'
LABEL = '    sa.Column("label", sa.String(40), nullable=False),\n'


@pytest.mark.dialects("sqlite")
@pytest.mark.parametrize("one_transaction", [False, True], ids=["template", "one-transaction"])
def test_rebuilding_a_parent_table_keeps_child_rows_under_plain_alembic(
    library, tmp_path, one_transaction
) -> None:
    """Two new revisions, the second rebuilding the parent table, applied by plain Alembic
    with foreign keys on, in one ``upgrade head`` and step by step: every child row stays.
    Under an env.py that runs every revision in one transaction the bracket's PRAGMA cannot
    switch foreign keys off, so the revision stops instead of cascading, and rolls back."""
    library.edit(FILE, LABEL, LABEL + OWNER)
    _migrate(library, "owner")
    library.edit(FILE, 'sa.Column("owner", sa.String(40)', 'sa.Column("owner", sa.String(80)')
    _migrate(library, "wider_owner")
    versions = library.migrations / "versions" / "sqlite"
    first = next(p for p in library.versions("sqlite") if p.name.endswith("_initial.py"))
    books = "SELECT count(*) FROM book"
    for one_step in (False, True):
        with ephemeral_database("sqlite") as url:
            config = plain_alembic(versions, url, tmp_path, one_transaction=one_transaction)
            command.upgrade(config, first.name.split("_")[4])
            _query(url, "INSERT INTO shelf (id, label) VALUES (1, 'a')")
            _query(url, "INSERT INTO book (shelf_id, title) VALUES (1, 'x'), (1, 'y')")
            if one_step:
                command.upgrade(config, "+1")
                command.upgrade(config, "+1")
            elif one_transaction:
                with pytest.raises(
                    RuntimeError, match="foreign keys are still on, so rebuilding shelf"
                ):
                    command.upgrade(config, "head")
            else:
                command.upgrade(config, "head")
            assert _query(url, books) == [(2,)]
            assert _query(url, "PRAGMA foreign_key_check") == []
            if one_step or not one_transaction:
                command.downgrade(config, "-1")
                command.downgrade(config, "-1")
                assert _query(url, books) == [(2,)]


CODE = '    sa.Column("code", sa.String(10), nullable=False),\n'
TAG = """
tag = sa.Table(
    "tag",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(10), nullable=False),
    sa.Column("label", sa.String(10), nullable=False),
    sa.CheckConstraint("code = label", name="fixed"),
)
"""


def _tags_then_a_hint(library) -> None:  # type: ignore[no-untyped-def]
    """A table the seeder cannot fill, migrated; then a column for it in the models."""
    (library.root / FILE).write_text((library.root / FILE).read_text() + TAG)
    _migrate(library, "tags")
    library.edit(FILE, CODE, CODE + '    sa.Column("hint", sa.String(10), nullable=True),\n')


def test_a_revision_verified_on_an_empty_table_says_so(library, dialect) -> None:
    """The seeder cannot fill a table whose CHECK relates two columns: "verified" would be verified on
    nothing, so the line names the table."""
    _tags_then_a_hint(library)
    outcome = _migrate(library, "tag_hint")
    warned = outcome.said("warn", dialect)
    assert any(m.startswith("verify could not seed tag (") for m in warned)
    assert any(m.endswith("_tag_hint.py verified without rows in tag") for m in warned)
    assert not [m for m in outcome.said("ok") if "_tag_hint.py verified" in m]


def test_require_rows_refuses_a_revision_verified_on_an_empty_table(library, dialect) -> None:
    _tags_then_a_hint(library)
    before = library.snapshot()
    outcome = library.cli("migrate", "-m", "tag_hint", "--require-rows")
    assert outcome.code == 1
    assert f"error: {dialect}: verify: no rows in tag, which the revision changes" in outcome.err
    assert library.snapshot() == before


def test_check_fails_a_new_revision_verified_on_an_empty_table_until_seed_rows_fill_it(
    library, dialect
) -> None:
    """check requires rows for what a new revision changes; the project's row factories are
    what fills a table the seeder cannot, in migrate's verification and in check."""
    _tags_then_a_hint(library)
    _migrate(library, "tag_hint")
    checked = library.cli("check")
    assert checked.code == 1
    assert "_tag_hint.py: verified without rows in tag" in checked.out + checked.err

    (library.root / "library" / "rows.py").write_text(
        "ROWS = {'tag': lambda n: {'code': f'x{n}', 'label': f'x{n}'}}\n"
    )
    pyproject = library.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'seed_rows = "library.rows:ROWS"\n')
    checked = library.cli("check")
    assert checked.code == 0, checked.out + checked.err
    library.edit(FILE, CODE, CODE + '    sa.Column("note", sa.String(10), nullable=True),\n')
    outcome = _migrate(library, "tag_note")
    assert [m for m in outcome.said("ok", dialect) if m.endswith("_tag_note.py verified")]
    assert not [m for m in outcome.said("warn") if "_tag_note.py verified" in m]


def test_an_index_the_models_declare_twice_is_compared_once(library) -> None:
    """``index=True`` under a naming convention and an explicit ``Index`` of that name are one
    index (Prefect's models have such pairs); create_all alone would stop at the second."""
    library.edit(
        FILE,
        'sa.Column("title", sa.String(80), nullable=False)',
        'sa.Column("title", sa.String(80), nullable=False, index=True)',
    )
    library.edit(FILE, "    # more\n", '    sa.Index("ix_book_title", "title"),\n')
    outcome = _migrate(library, "title_index")
    assert "cannot be created" not in outcome.out + outcome.err
    checked = library.cli("check")
    assert checked.code == 0, checked.out


def test_a_changed_check_condition_is_dropped_before_it_is_created(
    library, dialect, tmp_path
) -> None:
    library.edit(FILE, "    # more\n", '    sa.CheckConstraint("pages >= 0", name="pages"),\n')
    _migrate(library, "pages_not_negative")
    library.edit(FILE, '"pages >= 0"', '"pages >= -1"')  # the seeded rows still pass
    _migrate(library, "pages_positive")
    with ephemeral_database(dialect) as url:
        _applied(library, dialect, tmp_path, url)
        assert "-1" in _checks(dialect, url, "book")["ck_book_pages"]
        _query(url, "INSERT INTO book (title, pages) VALUES ('x', -1)")
        with pytest.raises(sa.exc.DBAPIError):
            _query(url, "INSERT INTO book (title, pages) VALUES ('y', -2)")
    assert library.cli("check").code == 0


def test_columns_that_carry_a_check_are_added_and_dropped(library, dialect) -> None:
    """MariaDB gives a JSON column a CHECK of its own, and dropping a column drops the CHECKs
    on it: neither is the comparison's to write."""
    note_check = '    sa.CheckConstraint("note <> \'\'", name="note"),\n'
    library.edit(
        FILE, "    # more\n", f'    sa.Column("extra", sa.JSON, nullable=True),\n{note_check}'
    )
    _migrate(library, "extra_and_note_check")
    library.edit(FILE, '    sa.Column("note", sa.String(40), nullable=True),\n', "")
    library.edit(FILE, note_check, "")
    dropped = library.cli("migrate", "-m", "no_note", "--allow-destructive")
    assert dropped.code == 0, dropped.err
    assert library.cli("check").code == 0


def test_models_that_create_all_cannot_build_whole_are_still_compared(dialect) -> None:
    """An Index naming no column (MLflow has one), one CHECK held twice and a foreign key to a
    column without a unique key (MLflow's on PostgreSQL) stop create_all; the models' catalogue is built table
    by table without foreign keys, so both tables are still read."""
    from contribkit.workflows.migrations.schemadiff import models_catalogue

    metadata = sa.MetaData()
    parent = sa.Table(
        "parent",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(10), nullable=False, server_default="p"),
        sa.Index("ix_parent_nothing"),
    )
    for _ in range(2):  # one CHECK twice on a table (a model module imported twice, as MLflow's)
        parent.append_constraint(sa.CheckConstraint("code <> ''", name="ck_parent_code"))
    sa.Table(
        "child",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(10), sa.ForeignKey(parent.c.code), server_default="c"),
    )
    if dialect != "sqlite":  # SQLite accepts both
        with ephemeral_database(dialect) as url, pytest.raises(sa.exc.SQLAlchemyError):
            engine = sa.create_engine(url)
            try:
                metadata.create_all(engine)
            finally:
                engine.dispose()
    catalogue, failures = models_catalogue(dialect, metadata, ["parent", "child"])
    assert failures == {}
    assert set(catalogue.tables) == {"parent", "child"}
    assert "c" in str(catalogue.tables["child"].columns["code"].default)
    assert [c.name for c in catalogue.tables["parent"].checks.values()] == ["ck_parent_code"]


@pytest.mark.dialects("sqlite")
def test_what_a_rebuild_loses_is_judged_on_what_is_written(library) -> None:
    """A baselined change that would rebuild a table with an unnamed CHECK is not written, so
    it cannot make migrate refuse a change elsewhere (MLflow's runs and experiments)."""
    library.edit(FILE, '"ck": "ck_%(table_name)s_%(constraint_name)s",\n', "")
    unnamed = TAG.replace(
        'sa.CheckConstraint("code = \'x\'", name="fixed")', "sa.CheckConstraint(\"code <> ''\")"
    )
    (library.root / FILE).write_text((library.root / FILE).read_text() + unnamed)
    _migrate(library, "tags")
    library.edit(FILE, CODE, CODE.replace("String(10)", "String(20)"))
    assert library.cli("baseline").code == 0
    library.edit(
        FILE,
        '    sa.Column("note", sa.String(40), nullable=True),\n',
        '    sa.Column("note", sa.String(40), nullable=True),\n    sa.Column("isbn", sa.String(20), nullable=True),\n',
    )
    _migrate(library, "isbn")
    assert library.cli("check").code == 0
