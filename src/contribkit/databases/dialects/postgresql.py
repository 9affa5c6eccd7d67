"""PostgreSQL's catalogue, from ``pg_catalog`` in the connection's current schema: server
defaults and generated columns (``pg_get_expr``), CHECK constraints (``pg_get_constraintdef``), native enum values
in order, and indexes on expressions or with a ``WHERE`` (``pg_get_indexdef``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from contribkit.databases.dialects.base import (
    LITERAL,
    Catalogue,
    Check,
    Column,
    Dialect,
    TableCatalogue,
    squeeze,
    strip_parentheses,
)

_DEFAULTS = """
SELECT c.relname, a.attname, pg_get_expr(d.adbin, d.adrelid)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity = '' AND a.attgenerated = ''
"""
_GENERATED = """
SELECT c.relname, a.attname, pg_get_expr(d.adbin, d.adrelid), a.attgenerated
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated <> ''
"""
_CHECKS = """
SELECT c.relname, k.conname, pg_get_constraintdef(k.oid)
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND k.contype = 'c'
"""
_ENUMS = """
SELECT t.typname, e.enumlabel
FROM pg_type t
JOIN pg_enum e ON e.enumtypid = t.oid
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = current_schema()
ORDER BY t.typname, e.enumsortorder
"""
_INDEXES = """
SELECT c.relname, i.relname, pg_get_indexdef(x.indexrelid)
FROM pg_index x
JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND (x.indexprs IS NOT NULL OR x.indpred IS NOT NULL)
"""
#: A cast PostgreSQL adds to a literal default: ``'a'::character varying``.
_LITERAL_CAST = re.compile(r"^('(?:[^']|'')*')::[a-z ]+(\(\d+\))?(\[\])?$")
_NOW = {"now()", "current_timestamp", "transaction_timestamp()"}
#: ``::character varying(20)``, ``::text[]``: a cast, outside string literals.
_CAST = re.compile(r"::[a-z_]+(?: [a-z_]+)*(?:\(\d+\))?(?:\[\])?")


class PostgreSQL(Dialect):
    name = "postgresql"
    #: psycopg 3 (SQLAlchemy's own default is psycopg2, which coerces some types differently).
    default_driver = "psycopg"
    compares = frozenset({"checks", "defaults", "enums", "expression_indexes"})
    names_checks = True
    native_enum_types = True
    linted_by_squawk = True
    identity_query = (
        "SELECT version(), pg_encoding_to_char(encoding), datcollate, datctype "
        "FROM pg_database WHERE datname = current_database()"
    )
    session_reset = ("RESET ALL", "DISCARD TEMP")

    def throwaway_classes(self) -> tuple[Any, Any]:
        from contribkit.databases.postgresql.embedded import EmbeddedPostgres
        from contribkit.databases.postgresql.server import PostgresServer

        return EmbeddedPostgres, PostgresServer

    def catalogue(self, connection: Any, tables: Iterable[str]) -> Catalogue:
        wanted = set(tables)
        found: dict[str, TableCatalogue] = {}

        def table(name: str) -> TableCatalogue | None:
            if name not in wanted:
                return None
            return found.setdefault(name, TableCatalogue())

        for relname, column, default in connection.exec_driver_sql(_DEFAULTS):
            entry = table(relname)
            if entry is not None:
                normalized = None if default is None else self.normalize_default(default)
                entry.columns[column] = Column(default, normalized)
        for relname, column, expression, kind in connection.exec_driver_sql(_GENERATED):
            entry = table(relname)
            if entry is not None:
                generated = self.normalize_generated(expression, stored=kind == "s")
                entry.columns[column] = Column(None, None, generated)
        for relname, name, definition in connection.exec_driver_sql(_CHECKS):
            entry = table(relname)
            if entry is not None:
                condition = definition.removeprefix("CHECK ").removesuffix(" NOT VALID")
                entry.checks[self.normalize_check(condition)] = Check(name, condition)
        for relname, name, definition in connection.exec_driver_sql(_INDEXES):
            entry = table(relname)
            if entry is not None:
                # The schema is the connection's own: leave it out so two databases compare.
                entry.expression_indexes[name] = re.sub(r" ON \S+\.", " ON ", definition, count=1)
        enums: dict[str, list[str]] = {}
        for name, label in connection.exec_driver_sql(_ENUMS):
            enums.setdefault(name, []).append(label)
        return Catalogue(found, {name: tuple(labels) for name, labels in enums.items()})

    def extensions(self, connection: Any) -> tuple[str, ...]:
        rows = connection.exec_driver_sql(
            "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY extname"
        )
        return tuple(row[0] for row in rows)

    def install_extensions(self, connection: Any, names: tuple[str, ...]) -> None:
        for name in names:  # an index's operator class (gin_trgm_ops) comes from one
            quoted = name.replace('"', '""')
            connection.exec_driver_sql(f'CREATE EXTENSION IF NOT EXISTS "{quoted}"')

    def normalize_check(self, sql: str) -> str:
        # A column's type change makes PostgreSQL store the condition again with other casts
        # ('a'::character varying)::text): the condition is the same one.
        text = _CAST.sub("", sql)
        previous = None
        while text != previous:  # the parentheses the casts needed
            previous = text
            text = re.sub(r"(?<![\w\]])\((\w+|" + LITERAL.pattern + r")\)", r"\1", text)
            text = re.sub(r"\(\(([^()]*)\)\)", r"(\1)", text)
        return squeeze(strip_parentheses(text))

    def normalize_default(self, default: str) -> str:
        if default.startswith("nextval("):
            # A serial column's sequence: named after the table it was created with, which a
            # renamed table keeps.
            return "nextval()"
        text = strip_parentheses(default)
        literal = _LITERAL_CAST.match(text)
        if literal:  # 'a'::character varying and 'a'::text hold the same value
            text = literal.group(1)
        text = squeeze(text)
        return "now()" if text in _NOW else text
