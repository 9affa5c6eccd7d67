"""MySQL's and MariaDB's catalogue, from ``information_schema`` in the current database:
server defaults, generated columns, CHECK constraints and indexes with a descending key.
Neither keeps native enum types (an ``ENUM`` is a column type, which autogenerate compares) and
MariaDB has no indexes on expressions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from contribkit.core.errors import UsageError
from contribkit.databases.dialects.base import (
    Catalogue,
    Check,
    Column,
    Dialect,
    TableCatalogue,
    on_a_column,
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
_INDEX_KEYS = """
SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, COLLATION, SUB_PART
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME <> 'PRIMARY'
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
"""
_NOW = {"current_timestamp()", "current_timestamp", "now()"}


class MySQL(Dialect):
    name = "mysql"
    #: PyMySQL: maintained and pure Python, so it installs everywhere with nothing to compile.
    default_driver = "pymysql"
    # Indexes: those with a descending key, which autogenerate sees as ascending here.
    compares = frozenset({"checks", "defaults", "expression_indexes"})
    transactional_ddl = False
    fills_new_not_null_columns = True
    keeps_indexes_foreign_keys_need = True
    identity_query = (
        "SELECT version(), @@character_set_database, @@collation_database, @@sql_mode, "
        "@@lower_case_table_names"
    )
    #: InnoDB's key limit with the DYNAMIC / COMPRESSED row formats (the default since 5.7 /
    #: 10.2), and ``utf8mb4``'s 4 bytes reserved per character.
    max_key_bytes = 3072
    bytes_per_char = 4

    def database_collation(self, engine: Any) -> str:
        import sqlalchemy as sa

        with engine.connect() as connection:
            collation = connection.scalar(sa.text("SELECT @@collation_database"))
            connection.rollback()
        return str(collation)

    def missing_debian_packages(self) -> list[str]:
        """A MySQL server counts as missing MariaDB: CI runs on the server contribkit is tested
        with (a GitHub runner comes with MySQL 8)."""
        from contribkit.databases.mysql.embedded import DEBIAN_PACKAGES, find_installation

        try:
            is_mariadb = find_installation().install_db is not None
        except UsageError:
            is_mariadb = False
        return [] if is_mariadb else list(DEBIAN_PACKAGES)

    def throwaway_classes(self) -> tuple[Any, Any]:
        from contribkit.databases.mysql.embedded import ThrowawayMySQL
        from contribkit.databases.mysql.server import MySQLServer

        return ThrowawayMySQL, MySQLServer

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
        for (relname, name), definition in self._descending_indexes(connection).items():
            if relname in wanted:
                found.setdefault(relname, TableCatalogue()).expression_indexes[name] = definition
        return Catalogue(found)

    def _descending_indexes(self, connection: Any) -> dict[tuple[str, str], str]:
        """(table, index) → its ``CREATE INDEX``, for indexes with a descending key."""
        keys: dict[tuple[str, str], list[tuple[bool, str, str | None, int | None]]] = {}
        for relname, name, non_unique, column, collation, sub_part in connection.exec_driver_sql(
            _INDEX_KEYS
        ):
            keys.setdefault((relname, name), []).append(
                (not int(non_unique), column, collation, sub_part)
            )
        found = {}
        for (relname, name), columns in keys.items():
            if not any(collation == "D" for _, _, collation, _ in columns):
                continue
            if any(column is None for _, column, _, _ in columns):
                continue  # MySQL 8's key on an expression: autogenerate reads those
            listed = ", ".join(
                f"{_quoted(column)}{f'({sub_part})' if sub_part else ''}"
                f"{' DESC' if collation == 'D' else ''}"
                for _, column, collation, sub_part in columns
            )
            unique = "UNIQUE " if columns[0][0] else ""
            found[relname, name] = (
                f"CREATE {unique}INDEX {_quoted(name)} ON {_quoted(relname)} ({listed})"
            )
        return found

    def cannot_hold(self, connection: Any, tables: Iterable[Any]) -> list[str]:
        if not connection.dialect.is_mariadb:
            return []  # MySQL 8 has indexes on expressions

        found = []
        for table in tables:
            for index in table.indexes:
                # A descending key (sa.desc(column)) is a column MariaDB indexes.
                expressions = [e for e in index.expressions if not on_a_column(e, table)]
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


def _quoted(name: str | None) -> str:
    return "`" + (name or "").replace("`", "``") + "`"
