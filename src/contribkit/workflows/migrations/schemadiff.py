"""contribkit's own schema comparison, for what Alembic's autogenerate does not see.

The models are built on a second throw-away database of the same dialect (``create_all``), and
the two catalogues are compared (see :mod:`contribkit.databases.dialects`): CHECK constraints,
server defaults, native enum values and indexes on expressions or with a ``WHERE``. Each
difference becomes the Alembic operations that remove it, or a refusal that says what to write
by hand. Every verdict uses it: ``migrate`` writes the operations, its verification and
``check`` report them as drift, so "nothing to do", "verified" and "no drift" mean the same.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import renderers
from alembic.operations import ops
from sqlalchemy.sql.elements import conv

from contribkit.core.errors import CheckFailed, one_line
from contribkit.databases.dialects import Catalogue, Dialect, TableCatalogue, dialect_named
from contribkit.databases.dialects.base import on_a_column
from contribkit.databases.engines import create_engine
from contribkit.databases.throwaway import ephemeral_database
from contribkit.workflows.migrations.describe import accepted, describe, flatten

#: Alembic's and SQLAlchemy's notes on what they skip that this comparison sees instead.
HANDLED_WARNINGS = (
    "autogenerate skipping metadata-specified expression-based index",
    "Skipped unsupported reflection of expression-based index",
)
#: (dialect, metadata) → the models' catalogue; the metadata is kept so its id stays its own.
_models: dict[tuple[Any, ...], tuple[Any, Catalogue, dict[str, str]]] = {}


def literal(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def quoted_name(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


class AddEnumValuesOp(ops.MigrateOperation):
    """``ALTER TYPE … ADD VALUE`` for each new value, in the models' order, outside the
    revision's transaction: PostgreSQL cannot use a value added in a transaction before it
    commits. Values cannot be removed, so the downgrade has nothing to undo."""

    def __init__(self, type_name: str, values: list[tuple[str, str, str]]) -> None:
        #: (value, "BEFORE" or "AFTER", an existing value)
        self.type_name = type_name
        self.values = values

    def statements(self) -> list[str]:
        name = quoted_name(self.type_name)
        return [
            f"ALTER TYPE {name} ADD VALUE IF NOT EXISTS {literal(value)} {where} {literal(anchor)}"
            for value, where, anchor in self.values
        ]

    def describe(self) -> str:
        shown = ", ".join(value for value, _, _ in self.values)
        return f"add value(s) {shown} to enum type {self.type_name}"


@renderers.dispatch_for(AddEnumValuesOp)
def _render_add_enum_values(autogen_context: Any, op: AddEnumValuesOp) -> list[str]:
    lines = ["with op.get_context().autocommit_block():"]
    lines += [f"op.execute({statement!r})" for statement in op.statements()]
    return [*lines, ""]


@dataclass(frozen=True)
class Change:
    """One difference's operations: ``upgrade`` removes it, ``downgrade`` puts it back."""

    upgrade: Any
    downgrade: Any = None


@dataclass
class Extra:
    """What the comparison adds to (or refuses in) one revision."""

    changes: list[Change] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    #: What a table's rebuild would lose and cannot be put back (only when writing).
    rebuild_refusals: list[str] = field(default_factory=list)
    #: Operations that put back, after a table's rebuild, what the rebuild does not copy:
    #: (upgrade's, downgrade's), each run after autogenerate's own.
    after_rebuilds: tuple[list[Any], list[Any]] = field(default_factory=lambda: ([], []))

    def add(self, upgrade: Any, downgrade: Any = None) -> None:
        self.changes.append(Change(upgrade, downgrade))

    @property
    def upgrade(self) -> list[Any]:
        return [change.upgrade for change in self.changes]

    @property
    def downgrade(self) -> list[Any]:
        """In the order the downgrade runs them."""
        return [c.downgrade for c in reversed(self.changes) if c.downgrade is not None]

    def lines(self, dialect: Any = None) -> list[str]:
        """The differences as drift lines: the operations that would remove them, and what
        cannot be written."""
        return [_line(change, dialect) for change in self.changes] + self.refusals

    def without(self, known: frozenset[str], dialect: Any = None) -> Extra:
        """Without the differences a baseline accepts (by their drift lines)."""
        return Extra(
            [c for c in self.changes if not _accepted(c, known, dialect)],
            [r for r in self.refusals if r not in known],
            [r for r in self.rebuild_refusals if r not in known],
            self.after_rebuilds,
        )


