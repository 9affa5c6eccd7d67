"""Readable one-line descriptions of Alembic operations, e.g. ``add column flow_run.x VARCHAR``.

Used for the review report and the drift report, so both speak the same language and never show
object reprs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from alembic.operations import ops

#: A line of :func:`describe` for an ``alter_column``: its column and its changes.
_ALTER_LINE = re.compile(r"alter column (?P<column>[^(]+) \((?P<changes>.*)\)")


def flatten(container: Any) -> Iterator[Any]:
    """Every leaf operation in an ``UpgradeOps``/``DowngradeOps`` tree, in order."""
    for op in getattr(container, "ops", ()):
        if isinstance(op, ops.OpContainer):
            yield from flatten(op)
        else:
            yield op


def type_name(type_: Any, dialect: Any = None) -> str:
    try:
        return type_.compile(dialect=dialect) if dialect is not None else str(type_.compile())
    except Exception:
        return type(type_).__name__.upper()


def _constraint_name(constraint: Any) -> str:
    name = getattr(constraint, "constraint_name", None) or getattr(constraint, "name", None)
    return str(name) if name else "(unnamed)"


def _default_text(default: Any) -> str:
    """A server default as SQL text (``None`` when it is removed)."""
    if default is None:
        return "None"
    arg = getattr(default, "arg", default)
    if isinstance(arg, str):  # a literal value, as the models declare it
        return "'" + arg.replace("'", "''") + "'"
    return str(getattr(arg, "text", arg))


def _column_changes(op: Any, dialect: Any) -> list[str]:
    """What an ``alter_column`` changes: type, nullability, server default, name."""
    changes = []
    if op.modify_type is not None:
        old = type_name(op.existing_type, dialect) if op.existing_type is not None else "?"
        changes.append(f"type {old} -> {type_name(op.modify_type, dialect)}")
    if op.modify_nullable is not None:
        changes.append("NOT NULL" if not op.modify_nullable else "nullable")
    if op.modify_server_default is not False:
        changes.append(f"server default {_default_text(op.modify_server_default)}")
    if op.modify_name is not None:
        changes.append(f"rename to {op.modify_name}")
    return changes


def describe(op: Any, dialect: Any = None) -> str:
    """One line for one operation."""
    if hasattr(op, "describe"):  # an operation of contribkit's own (see schemadiff)
        return str(op.describe())
    if isinstance(op, ops.CreateTableOp):
        columns = [c for c in op.columns if hasattr(c, "type")]
        shown = ", ".join(f"{c.name} {type_name(c.type, dialect)}" for c in columns)
        return f"create table {op.table_name} ({shown})"
    if isinstance(op, ops.DropTableOp):
        return f"drop table {op.table_name}"
    if isinstance(op, ops.AddColumnOp):
        col = op.column
        null = "" if col.nullable else " NOT NULL"
        return f"add column {op.table_name}.{col.name} {type_name(col.type, dialect)}{null}"
    if isinstance(op, ops.DropColumnOp):
        return f"drop column {op.table_name}.{op.column_name}"
    if isinstance(op, ops.AlterColumnOp):
        changes = ", ".join(_column_changes(op, dialect)) or "options"
        return f"alter column {op.table_name}.{op.column_name} ({changes})"
    if isinstance(op, ops.CreateIndexOp):
        unique = "unique " if op.unique else ""
        return f"create {unique}index {op.index_name} on {op.table_name} ({', '.join(map(str, op.columns))})"
    if isinstance(op, ops.DropIndexOp):
        return f"drop index {op.index_name} on {op.table_name}"
    if isinstance(op, ops.CreateUniqueConstraintOp):
        return f"create unique constraint {_constraint_name(op)} on {op.table_name} ({', '.join(op.columns)})"
    if isinstance(op, ops.CreateForeignKeyOp):
        options = "".join(
            f" {word} {op.kw[key]}"
            for key, word in (("ondelete", "ON DELETE"), ("onupdate", "ON UPDATE"))
            if op.kw.get(key)
        )
        return (
            f"create foreign key {_constraint_name(op)} {op.source_table}({', '.join(op.local_cols)})"
            f" -> {op.referent_table}({', '.join(op.remote_cols)}){options}"
        )
    if isinstance(op, ops.CreateCheckConstraintOp):
        return f"create check constraint {_constraint_name(op)} on {op.table_name} ({op.condition})"
    if isinstance(op, ops.DropConstraintOp):
        kind = f"{op.constraint_type} " if op.constraint_type else ""
        return f"drop {kind}constraint {_constraint_name(op)} on {op.table_name}"
    if isinstance(op, ops.ExecuteSQLOp):
        return f"execute {op.sqltext}"
    if isinstance(op, ops.CreateTableCommentOp):
        return f"set comment on table {op.table_name}"
    if isinstance(op, ops.DropTableCommentOp):
        return f"drop comment on table {op.table_name}"
    return type(op).__name__.removesuffix("Op").lower()


def accepted(op: Any, known: frozenset[str], dialect: Any = None) -> bool:
    """Whether ``op`` is drift a baseline accepts (``known``: its lines); see
    :func:`accepted_line`."""
    return accepted_line(describe(op, dialect), known)


def accepted_line(line: str, known: frozenset[str]) -> bool:
    """Whether the drift ``line`` is one a baseline accepts: one of its lines, or altering a
    column in part of what a line of it accepts for that column. A comparison may see less of
    a difference than the check did: autogenerate under the project's env.py not a type it
    deems equal, a database after one revision only the server default left."""
    if line in known:
        return True
    alter = _ALTER_LINE.fullmatch(line)
    if alter is None:
        return False
    pieces = set(alter["changes"].split(", "))
    return any(
        entry is not None
        and entry["column"] == alter["column"]
        and pieces <= set(entry["changes"].split(", "))
        for entry in map(_ALTER_LINE.fullmatch, known)
    )
