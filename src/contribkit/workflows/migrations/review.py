"""Read a generated migration before anyone applies it: what could lose data or surprise.

Concern kinds, as printed and recorded in the notes:

* ``destructive`` - drops a table, column, index or constraint (refused without
  ``--allow-destructive``);
* ``data-dependent`` - succeeds or fails depending on existing rows (NOT NULL without a server
  default on an existing table, a new unique constraint, a narrowed type);
* ``suspected rename`` - a drop and an add of the same type, which loses the column's data where a
  rename would keep it;
* ``dialect hazard`` - PostgreSQL enum types, which autogenerate handles only in part; on MySQL,
  what its DDL does differently (:mod:`mysqlreview`);
* ``squawk`` - findings of the squawk linter on the rendered PostgreSQL SQL.
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.dialects import postgresql

from contribkit.core.errors import UsageError
from contribkit.core.tools import resolve_tool
from contribkit.databases.dialects import dialect_named
from contribkit.databases.dialects.mysql import MySQL
from contribkit.workflows.migrations.concerns import (
    DATA_DEPENDENT,
    DESTRUCTIVE,
    HAZARD,
    RENAME,
    SQUAWK,
    Concern,
)
from contribkit.workflows.migrations.describe import describe, type_name
from contribkit.workflows.migrations.mysqlreview import mysql_hazards
from contribkit.workflows.migrations.storedtypes import stored_type

# Alembic owns the transaction and the version table, so rerunnable DDL and transaction
# nesting are not the migration's business; the rest of squawk's default rules stay.
SQUAWK_EXCLUDED_RULES = "prefer-robust-stmts,transaction-nesting"


@functools.cache
def _postgresql() -> Any:
    return postgresql.dialect()


def _native_enums(type_: Any) -> list[sa.Enum]:
    """The PostgreSQL enum type a column of ``type_`` creates, if any (variants and custom
    types included: what counts is what PostgreSQL stores)."""
    stored = stored_type(type_, _postgresql())
    return [stored] if isinstance(stored, sa.Enum) and stored.native_enum and stored.name else []


def _widens(old: Any, new: Any) -> bool:
    """True when every value of ``old`` fits ``new`` (no data can fail to convert).

    ``old`` is usually reflected (``VARCHAR``) and ``new`` from the models (``String``), so
    types are compared by family, not by class.
    """
    if isinstance(old, sa.String) and isinstance(new, sa.String):
        if isinstance(new, sa.Text) or new.length is None:
            return True
        return not isinstance(old, sa.Text) and old.length is not None and new.length >= old.length
    return isinstance(old, sa.Integer) and isinstance(new, sa.BigInteger)


def review_operations(
    leaf_ops: list[Any],
    dialect: str,
    existing_enums: dict[str, list[str]] | None = None,
    models: sa.MetaData | None = None,
    collation: str = "",
) -> list[Concern]:
    """Concerns for the upgrade operations of one revision of ``dialect``; ``collation``: the
    MySQL database's default one."""
    new_tables = {op.table_name for op in leaf_ops if isinstance(op, ops.CreateTableOp)}
    recreated = _recreated(leaf_ops)
    concerns = [
        c
        for op in leaf_ops
        if not _dropped_name(op) or _dropped_name(op) not in recreated
        for c in _operation_concerns(op, new_tables, dialect)
    ]
    concerns += _likely_renames(leaf_ops)
    if dialect_named(dialect).native_enum_types:
        concerns += _enum_hazards(leaf_ops, existing_enums or {})
    rules = DIALECT_RULES.get(dialect_named(dialect).name)
    if rules is not None:
        concerns += rules(leaf_ops, models, collation)
    return concerns


#: Review rules one dialect alone has, by dialect: they are written with the review's own
#: concerns and descriptions, which sit above the dialect objects, so they live here.
DIALECT_RULES: dict[str, Callable[[list[Any], sa.MetaData | None, str], list[Concern]]] = {
    MySQL.name: mysql_hazards
}


def _dropped_name(op: Any) -> tuple[str, str, str] | None:
    """(kind, table, name) of a dropped index or named constraint."""
    if isinstance(op, ops.DropIndexOp) and op.index_name:
        return ("index", op.table_name, op.index_name)
    if isinstance(op, ops.DropConstraintOp) and op.constraint_name:
        return (op.constraint_type or "", op.table_name, op.constraint_name)
    return None


def _recreated(leaf_ops: list[Any]) -> set[tuple[str, str, str]]:
    """(kind, table, name) of the indexes and named constraints the revision creates: a drop of
    the same kind and name is a change of its definition (an FK's ON DELETE, a CHECK's
    condition), which holds no rows and so loses none."""
    found = set()
    for op in leaf_ops:
        if isinstance(op, ops.CreateIndexOp) and op.index_name:
            found.add(("index", op.table_name, op.index_name))
        elif isinstance(op, ops.CreateForeignKeyOp) and op.constraint_name:
            found.add(("foreignkey", op.source_table, op.constraint_name))
        elif isinstance(op, ops.CreateCheckConstraintOp) and op.constraint_name:
            found.add(("check", op.table_name, op.constraint_name))
        elif isinstance(op, ops.CreateUniqueConstraintOp) and op.constraint_name:
            found.add(("unique", op.table_name, op.constraint_name))
    return found