def _accepted(change: Change, known: frozenset[str], dialect: Any) -> bool:
    if _line(change, dialect) in known:
        return True
    operations = list(flatten_all([change.upgrade]))
    return bool(operations) and all(accepted(op, known, dialect) for op in operations)


def _line(change: Change, dialect: Any) -> str:
    return "; ".join(describe(op, dialect) for op in flatten_all([change.upgrade]))


def flatten_all(operations: list[Any]) -> Iterator[Any]:
    for op in operations:
        if isinstance(op, ops.OpContainer):
            yield from flatten(op)
        else:
            yield op


def compared_tables(metadata: Any, exclude: frozenset[str]) -> list[str]:
    """The models' tables in the connection's default schema, less the excluded ones."""
    elsewhere = sorted(t.fullname for t in metadata.tables.values() if t.schema is not None)
    if elsewhere:  # said in the run's warnings summary, never silently passed
        warnings.warn(
            f"tables in other schemas are not compared beyond autogenerate: {', '.join(elsewhere)}",
            stacklevel=2,
        )
    return [
        table.name
        for table in metadata.tables.values()
        if table.schema is None and table.name not in exclude
    ]


def models_catalogue(
    dialect: str, metadata: Any, tables: list[str], extensions: tuple[str, ...] = ()
) -> tuple[Catalogue, dict[str, str]]:
    """The catalogue of the models as a throw-away database of ``dialect`` holds them, and the
    tables that could not be created there → why (once per run: the models do not change while
    it runs). Real models are not always ``create_all``-able as a whole (an index without
    columns, a foreign key to a column without a unique key), so each table is created on its
    own, without foreign keys, which this comparison leaves to autogenerate. ``extensions``:
    those the migrated database has, installed first."""

    key = (dialect, id(metadata), extensions)
    cached = _models.get(key)
    if cached is not None and cached[0] is metadata:
        return cached[1], cached[2]
    buildable = buildable_copy(metadata)
    failures: dict[str, str] = {}
    with ephemeral_database(dialect) as url:
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                unsupported = dialect_named(dialect).cannot_hold(
                    connection, (metadata.tables[t] for t in tables)
                )
            if unsupported:
                raise CheckFailed(unsupported[0])
            if extensions:
                with engine.begin() as connection:
                    dialect_named(dialect).install_extensions(connection, extensions)
            indexes = [ix for table in buildable.sorted_tables for ix in table.indexes]
            for table in buildable.sorted_tables:
                table.indexes.clear()  # created one by one below: one bad index spoils no table
                try:
                    with engine.begin() as connection:
                        table.create(connection, checkfirst=True)
                except sa.exc.SQLAlchemyError as exc:
                    failures[table.name] = f"the models' table: {one_line(exc)}"
            for index in indexes:
                if index.table.name in failures or not _compared_index(index):
                    continue  # an index on columns is autogenerate's to compare
                try:
                    with engine.begin() as connection:
                        index.create(connection)
                except sa.exc.SQLAlchemyError as exc:
                    failures.setdefault(index.table.name, f"index {index.name}: {one_line(exc)}")
            with engine.connect() as connection:
                catalogue = dialect_named(dialect).catalogue(connection, tables)
        finally:
            engine.dispose()
    _models[key] = (metadata, catalogue, failures)
    return catalogue, failures


def _on_columns(index: sa.Index) -> bool:
    """Every key a column, ascending or descending (not an expression)."""
    return all(on_a_column(e, index.table) for e in index.expressions)


def _compared_index(index: sa.Index) -> bool:
    """An index on an expression or with a ``WHERE``: one this comparison reads."""
    partial = any(
        value is not None for key, value in index.dialect_kwargs.items() if key.endswith("_where")
    )
    return partial or any(not isinstance(e, sa.Column) for e in index.expressions)


def _condition_text(check: sa.CheckConstraint) -> str:
    """The condition with its values written in (an ``in_()`` list's parameter names differ
    between two copies of one constraint)."""
    try:
        return str(check.sqltext.compile(compile_kwargs={"literal_binds": True}))
    except Exception:  # a value with no literal form: the parameters' text
        return str(check.sqltext)


