"""What MySQL and MariaDB do to a revision that SQLite and PostgreSQL do not.

Each rule is one of the ways migrations break on these servers:

* DDL is not transactional: every statement commits by itself, so a revision of several
  operations that fails half-way leaves the earlier ones applied and the revision unrecorded
  (verify then names what stayed applied);
* an index key may be at most 3072 bytes in InnoDB, and ``utf8mb4`` counts 4 bytes per
  character (``VARCHAR(800)`` alone is too long): MySQL refuses it, MariaDB quietly indexes a
  prefix instead; TEXT and BLOB need a prefix length;
* a NOT NULL column added without a default does not fail on a table with rows: each row
  silently gets the type's implicit default (0, '', a zero date);
* a unique constraint compares strings under the column's collation, and the usual ones are
  case- and accent-insensitive: rows that differ only in case make it fail;
* changing a column's type (other than a longer VARCHAR) or the primary key rebuilds the table
  by copying it, blocking writes for as long as the copy takes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.operations import ops

from contribkit.databases.dialects.mysql import MySQL
from contribkit.workflows.migrations.concerns import DATA_DEPENDENT, HAZARD, Concern
from contribkit.workflows.migrations.describe import describe

MAX_KEY_BYTES = MySQL.max_key_bytes
BYTES_PER_CHAR = MySQL.bytes_per_char


def mysql_hazards(leaf_ops: list[Any], models: sa.MetaData | None, collation: str) -> list[Concern]:
    """Concerns for one revision's upgrade operations on MySQL; ``collation``: the database's."""
    found: list[Concern] = []
    changes = [op for op in leaf_ops if not isinstance(op, ops.ExecuteSQLOp)]
    if len(changes) > 1:
        found.append(
            Concern(
                HAZARD,
                f"{len(changes)} operations, and MySQL commits each DDL statement by itself: a "
                "failure half-way leaves the earlier ones applied and the revision unrecorded; "
                "keep a revision to one operation where you can",
            )
        )
    new_tables = {op.table_name for op in leaf_ops if isinstance(op, ops.CreateTableOp)}
    for op in leaf_ops:
        found += _key_length(op, models)
        found += _unique_under_collation(op, models, collation, new_tables)
        found += _implicit_default(op)
        found += _table_copy(op)
    return found


def _columns_of(table: str, models: sa.MetaData | None) -> dict[str, sa.Column[Any]]:
    found = models.tables.get(table) if models is not None else None
    return {c.name: c for c in found.columns} if found is not None else {}


def _keys(op: Any, models: sa.MetaData | None) -> list[tuple[str, list[sa.Column[Any]]]]:
    """The indexes and unique constraints ``op`` creates: (what, its columns)."""
    if isinstance(op, ops.CreateIndexOp):
        columns = _columns_of(op.table_name, models)
        names = [c if isinstance(c, str) else getattr(c, "name", "") for c in op.columns]
        return [(describe(op), [columns[n] for n in names if n in columns])]
    if isinstance(op, ops.CreateUniqueConstraintOp):
        columns = _columns_of(op.table_name, models)
        return [(describe(op), [columns[n] for n in op.columns if n in columns])]
    if isinstance(op, ops.CreateTableOp):
        table = op.to_table()  # constraints bound to their columns
        return [
            (
                f"{'primary key' if isinstance(c, sa.PrimaryKeyConstraint) else 'unique'} on "
                f"{op.table_name}({', '.join(col.name for col in c.columns)})",
                list(c.columns),
            )
            for c in table.constraints
            if isinstance(c, sa.UniqueConstraint | sa.PrimaryKeyConstraint)
        ]
    return []


def _key_length(op: Any, models: sa.MetaData | None) -> list[Concern]:
    found = []
    for what, columns in _keys(op, models):
        text_columns = [c.name for c in columns if _is_unbounded(c.type)]
        if text_columns:
            found.append(
                Concern(
                    HAZARD,
                    f"{what}: MySQL cannot index TEXT/BLOB column {', '.join(text_columns)} "
                    "without a prefix length (mysql_length=...)",
                )
            )
            continue
        size = sum(_key_bytes(c.type) for c in columns)
        if size > MAX_KEY_BYTES:
            found.append(
                Concern(
                    HAZARD,
                    f"{what}: the key is {size} bytes in utf8mb4 ({BYTES_PER_CHAR} per character), "
                    f"over InnoDB's {MAX_KEY_BYTES}: MySQL refuses it and MariaDB quietly indexes "
                    "a prefix (or a hash); shorten the columns or index a prefix on purpose",
                )
            )
    return found


def _is_unbounded(type_: Any) -> bool:
    """TEXT, BLOB and JSON (MySQL's TEXT and BLOB are SQLAlchemy's unbounded strings)."""
    if isinstance(type_, sa.String | sa.LargeBinary):  # sa.Text is a String
        return isinstance(type_, sa.Text) or getattr(type_, "length", None) is None
    return isinstance(type_, sa.JSON)


def _key_bytes(type_: Any) -> int:
    if isinstance(type_, sa.String) and type_.length:
        return type_.length * BYTES_PER_CHAR
    if isinstance(type_, sa.LargeBinary) and type_.length:
        return type_.length
    return 8  # numbers, dates, UUIDs: small enough to matter only in sums of strings


def _unique_under_collation(
    op: Any, models: sa.MetaData | None, collation: str, new_tables: set[str]
) -> list[Concern]:
    if isinstance(op, ops.CreateTableOp) or (
        isinstance(op, ops.CreateIndexOp) and (not op.unique or op.table_name in new_tables)
    ):
        return []  # a new table has no rows to collide
    found = []
    for what, columns in _keys(op, models):
        insensitive = [
            c.name
            for c in columns
            if isinstance(c.type, sa.String)
            and (getattr(c.type, "collation", None) or collation).endswith("_ci")
        ]
        if insensitive:
            found.append(
                Concern(
                    DATA_DEPENDENT,
                    f"{what}: compares {', '.join(insensitive)} under the case-insensitive "
                    f"collation {collation}, so existing rows that differ only in case or "
                    "accents ('ETL', 'etl') make it fail",
                )
            )
    return found


def _implicit_default(op: Any) -> list[Concern]:
    if (
        isinstance(op, ops.AddColumnOp)
        and not op.column.nullable
        and op.column.server_default is None
    ):
        return [
            Concern(
                DATA_DEPENDENT,
                f"{describe(op)}: on MySQL existing rows silently get the type's implicit "
                "default (0, '', a zero date) instead of failing; give it a server_default",
            )
        ]
    return []


def _table_copy(op: Any) -> list[Concern]:
    rebuilds = isinstance(op, ops.CreatePrimaryKeyOp) or (
        isinstance(op, ops.AlterColumnOp)
        and op.modify_type is not None
        and not _longer_varchar(op.existing_type, op.modify_type)
    )
    if not rebuilds:
        return []
    return [
        Concern(
            HAZARD,
            f"{describe(op)}: MySQL rebuilds {op.table_name} by copying it (ALGORITHM=COPY), "
            "and writes to it wait until the copy ends: on a large table, plan for that",
        )
    ]


def _longer_varchar(old: Any, new: Any) -> bool:
    """A VARCHAR made longer: changed in place (MariaDB even instantly), the one type change
    that does not copy the table."""
    return (
        isinstance(old, sa.String)
        and isinstance(new, sa.String)
        and not isinstance(old, sa.Text)
        and not isinstance(new, sa.Text)
        and bool(old.length and new.length and new.length >= old.length)
    )
