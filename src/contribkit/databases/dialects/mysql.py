"""MySQL's and MariaDB's catalogue, from ``information_schema`` in the current database:
server defaults, generated columns and CHECK constraints. Neither keeps native enum types (an ``ENUM`` is a column
type, which autogenerate compares) and MariaDB has no indexes on expressions."""

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

_DEFAULTS = """
SELECT TABLE_NAME, COLUMN_NAME, COLUMN_DEFAULT, IS_NULLABLE, EXTRA, GENERATION_EXPRESSION
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
"""
_CHECKS = """
SELECT tc.TABLE_NAME, cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE
FROM information_schema.TABLE_CONSTRAINTS tc
JOIN information_schema.CHECK_CONSTRAINTS cc
  ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
WHERE tc.TABLE_SCHEMA = DATABASE() AND tc.CONSTRAINT_TYPE = 'CHECK'
"""
_NOW = {"current_timestamp()", "current_timestamp", "now()"}


class MySQL(Dialect):
    name = "mysql"
    compares = frozenset({"checks", "defaults"})

    def catalogue(self, connection: Any, tables: Iterable[str]) -> Catalogue:
        wanted = set(tables)
        found: dict[str, TableCatalogue] = {}
        for relname, column, default, nullable, extra, expression in connection.exec_driver_sql(
            _DEFAULTS
        ):
            if relname not in wanted:
                continue
            if expression:  # EXTRA: "STORED GENERATED" / "VIRTUAL GENERATED" (MySQL: "… GENERATED")
                stored = "STORED" in (extra or "").upper() or "PERSISTENT" in (extra or "").upper()
                entry = Column(None, None, self.normalize_generated(expression, stored))
                found.setdefault(relname, TableCatalogue()).columns[column] = entry
                continue
            # MariaDB writes a nullable column without a default as the string NULL.
            if default is None or (default == "NULL" and nullable == "YES"):
                entry = Column(None, None)
            else:
                entry = Column(default, self.normalize_default(default))
            found.setdefault(relname, TableCatalogue()).columns[column] = entry
        for relname, name, clause in connection.exec_driver_sql(_CHECKS):
            if relname in wanted:
                found.setdefault(relname, TableCatalogue()).checks[self.normalize_check(clause)] = (
                    Check(name, clause)
                )
        return Catalogue(found)

    def cannot_hold(self, connection: Any, tables: Iterable[Any]) -> list[str]:
        if not connection.dialect.is_mariadb:
            return []  # MySQL 8 has indexes on expressions
        import sqlalchemy as sa

        found = []
        for table in tables:
            for index in table.indexes:
                expressions = [e for e in index.expressions if not isinstance(e, sa.Column)]
                if expressions:
                    shown = ", ".join(str(e) for e in expressions)
                    found.append(
                        f"index {index.name} on {table.name} is on an expression ({shown}), "
                        "which MariaDB cannot index: index a generated column instead, or keep "
                        "this index out of the mysql dialect"
                    )
        return found

    def normalize_default(self, default: str) -> str:
        text = squeeze(strip_parentheses(default))
        text = re.sub(r"^'(-?\d+(\.\d+)?)'$", r"\1", text)
        return "now()" if text in _NOW else text