def buildable_copy(metadata: sa.MetaData) -> sa.MetaData:
    """The models' tables of the default schema, without foreign keys, without indexes that
    name no column, and without the second of two indexes or CHECKs that are one (same name,
    table and definition: ``index=True`` under a naming convention and an explicit ``Index`` of
    that name, or a model module imported twice into one table, as real models have); the
    project's own migrations created each once."""

    def shape(index: sa.Index) -> tuple[Any, ...]:
        return (index.name, index.table.name, tuple(str(e) for e in index.expressions))

    copy = sa.MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        if table.schema is None:
            table.to_metadata(copy)
    seen: set[tuple[Any, ...]] = set()
    for table in copy.tables.values():
        for constraint in list(table.foreign_key_constraints):
            table.constraints.discard(constraint)
        checks: set[tuple[str, str]] = set()
        for check in sorted(
            (c for c in table.constraints if isinstance(c, sa.CheckConstraint)),
            key=lambda c: str(c.name),
        ):
            key = (str(check.name), _condition_text(check))
            if check.name is not None and key in checks:
                table.constraints.discard(check)  # the same CHECK twice, as repeated indexes
            checks.add(key)
        for column in table.columns:
            column.foreign_keys.clear()
        for index in sorted(table.indexes, key=lambda ix: str(ix.name)):
            if not index.expressions or shape(index) in seen:
                table.indexes.discard(index)
            seen.add(shape(index))
    return copy


@dataclass
class _Catalogues:
    """One MetaData's tables, as the database and as the models hold them."""

    metadata: Any
    tables: list[str]
    have: Catalogue
    wanted: Catalogue
    #: Models' tables that could not be built → why.
    uncreated: dict[str, str]


class Comparison:
    """The connected database's catalogue and the models', each read once, and what differs
    between them: :meth:`differences` for a verdict or a revision, :meth:`after_rebuilds` for
    what a revision's table rebuilds lose."""

    def __init__(self, connection: Any, metadata: Any, exclude: frozenset[str] = frozenset()):
        self.dialect = dialect_named(connection.dialect.name)
        self.parts: list[_Catalogues] = []
        #: The models could not be read at all → why.
        self.failure: str | None = None
        if not self.dialect.compares:
            return
        # env.py's target_metadata may be several.
        for models in metadata if isinstance(metadata, list | tuple) else [metadata]:
            tables = compared_tables(models, exclude)
            try:
                wanted, uncreated = models_catalogue(
                    self.dialect.name, models, tables, self.dialect.extensions(connection)
                )
            except CheckFailed as exc:  # a problem to report (or baseline), never a pass
                self.failure = exc.message
                return
            have = self.dialect.catalogue(connection, tables)
            self.parts.append(_Catalogues(models, tables, have, wanted, uncreated))

    def _writers(self, known: _Autogenerated) -> Iterator[tuple[_TableWriter, TableCatalogue]]:
        for part in self.parts:
            for name in part.tables:
                in_both = name in part.have.tables and name in part.wanted.tables
                if in_both and name not in known.tables:
                    table = part.metadata.tables[name]
                    writer = _TableWriter(self.dialect, table, part.have.tables[name], known)
                    yield writer, part.wanted.tables[name]

    def differences(
        self, autogenerated: list[Any] | None = None, reverse: list[Any] | None = None
    ) -> Extra:
        """What autogenerate did not report; ``autogenerated``: the leaf operations it found,
        whose objects are left to it (an ``alter_column`` of theirs gains the column's default
        change, and its reverse in ``reverse``, the downgrade's, the old default)."""
        if self.failure is not None:
            return Extra(refusals=[self.failure])
        extra = Extra()
        for part in self.parts:
            for name, reason in sorted(part.uncreated.items()):
                if name in part.tables:  # a problem to report (or baseline), never a pass
                    extra.refusals.append(
                        f"{name}: the models cannot be created on {self.dialect.name} "
                        f"({reason}), so what autogenerate does not compare was not compared "
                        "there"
                    )
        for writer, wanted in self._writers(_Autogenerated(autogenerated or [], reverse or [])):
            writer.compare(wanted, extra)
        for part in self.parts:
            _compare_enums(self.dialect, part.have, part.wanted, extra)
        return extra

    def overrules(self, op: Any) -> bool:
        """Whether autogenerate's ``op`` changes an index this comparison reads whole and finds
        the same on both sides: autogenerate sees ``pages DESC`` as ``pages`` on SQLite and
        MariaDB, so it drops and creates such an index again on every run."""
        if not isinstance(op, ops.CreateIndexOp | ops.DropIndexOp):
            return False
        normalize = self.dialect.normalize_index
        for part in self.parts:
            have, wanted = (
                part.have.tables.get(op.table_name),
                part.wanted.tables.get(op.table_name),
            )
            if have is None or wanted is None:
                continue
            current = have.expression_indexes.get(op.index_name)
            target = wanted.expression_indexes.get(op.index_name)
            if current is not None and target is not None:
                return normalize(current) == normalize(target)
        return False

    def after_rebuilds(self, autogenerated: list[Any], rebuilt: tuple[set[str], set[str]]) -> Extra:
        """What the tables a revision rebuilds (``rebuilt``: by its upgrade, by its downgrade)
        lose and must get back, or cannot."""
        extra = Extra()
        for writer, wanted in self._writers(_Autogenerated(autogenerated, [])):
            name = writer.table.name
            writer.survive_rebuilds(wanted, name in rebuilt[0], name in rebuilt[1], extra)
        return extra