def _operation_concerns(op: Any, new_tables: set[str], dialect: str) -> list[Concern]:
    """What one operation can lose, or fail on, in a table that already has rows."""
    text = describe(op)
    found: list[Concern] = []
    if isinstance(op, ops.DropTableOp | ops.DropColumnOp | ops.DropIndexOp | ops.DropConstraintOp):
        found.append(Concern(DESTRUCTIVE, text))
    if (
        isinstance(op, ops.AddColumnOp)
        and not op.column.nullable
        and op.column.server_default is None
        and not dialect_named(dialect).fills_new_not_null_columns  # see mysqlreview.py
    ):
        found.append(
            Concern(DATA_DEPENDENT, f"{text} without a server default fails on a table with rows")
        )
    if isinstance(op, ops.AlterColumnOp):
        if op.modify_nullable is False:
            found.append(Concern(DATA_DEPENDENT, f"{text}: fails if any row holds NULL"))
        if op.modify_type is not None and not _widens(op.existing_type, op.modify_type):
            found.append(Concern(DATA_DEPENDENT, f"{text}: existing values may not convert"))
    if isinstance(op, ops.CreateUniqueConstraintOp) or (
        isinstance(op, ops.CreateIndexOp) and op.unique and op.table_name not in new_tables
    ):
        found.append(Concern(DATA_DEPENDENT, f"{text}: fails if existing rows repeat a value"))
    return found


def _likely_renames(leaf_ops: list[Any]) -> list[Concern]:
    """A column dropped and one of the same type added to its table: autogenerate's rename."""
    dropped = {
        (op.table_name, op.column_name): type_name(op.to_column().type)
        for op in leaf_ops
        if isinstance(op, ops.DropColumnOp)
    }
    added = {
        (op.table_name, op.column.name): type_name(op.column.type)
        for op in leaf_ops
        if isinstance(op, ops.AddColumnOp)
    }
    return [
        Concern(
            RENAME,
            f"{table}.{column} -> {table}.{add_column} ({type_}): a drop and an add lose "
            "the column's data; edit the file to use op.alter_column(..., "
            "new_column_name=...) if this is a rename",
        )
        for (table, column), type_ in dropped.items()
        for (add_table, add_column), add_type in added.items()
        if add_table == table and add_type == type_
    ]


def created_enums(leaf_ops: list[Any], existing: dict[str, list[str]]) -> list[str]:
    """Names of native enum types this revision creates on PostgreSQL."""
    names: dict[str, None] = {}
    for op in leaf_ops:
        columns = []
        if isinstance(op, ops.CreateTableOp):
            columns = [c for c in op.columns if isinstance(c, sa.Column)]
        elif isinstance(op, ops.AddColumnOp):
            columns = [op.column]
        for column in columns:
            for enum in _native_enums(column.type):
                if enum.name not in existing:
                    names[enum.name] = None
    return list(names)


def enums_of_added_columns(leaf_ops: list[Any], existing: dict[str, list[str]]) -> list[sa.Enum]:
    """Native enum types first used by a column added to an existing table: ``add_column``
    does not create them (``create_table`` does)."""
    by_table = {
        enum.name
        for op in leaf_ops
        if isinstance(op, ops.CreateTableOp)
        for column in op.columns
        if isinstance(column, sa.Column)
        for enum in _native_enums(column.type)
    }
    found: dict[str, sa.Enum] = {}
    for op in leaf_ops:
        if isinstance(op, ops.AddColumnOp):
            for enum in _native_enums(op.column.type):
                if enum.name not in existing and enum.name not in by_table:
                    found.setdefault(enum.name, enum)
    return list(found.values())


def _enum_hazards(leaf_ops: list[Any], existing: dict[str, list[str]]) -> list[Concern]:
    concerns = [
        Concern(
            HAZARD,
            f"PostgreSQL enum type {name} is created; a value added to it later is written as "
            "ALTER TYPE ... ADD VALUE, and values cannot be removed. The downgrade drops the type.",
        )
        for name in created_enums(leaf_ops, existing)
    ]
    for op in leaf_ops:
        if isinstance(op, ops.AlterColumnOp) and _native_enums(op.modify_type):
            concerns.append(
                Concern(HAZARD, f"{describe(op)}: a changed enum type needs a data migration")
            )
    return concerns


def squawk(sql: str, label: str) -> list[Concern]:
    """squawk's findings on PostgreSQL SQL (``label`` names it in messages)."""

    try:
        squawk_binary = resolve_tool("squawk")
    except UsageError:
        return [Concern(SQUAWK, "squawk is not installed (pip install squawk-cli); SQL not linted")]
    result = subprocess.run(
        [
            squawk_binary,
            "--reporter",
            "gcc",
            "--assume-in-transaction",
            "--exclude",
            SQUAWK_EXCLUDED_RULES,
            "--stdin-filepath",
            label,
        ],
        input=sql,
        capture_output=True,
        text=True,
        timeout=60,
    )
    findings: dict[str, None] = {}
    for line in result.stdout.splitlines():
        # gcc style: file:line:col: warning: rule message
        parts = line.split(": ", 2)
        if len(parts) == 3 and parts[1] in {"warning", "error"}:
            findings[parts[2].strip()] = None
    return [Concern(SQUAWK, finding) for finding in findings]
