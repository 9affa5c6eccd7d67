"""SQLite's catalogue: ``PRAGMA table_xinfo`` for defaults (and which columns are generated,
whose expressions only the table's DDL holds), the table's own DDL for CHECK
constraints, ``sqlite_master`` for indexes on expressions or with a ``WHERE``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from contribkit.databases.dialects.base import (
    Catalogue,
    Check,
    Column,
    Dialect,
    TableCatalogue,
    squeeze,
    strip_parentheses,
)

_QUOTED_NUMBER = re.compile(r"^'(-?\d+(\.\d+)?)'$")
#: Where a column definition's generation expression starts: ``[GENERATED ALWAYS] AS (``.
_GENERATED_AS = re.compile(r"\b(?:GENERATED\s+ALWAYS\s+)?AS\s*\(", re.IGNORECASE)
#: Table constraints, which a CREATE TABLE lists among its columns.
_CONSTRAINT = re.compile(r"^(CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN)\b", re.IGNORECASE)


def generated_expressions(ddl: str) -> dict[str, str]:
    """Column name → its generation expression, read from a ``CREATE TABLE`` (SQLite keeps
    only the statement; SQLAlchemy's reader of it stops at the wrong parenthesis)."""
    found = {}
    for part in _top_level_parts(ddl[ddl.find("(") + 1 : ddl.rfind(")")]):
        part = part.strip()
        if not part or _CONSTRAINT.match(part):
            continue
        name_match = re.match(r'"((?:[^"]|"")*)"|`([^`]*)`|\[([^\]]*)\]|(\S+)', part)
        if name_match is None:
            continue
        name = next(g for g in name_match.groups() if g is not None).replace('""', '"')
        start = _GENERATED_AS.search(part, name_match.end())
        if start is None:
            continue
        depth, end = 1, start.end()
        while end < len(part) and depth:
            depth += {"(": 1, ")": -1}.get(part[end], 0)
            end += 1
        found[name] = part[start.end() : end - 1]
    return found


def _top_level_parts(body: str) -> list[str]:
    """``body`` split at the commas outside parentheses and quotes."""
    parts, depth, quote, current = [], 0, "", []
    for char in body:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"`":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


class SQLite(Dialect):
    name = "sqlite"
    default_driver = "pysqlite"
    # No native enums: SQLite stores an Enum as VARCHAR (and a CHECK, which is compared).
    compares = frozenset({"checks", "defaults", "expression_indexes"})
    alters_by_rebuild = True
    foreign_keys_can_be_off = True  # PRAGMA foreign_keys, per connection
    database_is_a_file = True

    def prepare_engine(self, engine: Any, *, transactional_ddl: bool) -> None:
        from contribkit.databases.sqlite import enforce_foreign_keys

        enforce_foreign_keys(engine, transactional_ddl=transactional_ddl)

    def catalogue(self, connection: Any, tables: Iterable[str]) -> Catalogue:
        import sqlalchemy as sa

        inspector = sa.inspect(connection)
        existing = set(inspector.get_table_names())
        found = {}
        for table in tables:
            if table not in existing:
                continue
            quoted = table.replace('"', '""')
            # table_xinfo: with generated columns (hidden 2: virtual, 3: stored).
            info = connection.exec_driver_sql(f'PRAGMA table_xinfo("{quoted}")').fetchall()
            columns = {
                row[1]: Column(row[4], None if row[4] is None else self.normalize_default(row[4]))
                for row in info
                if row[6] not in (2, 3)
            }
            if any(row[6] in (2, 3) for row in info):
                ddl = connection.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
                ).scalar()
                expressions = generated_expressions(ddl or "")
                for row in info:
                    if row[6] in (2, 3) and row[1] in expressions:
                        generated = self.normalize_generated(expressions[row[1]], row[6] == 3)
                        columns[row[1]] = Column(None, None, generated)
            checks = {
                self.normalize_check(c["sqltext"]): Check(c.get("name"), c["sqltext"])
                for c in inspector.get_check_constraints(table)
            }
            found[table] = TableCatalogue(
                columns, checks, self._expression_indexes(connection, table)
            )
        return Catalogue(found)

    def _expression_indexes(self, connection: Any, table: str) -> dict[str, str]:
        """Indexes with an expression column (``index_xinfo`` cid -2), a descending key or a
        ``WHERE``: the ones autogenerate skips or sees as plain on SQLite."""
        rows = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            (table,),
        ).fetchall()
        found = {}
        for name, sql in rows:
            quoted = name.replace('"', '""')
            columns = connection.exec_driver_sql(f'PRAGMA index_xinfo("{quoted}")').fetchall()
            has_expression = any(row[1] == -2 for row in columns)
            # A descending key: index_xinfo's desc, which SQLAlchemy does not reflect here.
            descending = any(row[3] and row[5] for row in columns)
            if has_expression or descending or re.search(r"\bwhere\b", sql, re.IGNORECASE):
                found[name] = sql
        return found

    def rebuilds(self, table_ops: Any) -> bool:
        # Alembic's SQLite rule (SQLiteImpl.requires_recreate_in_batch): only an added column
        # with at most a constant default, and index changes, run as plain ALTER / CREATE.
        from alembic.operations import ops

        for op in table_ops.ops:
            if isinstance(op, ops.CreateIndexOp | ops.DropIndexOp):
                continue
            if isinstance(op, ops.AddColumnOp):
                default = op.column.server_default
                if default is None or (hasattr(default, "arg") and isinstance(default.arg, str)):
                    continue
            return True
        return False

    def normalize_default(self, default: str) -> str:
        # SQLite keeps the text as written: DEFAULT '0' and DEFAULT 0 store the same number in
        # a numeric column, and DEFAULT (CURRENT_TIMESTAMP) is DEFAULT CURRENT_TIMESTAMP.
        text = strip_parentheses(default)
        number = _QUOTED_NUMBER.match(text)
        return squeeze(number.group(1) if number else text)
