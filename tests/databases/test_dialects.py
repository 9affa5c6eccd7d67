"""The dialect objects' catalogues: one spelling per stored value, and the session's real
database read back as create_all built it."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from contribkit.databases.dialects import dialect_named
from contribkit.databases.engines import create_engine
from contribkit.databases.throwaway import ephemeral_database


@pytest.mark.parametrize(
    ("dialect", "one", "other"),
    [
        ("sqlite", "'0'", "0"),
        ("sqlite", "(CURRENT_TIMESTAMP)", "CURRENT_TIMESTAMP"),
        ("postgresql", "'a'::character varying", "'a'::text"),
        ("postgresql", "CURRENT_TIMESTAMP", "now()"),
        ("mysql", "current_timestamp()", "CURRENT_TIMESTAMP"),
        ("mysql", "'3'", "3"),
    ],
)
def test_equal_defaults_normalize_alike(dialect: str, one: str, other: str) -> None:
    normalize = dialect_named(dialect).normalize_default
    assert normalize(one) == normalize(other)


@pytest.mark.parametrize(
    ("dialect", "one", "other"),
    [("sqlite", "'0'", "'1'"), ("postgresql", "'a'::text", "'b'::text"), ("mysql", "0", "1")],
)
def test_different_defaults_stay_different(dialect: str, one: str, other: str) -> None:
    normalize = dialect_named(dialect).normalize_default
    assert normalize(one) != normalize(other)


def test_checks_normalize_their_quotes_and_parentheses() -> None:
    postgresql, mysql = dialect_named("postgresql"), dialect_named("mysql")
    assert postgresql.normalize_check("((q >= 0))") == mysql.normalize_check("`q` >= 0")


def test_the_catalogue_reads_what_create_all_built(dialect: str) -> None:
    metadata = sa.MetaData()
    table = sa.Table(
        "t",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("q", sa.Integer, nullable=False, server_default="5"),
        sa.Column("name", sa.String(20)),
        sa.CheckConstraint("q >= 0", name="ck_q"),
    )
    if dialect != "mysql":  # MariaDB has no indexes on expressions
        sa.Index("ix_lower", sa.func.lower(table.c.name))
    with ephemeral_database(dialect) as url:
        engine = create_engine(url)
        try:
            with engine.begin() as connection:
                metadata.create_all(connection)
                catalogue = dialect_named(dialect).catalogue(connection, ["t", "absent"])
        finally:
            engine.dispose()
    assert set(catalogue.tables) == {"t"}
    entry = catalogue.tables["t"]
    assert entry.columns["q"].normalized == "5"
    assert entry.columns["name"].default is None
    assert [c.name for c in entry.checks.values()] == ["ck_q"]
    assert list(entry.checks) == ["q >= 0"]
    if dialect != "mysql":
        assert list(entry.expression_indexes) == ["ix_lower"]
        assert "lower" in entry.expression_indexes["ix_lower"]


def test_case_is_kept_inside_string_literals() -> None:
    sqlite = dialect_named("sqlite")
    assert sqlite.normalize_default("'Draft'") != sqlite.normalize_default("'draft'")
    assert sqlite.normalize_check("STATUS IN ('a')") == sqlite.normalize_check("status in ('a')")


def test_postgresql_checks_compare_without_the_casts_a_type_change_adds() -> None:
    postgresql = dialect_named("postgresql")
    fresh = "((s)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))"
    retyped = "(s = ANY (ARRAY[('a'::character varying)::text, ('b'::character varying)::text]))"
    assert postgresql.normalize_check(fresh) == postgresql.normalize_check(retyped)
    assert postgresql.normalize_check(fresh) != postgresql.normalize_check(
        retyped.replace("'b'", "'c'")
    )


def test_a_serial_column_default_is_the_same_whatever_its_sequence_is_called() -> None:
    postgresql = dialect_named("postgresql")
    assert postgresql.normalize_default("nextval('t_id_seq'::regclass)") == (
        postgresql.normalize_default("nextval('u_id_seq'::regclass)")
    )


def test_sqlite_generation_expressions_are_read_from_the_tables_ddl() -> None:
    """Nested parentheses, quoted names, defaults and constraints holding commas: each
    generated column's whole expression, and nothing else (SQLAlchemy's reader runs on into
    the next column)."""
    from contribkit.databases.dialects.sqlite import generated_expressions

    ddl = (
        'CREATE TABLE p (id INTEGER PRIMARY KEY, a INT, "g x" INT GENERATED ALWAYS AS '
        "(a + (1)) STORED, h INT AS (coalesce(a, 2)), s TEXT DEFAULT 'x,y', "
        "CONSTRAINT c CHECK (a IN (1, 2)))"
    )
    assert generated_expressions(ddl) == {"g x": "a + (1)", "h": "coalesce(a, 2)"}


@pytest.mark.parametrize("name", ["sqlite", "session"])
def test_what_a_dialect_says_of_its_server_is_true_of_it(name: str, dialect: str) -> None:
    """The capabilities the workflows ask for, tried on a real server of each dialect."""
    name = dialect if name == "session" else name
    facts = dialect_named(name)
    with ephemeral_database(name) as url:
        # Each revision in a transaction of its own, as contribkit runs them (on SQLite: an
        # explicit BEGIN, which pysqlite leaves out before DDL).
        engine = create_engine(url, transactional_ddl=True)
        try:
            with engine.connect() as connection:
                connection.execute(sa.text("CREATE TABLE kept (id INTEGER)"))
                connection.rollback()  # undone, unless DDL commits at once
                assert sa.inspect(connection).has_table("kept") is not facts.transactional_ddl
                connection.rollback()
                metadata = sa.MetaData()
                sa.Table("e", metadata, sa.Column("k", sa.Enum("a", "b", name="e_kind")))
                metadata.create_all(connection)
                connection.execute(sa.text("DROP TABLE e"))
                connection.commit()
                inspector = sa.inspect(connection)
                enums = [e["name"] for e in getattr(inspector, "get_enums", list)()]
                assert ("e_kind" in enums) is facts.native_enum_types  # it outlived its table
                keyed = sa.MetaData()
                sa.Table("p", keyed, sa.Column("id", sa.Integer, primary_key=True))
                child = sa.Table(
                    "c",
                    keyed,
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("p_id", sa.ForeignKey("p.id"), index=True),
                )
                keyed.create_all(connection)
                connection.commit()
                try:  # the index the foreign key uses, before its table
                    sa.Index("ix_c_p_id", child.c.p_id).drop(connection)
                    connection.commit()
                    refused = False
                except sa.exc.DBAPIError:
                    connection.rollback()
                    refused = True
                assert refused is facts.keeps_indexes_foreign_keys_need
                identity = facts.server_identity(connection)
                assert str(connection.dialect.server_version_info[0]) in identity
                connection.rollback()
            database = sa.engine.make_url(url).database or ""
            assert os.path.isfile(database) is facts.database_is_a_file
        finally:
            engine.dispose()
    assert dialect_named("mariadb") is dialect_named("mysql")


#: Where a dialect's own code lives: its object, and its server's package.
DIALECT_OWNED = ("databases/dialects/", "databases/mysql/", "databases/postgresql/")
DIALECT_NAMES = {"sqlite", "postgresql", "postgres", "mysql", "mariadb"}


def _names_a_dialect(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in DIALECT_NAMES
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_names_a_dialect(element) for element in node.elts)
    return False


def test_no_module_outside_the_dialects_compares_dialect_names() -> None:
    """Everything else asks the dialect object (``dialect_named(name).<fact>``): adding a
    dialect, or a rule for one, is one file."""
    package = Path(__file__).resolve().parents[2] / "src" / "contribkit"
    found = [
        f"{path.relative_to(package)}:{node.lineno}: {ast.unparse(node)}"
        for path in sorted(package.rglob("*.py"))
        if not str(path.relative_to(package)).startswith(DIALECT_OWNED)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Compare)
        and any(map(_names_a_dialect, [node.left, *node.comparators]))
    ]
    assert found == []