def rebuilt_tables(dialect_name: str, operations: list[Any]) -> set[str]:
    """The tables the top-level ``operations`` of a revision function rebuild."""
    dialect = dialect_named(dialect_name)
    return {
        op.table_name
        for op in operations
        if isinstance(op, ops.ModifyTableOps) and dialect.rebuilds(op)
    }


def _mentions(sql: str, columns: set[str]) -> bool:
    return any(re.search(rf"\b{re.escape(column)}\b", sql) for column in columns)


def merge_batches_by_table(container: Any) -> None:
    """One batch per table: a later batch's operations join the table's first one. SQLite
    rebuilds the table once per batch, and a batch applies its operations together, so a
    CHECK on a column dropped in the same batch goes with it. The comparison's operations on
    a table depend only on that table, so moving them next to autogenerate's is safe."""
    first: dict[tuple[str, str | None], Any] = {}
    merged: list[Any] = []
    for op in container.ops:
        if isinstance(op, ops.ModifyTableOps):
            key = (op.table_name, op.schema)
            if key in first:
                first[key].ops.extend(op.ops)
                continue
            first[key] = op
        merged.append(op)
    container.ops = merged


class _Autogenerated:
    """The objects autogenerate's operations already deal with."""

    def __init__(self, leaf_ops: list[Any], reverse: list[Any]) -> None:
        self.ops = leaf_ops
        self.reverse = reverse
        self.tables = {
            op.table_name for op in leaf_ops if isinstance(op, ops.CreateTableOp | ops.DropTableOp)
        }
        self.indexes = {
            op.index_name for op in leaf_ops if isinstance(op, ops.CreateIndexOp | ops.DropIndexOp)
        }
        #: The indexes autogenerate creates; one it only drops may be ours to create again.
        self.created_indexes = {
            op.index_name for op in leaf_ops if isinstance(op, ops.CreateIndexOp)
        }

    def columns(self, table: str) -> tuple[set[str], set[str]]:
        """The columns of ``table`` autogenerate adds, and those it drops."""
        added = {
            op.column.name
            for op in self.ops
            if isinstance(op, ops.AddColumnOp) and op.table_name == table
        }
        dropped = {
            op.column_name
            for op in self.ops
            if isinstance(op, ops.DropColumnOp) and op.table_name == table
        }
        return added, dropped

    def alter(self, table: str, column: str, *, downgrade: bool = False) -> Any:
        for op in self.reverse if downgrade else self.ops:
            if isinstance(op, ops.AlterColumnOp) and (op.table_name, op.column_name) == (
                table,
                column,
            ):
                return op
        return None


