"""The catalogue contribkit compares, and the base class of every dialect.

Alembic's autogenerate compares tables, columns, types, plain indexes, unique and foreign keys.
It does not compare CHECK constraints, server defaults (unless a project turns that on), the
values of native enum types, or indexes on expressions or with a ``WHERE``. A
:class:`Catalogue` holds exactly those, read with catalogue queries, so that a database built
by the migrations and one built from the models (``create_all`` on the same server) can be
compared: each server normalizes what it stores, and each dialect here normalizes the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Check:
    """A CHECK constraint: its name (``None`` where the database keeps none) and its SQL."""

    name: str | None
    sql: str


@dataclass(frozen=True)
class Column:
    """A column's server default: as the database holds it (valid SQL to write back) and
    normalized for comparison; both ``None`` when it has none. A generated column has instead
    its expression, normalized, with ``stored`` or ``virtual`` in front."""

    default: str | None
    normalized: str | None
    generated: str | None = None


@dataclass(frozen=True)
class TableCatalogue:
    columns: dict[str, Column] = field(default_factory=dict)
    #: Normalized condition → the constraint.
    checks: dict[str, Check] = field(default_factory=dict)
    #: Index name → its ``CREATE INDEX``, for indexes on expressions or with a ``WHERE``.
    expression_indexes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalogue:
    tables: dict[str, TableCatalogue] = field(default_factory=dict)
    #: Native enum type → its values in order (PostgreSQL).
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)


def on_a_column(key: Any, table: Any) -> bool:
    """Whether an index key of ``table`` is a column, ascending or descending (not an
    expression)."""
    from sqlalchemy.sql.expression import ColumnClause

    element = getattr(key, "element", key)  # sa.desc(column)
    if isinstance(element, ColumnClause):
        return not element.is_literal
    # sa.desc("name"): a reference to the name, kept as a string.
    name = getattr(element, "element", None)
    return isinstance(name, str) and name in table.c


#: A string literal, its quotes doubled inside.
LITERAL = re.compile(r"'(?:[^']|'')*'")


def squeeze(sql: str) -> str:
    """Whitespace collapsed, identifier quotes dropped, lower case outside string literals:
    two spellings of one expression by the same server become one string, and ``'Draft'``
    stays different from ``'draft'``."""
    parts = []
    last = 0
    for literal in LITERAL.finditer(sql):
        parts += [_squeeze_code(sql[last : literal.start()]), literal.group()]
        last = literal.end()
    parts.append(_squeeze_code(sql[last:]))
    text = re.sub(r"\s+", " ", "".join(parts)).strip()
    text = re.sub(r"\(\s+", "(", text)
    return re.sub(r"\s+\)", ")", text)


def _squeeze_code(code: str) -> str:
    return re.sub(r"[\"`]", "", code).lower()


def strip_parentheses(sql: str) -> str:
    """``((a > 0))`` → ``a > 0``: only parentheses that enclose the whole text."""
    text = sql.strip()
    while text.startswith("(") and text.endswith(")") and _encloses(text):
        text = text[1:-1].strip()
    return text


def _encloses(text: str) -> bool:
    depth = 0
    for index, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if depth == 0 and index < len(text) - 1:
            return False
    return True


class Dialect:
    """A dialect whose catalogue contribkit does not read (the base of every real one)."""

    name = ""
    #: The driver of contribkit's throw-away databases when the project names none.
    default_driver = ""
    #: What the catalogue holds on this dialect: "checks", "defaults", "enums",
    #: "expression_indexes". A construct the dialect cannot hold is never drift.
    compares: frozenset[str] = frozenset()
    #: A CHECK the models leave unnamed gets a name the server derives from the table and
    #: columns, the same on every database (so the revision can drop it again).
    names_checks = False
    #: Constraints and defaults change by rebuilding the table (Alembic's batch mode); a
    #: rebuild of a parent table needs foreign keys off around the revision (the PRAGMA lines).
    alters_by_rebuild = False
    #: DDL runs in transactions, so a revision that fails is undone whole. Where it does not
    #: (MySQL commits each DDL statement), a failed revision keeps what it ran: say what.
    transactional_ddl = True
    #: Foreign keys can be off while revisions run, so rows that reference nothing may be left:
    #: look for them after each step (elsewhere every statement is checked).
    foreign_keys_can_be_off = False
    #: A database is the file its URL names.
    database_is_a_file = False
    #: A NOT NULL column added without a default fills the rows with its type's zero value
    #: rather than failing on a table with rows.
    fills_new_not_null_columns = False
    #: Enum types live apart from the tables (``CREATE TYPE``) and outlive a dropped table.
    native_enum_types = False
    #: The query whose one row is :meth:`server_identity`, where the server has more to say.
    identity_query: str | None = None
    #: squawk lints its SQL (a linter for PostgreSQL's): the review runs it on the revision.
    linted_by_squawk = False
    #: An index a foreign key needs cannot be dropped while the key is there: a downgrade that
    #: drops a table drops it with its indexes, not them first (as autogenerate writes).
    keeps_indexes_foreign_keys_need = False
    #: What returns a pooled connection to the state of a new session (settings, temporary
    #: tables), so that what one revision set does not reach the next.
    session_reset: tuple[str, ...] = ()

    def prepare_engine(self, engine: Any, *, transactional_ddl: bool) -> None:
        """What every engine of this dialect needs before its first connection."""

    def database_collation(self, engine: Any) -> str:
        """The collation new string columns of ``engine``'s database get (``""``: none that
        compares differently from byte order, or not read)."""
        return ""

    def missing_debian_packages(self) -> list[str]:
        """The Debian packages its throw-away server needs that this machine lacks."""
        return []

    def throwaway_classes(self) -> tuple[Any, Any] | None:
        """The throw-away server contribkit starts for this dialect and the admin object that
        makes its databases (``None``: its databases are files)."""
        return None

    def catalogue(self, connection: Any, tables: Iterable[str]) -> Catalogue:
        """The catalogue of ``tables`` (those that exist) in the connected database."""
        return Catalogue()

    def server_identity(self, connection: Any) -> str:
        """What decides what the connected server does with a revision's DDL (its build, and
        where it has them the database's encoding and collation), as one string: the row of
        :attr:`identity_query`, else the driver's server version."""
        if self.identity_query is None:
            return repr(connection.dialect.server_version_info)
        import sqlalchemy as sa

        row = connection.execute(sa.text(self.identity_query)).one()
        connection.rollback()
        return repr(tuple(row))

    def extensions(self, connection: Any) -> tuple[str, ...]:
        """The extensions the connected database has installed, which the models may need."""
        return ()

    def install_extensions(self, connection: Any, names: tuple[str, ...]) -> None:
        """Install ``names`` (see :meth:`extensions`) in the connected database."""

    def cannot_hold(self, connection: Any, tables: Iterable[Any]) -> list[str]:
        """What ``tables`` (of the models) declare that the connected server cannot create,
        each with what to do instead."""
        return []

    def normalize_default(self, default: str) -> str:
        return squeeze(strip_parentheses(default))

    def normalize_check(self, sql: str) -> str:
        return squeeze(strip_parentheses(sql))

    def normalize_index(self, sql: str) -> str:
        return squeeze(sql)

    def normalize_generated(self, sql: str, stored: bool) -> str:
        """A generated column's expression, as :meth:`normalize_check` sees a condition."""
        return f"{'stored' if stored else 'virtual'} {self.normalize_check(sql)}"

    def rebuilds(self, table_ops: Any) -> bool:
        """Whether Alembic's batch ``table_ops`` (a ``ModifyTableOps``) copies the table into a
        new one, which leaves behind what the copy does not carry."""
        return False
