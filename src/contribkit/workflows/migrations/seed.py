"""A few rows in every table, so verification proves that a migration keeps data.

Rows are made from the *database's* schema (reflected, since the models may already be ahead of
it); where the models know a column better (an enum's allowed values, say), their type is used.
A table whose rows cannot be made is reported, not silently skipped.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from contribkit.core.errors import one_line
from contribkit.databases.dialects import dialect_named
from contribkit.workflows.migrations.storedtypes import stored_type
from contribkit.workflows.migrations.validated import accepted_value

ROWS_PER_TABLE = 2

#: A project's row factory: the ``n``-th row's values (1-based) for some of a table's columns.
RowFactory = Callable[[int], Mapping[str, Any]]


def _value(column: sa.Column, model_column: sa.Column | None, n: int, dialect: Any) -> Any:
    declared = model_column.type if model_column is not None else column.type
    stored = _stored_value(column, stored_type(declared, dialect), n)
    if not isinstance(declared, sa.TypeDecorator):
        return stored
    # A project's type converts what it is given before the database sees it (a UUID kept as
    # CHAR, JSON checked by a model): offer it values of the kinds such types take, its own
    # python_type first, and keep the first its conversion accepts.
    # The conversion SQLAlchemy runs is that of the type the decorator loads for this dialect.
    processor = declared.dialect_impl(dialect).bind_processor(dialect)
    if processor is None:
        return stored
    for candidate in _candidates(declared, stored, n):
        try:
            processor(candidate)
        except Exception:  # the project's own conversion refused it: try the next kind
            continue
        return candidate
    # A model behind the type (JSON through pydantic) says what it misses: fill that in.
    grown = accepted_value(processor, {}, n)
    if grown is not None:
        return grown
    # NULL where the column allows it: a row without this value still proves the migration.
    return None if column.nullable else stored


def _candidates(declared: Any, stored: Any, n: int) -> list[Any]:
    try:
        python_type = declared.python_type
    except NotImplementedError:
        python_type = None
    made = {
        uuid.UUID: uuid.uuid4(),
        dict: {"seed": n},
        list: [n],
        dt.datetime: dt.datetime(2024, 1, 1, 12, 0, n, tzinfo=dt.timezone.utc),
        int: n,
    }
    first = [made[python_type]] if python_type in made else []
    # Last, what a validating type takes empty: a list of models, a model of optional fields.
    return [*first, stored, *made.values(), [], {}]


def _stored_value(column: sa.Column, type_: Any, n: int) -> Any:
    """A value of ``type_``, the type the database stores."""
    enums = getattr(type_, "enums", None)
    if enums:
        return enums[0]
    try:
        python_type = type_.python_type
    except NotImplementedError:
        python_type = str
    if python_type is bool:
        return n % 2 == 0
    if python_type is int:
        return n
    if python_type in (float,) or isinstance(type_, sa.Numeric):
        return n + 0.5
    if python_type is dt.datetime:
        return dt.datetime(2024, 1, 1, 12, 0, n, tzinfo=dt.timezone.utc)
    if python_type is dt.date:
        return dt.date(2024, 1, 1 + n)
    if python_type is dt.time:
        return dt.time(12, 0, n)
    if python_type is dt.timedelta:
        return dt.timedelta(minutes=n)
    if python_type is uuid.UUID:
        return uuid.uuid4()
    if python_type in (dict, list) or isinstance(type_, sa.JSON):
        return {"seed": n}
    if python_type is bytes:
        return f"seed-{n}".encode()
    # The database's length limits, not the models' (they may be ahead of it).
    lengths = [getattr(t, "length", None) for t in (column.type, type_)]
    length = min((x for x in lengths if x), default=32)
    return f"s{n}-{uuid.uuid4().hex}"[:length]


def _needs_value(column: sa.Column, defaults: bool) -> bool:
    """False where the database fills the column itself: an integer key, or (``defaults``) a
    server default."""
    if defaults and column.server_default is not None:
        return False
    # Only a table's one integer key is numbered by the database (SQLite's rowid, a serial):
    # each column of a composite key needs a value.
    keys = column.table.primary_key.columns
    return not (column.primary_key and len(keys) == 1 and isinstance(column.type, sa.Integer))


_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
_NEGATED = re.compile(r"\bNOT\b|<>|!=", re.IGNORECASE)


def _allowed_by_checks(table: sa.Table, column: sa.Column) -> Any:
    """A value the table's CHECK constraints on this column alone allow, where one reads
    plainly: the first value of ``IN (…)`` / ``= ANY (ARRAY[…])`` / ``= 'x'``, or the bound of
    ``>= n`` / ``> n``; ``None`` where none does (the made-up value is then tried)."""
    for constraint in table.constraints:
        if not isinstance(constraint, sa.CheckConstraint):
            continue
        sql = str(constraint.sqltext)
        mentioned = [c.name for c in table.columns if re.search(rf"\b{re.escape(c.name)}\b", sql)]
        if mentioned != [column.name] or _NEGATED.search(sql):
            continue
        literals = _LITERAL.findall(sql)
        if literals:
            return literals[0].replace("''", "'")
        numbers = _NUMBER.findall(sql)
        if len(numbers) == 1:
            number = float(numbers[0]) if "." in numbers[0] else int(numbers[0])
            if re.search(r"[^<>!=]>[^=]", sql):
                return number + 1
            if re.search(r"[^<>!=]<[^=]", sql):
                return number - 1
            return number
    return None


def seed(
    connection: sa.Connection,
    models: sa.MetaData,
    consulted: set[str] | None = None,
    factories: Mapping[str, RowFactory] | None = None,
) -> dict[str, str]:
    """Insert rows into every empty table; returns tables that could not be seeded → reason.

    ``consulted`` gains the ``table.column`` names whose values the models decided;
    ``factories`` (the project's ``seed_rows``) give some columns' values for some tables."""
    empty = [table for table, rows in row_counts(connection).items() if not rows]
    if not empty:  # the usual case in a check, which seeds before every step
        return {}
    reflected = sa.MetaData()
    # The empty tables, and (resolve_fks) the tables they refer to, whose rows become parents.
    reflected.reflect(connection, only=empty)
    connection.commit()
    failures: dict[str, str] = {}
    parents: dict[str, list[dict[str, Any]]] = {}
    for table in reflected.sorted_tables:
        if table.name == "alembic_version":
            continue
        with connection.begin():
            existing = connection.execute(_raw_select(table).limit(ROWS_PER_TABLE)).mappings().all()
        if existing:  # seeded before (a check seeds after every step): its rows serve as parents
            parents[table.name] = [dict(row) for row in existing]
            continue
        missing = [
            fk.column.table.name
            for column in table.columns
            for fk in column.foreign_keys
            if not column.nullable and not parents.get(fk.column.table.name)
        ]
        if missing:
            failures[table.name] = f"its parent table {missing[0]} has no rows"
            continue
        factory = (factories or {}).get(table.name)
        try:
            given = [factory(n) if factory else {} for n in range(1, ROWS_PER_TABLE + 1)]
        except Exception as exc:  # the project's factory is its code: its failure is a reason
            failures[table.name] = (
                f"seed_rows for {table.name} failed: {type(exc).__name__}: {one_line(exc)}"
            )
            continue
        made = _Rows(table, models.tables.get(table.name), parents, connection.dialect, consulted)
        try:
            parents[table.name] = _insert(connection, table, made.rows(given, defaults=True))
        except sa.exc.DBAPIError:
            # The database's own default may be what it refused (a function another dialect
            # has, written into this one's history): try again with every value made here.
            try:
                parents[table.name] = _insert(connection, table, made.rows(given, defaults=False))
            except sa.exc.StatementError as exc:
                failures[table.name] = one_line(exc)
        except sa.exc.StatementError as exc:  # a custom type's refusal
            failures[table.name] = one_line(exc)
    if connection.in_transaction():
        connection.commit()
    return failures


def _insert(
    connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Insert ``rows`` in one transaction; returns the table's rows as the driver reads them."""
    with connection.begin():
        for row in rows:
            connection.execute(table.insert().values(**row) if row else table.insert())
        return [dict(r._mapping) for r in connection.execute(_raw_select(table))]


@dataclass
class _Rows:
    """Makes rows for one reflected ``table``."""

    table: sa.Table
    model_table: sa.Table | None
    parents: dict[str, list[dict[str, Any]]]
    dialect: Any
    consulted: set[str] | None

    def rows(self, given: list[Mapping[str, Any]], *, defaults: bool) -> list[dict[str, Any]]:
        """One row per ``given`` (the project's values for it); ``defaults``: leave columns
        with a server default to the database."""
        return [self.row(n, values, defaults) for n, values in enumerate(given, start=1)]

    def row(self, n: int, given: Mapping[str, Any], defaults: bool) -> dict[str, Any]:
        """The ``n``-th row: foreign keys point at the parents' rows in turn, ``given`` values
        are used as they are, other required columns get made-up values."""
        row: dict[str, Any] = {}
        # A table referring to one parent twice (a reference between two documents) gets two
        # different parent rows: the same one twice breaks a "no self-reference" CHECK.
        offsets: dict[sa.ForeignKeyConstraint, int] = {}
        referred = Counter[str]()
        for column in self.table.columns:
            model_column = (
                self.model_table.c.get(column.name) if self.model_table is not None else None
            )
            # Bind with the type the value was made for (the model's Uuid, say), not the
            # reflected storage type (CHAR(32) on SQLite), so the driver gets what it expects.
            type_ = model_column.type if model_column is not None else column.type
            if column.name in given:
                row[column.name] = sa.literal(given[column.name], type_=type_)
                continue
            fk = next(iter(column.foreign_keys), None)
            if fk is not None:
                parent = fk.column.table.name
                if fk.constraint not in offsets:
                    offsets[fk.constraint] = referred[parent]
                    referred[parent] += 1
                parent_rows = self.parents.get(parent)
                if parent_rows:
                    # As read (raw): passed back to the driver unconverted.
                    picked = parent_rows[(n - 1 + offsets[fk.constraint]) % len(parent_rows)]
                    row[column.name] = sa.literal(picked[fk.column.name], type_=sa.types.NULLTYPE)
                continue
            if not _needs_value(column, defaults):
                continue
            if self.consulted is not None:
                self.consulted.add(f"{self.table.name}.{column.name}")
            value = _allowed_by_checks(self.table, column)
            if value is None:
                value = _value(column, model_column, n, self.dialect)
            # NULL as SQL: a type that refuses every value may refuse None too.
            row[column.name] = sa.null() if value is None else sa.literal(value, type_=type_)
        return row


def _raw_select(table: sa.Table) -> sa.Select:
    """The table's rows as the driver returns them: parent keys are only copied into child
    rows, and a reflected type's conversion could fail on a value the database holds (SQLite's
    DATETIME parser on a server default of ``'0'``)."""
    return sa.select(*(sa.column(c.name) for c in table.columns)).select_from(sa.table(table.name))


#: Tables counted per statement (SQLite allows 2000 result columns).
_COUNTED_AT_ONCE = 500


def row_counts(connection: sa.Connection) -> dict[str, int]:
    """Rows per table (alembic's own table excluded), in one statement: a check counts before
    and after every step, and a round trip per table made that most of its time."""
    names = [n for n in sa.inspect(connection).get_table_names() if n != "alembic_version"]
    counts: dict[str, int] = {}
    for start in range(0, len(names), _COUNTED_AT_ONCE):
        chunk = names[start : start + _COUNTED_AT_ONCE]
        counted = sa.select(
            *(
                sa.select(sa.func.count()).select_from(sa.table(name)).scalar_subquery()
                for name in chunk
            )
        )
        counts.update(zip(chunk, connection.execute(counted).one(), strict=True))
    if connection.in_transaction():
        connection.commit()
    return counts


def foreign_key_violations(connection: sa.Connection) -> list[str]:
    """SQLite only (PostgreSQL enforces FKs always): rows whose parent is missing."""
    if not dialect_named(connection.dialect.name).foreign_keys_can_be_off:
        return []
    rows = connection.execute(sa.text("PRAGMA foreign_key_check")).fetchall()
    if connection.in_transaction():
        connection.commit()
    return [f"{row[0]} row {row[1]} -> {row[2]}" for row in rows]