class _TableWriter:
    """One table's differences, as operations on ``dialect``."""

    def __init__(
        self, dialect: Dialect, table: sa.Table, have: TableCatalogue, known: _Autogenerated
    ) -> None:
        self.dialect = dialect
        self.table = table
        self.have = have
        self.known = known

    def compare(self, wanted: TableCatalogue, extra: Extra) -> None:
        for column, target in wanted.columns.items():
            current = self.have.columns.get(column)
            if current is None:
                continue
            if current.generated != target.generated:
                extra.refusals.append(self._generated_refusal(column, current, target))
            elif current.normalized != target.normalized:
                self._default(column, current.default, target.default, extra)
        if "checks" in self.dialect.compares:
            self._checks(wanted, extra)
        if "expression_indexes" in self.dialect.compares:
            self._indexes(wanted, extra)

    def _generated_refusal(self, column: str, current: Any, target: Any) -> str:
        """No dialect alters a generation expression in place, and autogenerate never sees it."""

        def shown(entry: Any) -> str:
            return f"GENERATED AS ({entry.generated})" if entry.generated else "not generated"

        return (
            f"column {self.table.name}.{column} is {shown(current)} in the database but "
            f"{shown(target)} in the models on {self.dialect.name}: write the change by hand "
            "(drop the column and add it again in a revision of your own)"
        )

    def _wrap(self, op: Any) -> Any:
        """SQLite changes constraints by rebuilding the table: in batch mode."""
        if self.dialect.alters_by_rebuild:
            return ops.ModifyTableOps(self.table.name, [op], schema=self.table.schema)
        return op

    def _default(self, name: str, old: str | None, new: str | None, extra: Extra) -> None:
        column = self.table.c[name]
        declared = column.server_default
        target = declared if isinstance(declared, sa.DefaultClause) else None
        if target is None and new is not None:
            target = sa.DefaultClause(sa.text(new))
        previous = sa.DefaultClause(sa.text(old)) if old is not None else None
        merged = self.known.alter(self.table.name, name)
        if merged is not None and merged.modify_server_default is False:
            # One ALTER for the column: its NOT NULL and its default together.
            merged.modify_server_default = target
            merged.existing_server_default = previous
            undo = self.known.alter(self.table.name, name, downgrade=True)
            if undo is not None:
                undo.modify_server_default = previous
                undo.existing_server_default = target
            return
        if merged is not None:
            return  # autogenerate compares this project's defaults itself
        common = {"existing_type": column.type, "existing_nullable": column.nullable}
        up, down = (
            ops.AlterColumnOp(
                self.table.name,
                name,
                modify_server_default=new_default,
                existing_server_default=old_default,
                schema=self.table.schema,
                **common,
            )
            for new_default, old_default in ((target, previous), (previous, target))
        )
        extra.add(self._wrap(up), self._wrap(down))

    def _model_check(self, name: str | None) -> Any:
        for constraint in self.table.constraints:
            if isinstance(constraint, sa.CheckConstraint) and name and constraint.name == name:
                return constraint
        return None

    def _checks(self, wanted: TableCatalogue, extra: Extra) -> None:
        # Names go in as conv(): written as op.f(...), so that Alembic does not apply the
        # env.py's naming convention to a name that already is the convention's.
        table = self.table.name
        added, dropped = self.known.columns(table)
        # Drops first: a CHECK whose condition changed keeps its name.
        for key, check in self.have.checks.items():
            if key in wanted.checks:
                continue
            if _mentions(check.sql, dropped) and not self.dialect.alters_by_rebuild:
                continue  # the server drops the constraints on a column with the column
            if check.name is None:
                extra.refusals.append(
                    f"CHECK ({check.sql}) on {table} is not in the models, and SQLite can drop "
                    "an unnamed CHECK only by a rebuild given the table's other constraints: "
                    "write it by hand (op.batch_alter_table(..., recreate='always'))"
                )
                continue
            extra.add(
                self._wrap(ops.DropConstraintOp(conv(check.name), table, type_="check")),
                self._wrap(
                    ops.CreateCheckConstraintOp(conv(check.name), table, sa.text(check.sql))
                ),
            )
        for key, check in wanted.checks.items():
            if key in self.have.checks:
                continue
            if check.name in added:
                continue  # the server's own CHECK of a new column (MariaDB's json_valid)
            if check.name is None or (
                not self.dialect.names_checks and self._model_check(check.name) is None
            ):
                extra.refusals.append(
                    f"CHECK ({check.sql}) on {table} has no name, and {self.dialect.name} "
                    "needs one to add it and drop it: name it in the models "
                    "(CheckConstraint(..., name=...) or a 'ck' naming convention)"
                )
                continue
            model = self._model_check(check.name)
            condition = model.sqltext if model is not None else sa.text(check.sql)
            extra.add(
                self._wrap(ops.CreateCheckConstraintOp(conv(check.name), table, condition)),
                self._wrap(ops.DropConstraintOp(conv(check.name), table, type_="check")),
            )

    def survive_rebuilds(
        self, wanted: TableCatalogue, upgrade: bool, downgrade: bool, extra: Extra
    ) -> None:
        """A rebuilt SQLite table loses its indexes on expressions (Alembic cannot reflect
        them) and its unnamed CHECK constraints: create the first again after the rebuild,
        and refuse to lose the second."""
        if not (upgrade or downgrade):
            return
        normalize = self.dialect.normalize_index
        kept = {
            name: sql
            for name, sql in self.have.expression_indexes.items()
            if name not in self.known.indexes
            and name in wanted.expression_indexes
            and normalize(sql) == normalize(wanted.expression_indexes[name])
        }
        after_upgrade, after_downgrade = extra.after_rebuilds
        for name, sql in kept.items():
            model = self._model_index(name)
            if model is None or all(isinstance(e, sa.Column) for e in model.expressions):
                continue  # a partial index on columns: Alembic's copy keeps it
            # Alembic's copy reflects an index on columns (a descending key read as ascending)
            # and creates it again: replace that one.
            copied = _on_columns(model)
            if upgrade:
                if copied:
                    after_upgrade.append(ops.DropIndexOp(name, self.table.name))
                after_upgrade.append(ops.CreateIndexOp.from_index(model))
            if downgrade:
                if copied:
                    after_downgrade.append(ops.DropIndexOp(name, self.table.name))
                after_downgrade.append(ops.ExecuteSQLOp(sql))
        unnamed = [c.sql for c in self.have.checks.values() if c.name is None]
        if unnamed:
            extra.rebuild_refusals.append(
                f"the rebuild of {self.table.name} on {self.dialect.name} would drop its "
                f"unnamed CHECK ({unnamed[0]}): name it in the models and in a revision first"
            )

    def _model_index(self, name: str) -> Any:
        return next((ix for ix in self.table.indexes if ix.name == name), None)

    def _indexes(self, wanted: TableCatalogue, extra: Extra) -> None:
        normalize = self.dialect.normalize_index
        have = self.have.expression_indexes
        for name, definition in wanted.expression_indexes.items():
            if name in self.known.created_indexes:
                continue
            current = have.get(name)
            if current is not None and normalize(current) == normalize(definition):
                continue
            model = self._model_index(name)
            if model is None:
                extra.refusals.append(
                    f"index {name} on {self.table.name} ({definition}) is not an Index of the "
                    "models' table: write it by hand"
                )
                continue
            # Autogenerate drops a plain index the models now keep on an expression: only the
            # new one is ours to write.
            if current is not None and name not in self.known.indexes:
                self._drop_index(name, current, extra)
            extra.add(ops.CreateIndexOp.from_index(model), ops.DropIndexOp.from_index(model))
        for name, definition in have.items():
            if name in wanted.expression_indexes or name in self.known.indexes:
                continue
            self._drop_index(name, definition, extra)
            # Still in the models, on plain ascending columns (autogenerate saw no change).
            model = self._model_index(name)
            if model is not None:
                extra.add(ops.CreateIndexOp.from_index(model), ops.DropIndexOp.from_index(model))

    def _drop_index(self, name: str, definition: str, extra: Extra) -> None:
        extra.add(
            ops.DropIndexOp(name, self.table.name, schema=self.table.schema),
            ops.ExecuteSQLOp(definition),
        )


def _compare_enums(dialect: Dialect, have: Catalogue, wanted: Catalogue, extra: Extra) -> None:
    """Native enum values: new ones are added in the models' order; any other change is
    refused, since PostgreSQL cannot remove or reorder a value."""
    if "enums" not in dialect.compares:
        return
    for name, values in wanted.enums.items():
        current = have.enums.get(name)
        if current is None or current == values:
            continue
        if [v for v in values if v in current] != list(current):
            extra.refusals.append(
                f"enum type {name} has values {list(current)} in the database but {list(values)} "
                f"in the models: {dialect.name} can only add values; write the change by hand "
                "(a new type, ALTER COLUMN ... TYPE ... USING, then drop the old type)"
            )
            continue
        added: list[tuple[str, str, str]] = []
        for index, value in enumerate(values):
            if value in current:
                continue
            if index:  # after the value before it, which exists by now
                added.append((value, "AFTER", values[index - 1]))
            else:
                added.append((value, "BEFORE", next(v for v in values if v in current)))
        extra.add(AddEnumValuesOp(name, added))
