"""Autogenerate one dialect's revision into a (staged) migrations folder.

The ephemeral database is brought to the dialect's head and compared with the models, through
``alembic.command.revision`` and the project's own ``env.py``. A ``process_revision_directives``
hook captures the operations for review, cancels an empty revision, and adds the dialect's
conventions: SQLite's ``PRAGMA foreign_keys`` bracket, PostgreSQL's enum clean-up on downgrade
and MySQL's table drops without their indexes first.
The file is then formatted with ruff, using the project's own ruff settings.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import renderers
from alembic.operations import ops

from contribkit.core import reporting
from contribkit.core.errors import CheckFailed
from contribkit.core.importing import one_metadata
from contribkit.databases.dialects import dialect_named
from contribkit.workflows.migrations import (
    filenames,
    guards,
    portable,
    revisionattrs,
    runtime,
    schemadiff,
)
from contribkit.workflows.migrations.baseline import without_known_drift, without_operations
from contribkit.workflows.migrations.describe import flatten
from contribkit.workflows.migrations.layout import Migrations
from contribkit.workflows.migrations.review import created_enums, enums_of_added_columns
from contribkit.workflows.migrations.schemadiff import literal, quoted_name, rebuilt_tables
from contribkit.workflows.migrations.snapshots import HistoryCache
from contribkit.workflows.migrations.verify import TrialDatabase

PRAGMA_OFF = "PRAGMA foreign_keys=OFF"
PRAGMA_ON = "PRAGMA foreign_keys=ON"


@dataclass
class Generated:
    """One written (staged) revision and what review needs to know about it."""

    revision: str
    down_revision: str | None
    path: Path
    upgrade_ops: list[Any]
    existing_enums: dict[str, list[str]] = field(default_factory=dict)


class ForeignKeysOffGuardOp(ops.MigrateOperation):
    """Stop a SQLite revision that rebuilds ``tables`` while foreign keys are still on.

    SQLite ignores ``PRAGMA foreign_keys`` inside a transaction, so under an env.py that runs
    every revision in one transaction (``engine.begin()``) the bracket's OFF has no effect
    from the second revision on, and dropping the old copy of a rebuilt parent table would
    cascade into its children. Raising instead rolls the transaction back with every row.
    """

    def __init__(self, tables: list[str]) -> None:
        self.tables = tables

    def message(self) -> str:
        return (
            f"foreign keys are still on, so rebuilding {', '.join(self.tables)} would delete "
            "or change the rows that reference it: SQLite ignores PRAGMA foreign_keys inside a "
            "transaction. Run each revision in its own transaction: in env.py connect with "
            "engine.connect(), not engine.begin(), and keep context.begin_transaction() "
            "around context.run_migrations(), as Alembic's own template does."
        )


@renderers.dispatch_for(ForeignKeysOffGuardOp)
def _render_foreign_keys_guard(autogen_context: Any, op: ForeignKeysOffGuardOp) -> list[str]:
    prefix = autogen_context.opts.get("alembic_module_prefix") or "op."
    return [
        f"if {prefix}get_context().dialect.name == 'sqlite' and not {prefix}get_context().as_sql:",
        f'if {prefix}get_bind().exec_driver_sql("PRAGMA foreign_keys").scalar():',
        f"raise RuntimeError({op.message()!r})",
        "",
        "",
    ]


def _bracket_with_pragmas(container: Any, statement: Any, dialect: str) -> None:
    """Foreign keys off first and on last, outermost in the function body.

    Batch mode rebuilds a table by copying it and dropping the original; with foreign keys on,
    that drop would cascade into child tables and delete their rows.
    """
    container.ops.insert(0, statement(PRAGMA_OFF, dialect))
    container.ops.append(statement(PRAGMA_ON, dialect))


def existing_enums(connection: Any) -> dict[str, list[str]]:
    """PostgreSQL enum types in the database → their labels."""
    if not dialect_named(connection.dialect.name).native_enum_types:
        return {}

    return {e["name"]: list(e["labels"]) for e in sa.inspect(connection).get_enums(schema="*")}


def generate_revision(
    migrations: Migrations,
    dialect: str,
    url: str,
    *,
    message: str,
    rev_id: str,
    created: datetime,
    known_drift: frozenset[str] = frozenset(),
    shared_with: tuple[str, ...] = (),
) -> Generated | None:
    """Write the revision for the models' changes since ``dialect``'s head, or return ``None``.

    ``known_drift``: differences the project's baseline accepts; they are left out.
    ``shared_with``: the dialects a shared history's revision must run on (see :mod:`portable`);
    empty: the revision is ``dialect``'s alone."""

    history = [Path(rev.path) for rev in migrations.script(dialect).walk_revisions()]
    carried = revisionattrs.carried(history[::-1])
    naming = _naming(
        migrations.file_template, history, {**carried, **migrations.revision_attributes}
    )
    engine = migrations.engine(url)
    captured: dict[str, Any] = {}
    try:
        with TrialDatabase(migrations, dialect, url) as db:
            upgrade_to_head(db)
        with engine.connect() as connection:
            config = migrations.alembic_config(
                dialect, connection=connection, created=created, naming=naming
            )
            head = migrations.single_head(dialect)
            hook = _directives_hook(
                shared_with or (dialect,),
                connection,
                known_drift,
                migrations.exclude_tables,
                captured,
                guarded=migrations.guarded,
            )
            with runtime.env_py_run(connection, directives=hook):
                script = command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
    finally:
        engine.dispose()
    if not captured:
        return None
    assert script is not None and not isinstance(script, list)
    _set_attributes(Path(script.path), carried, migrations.revision_attributes, dialect)
    return Generated(
        revision=rev_id,
        down_revision=head,
        path=Path(script.path),
        upgrade_ops=captured["ops"],
        existing_enums=captured["enums"],
    )


def _naming(template: str, history: list[Path], attributes: dict[str, object]) -> dict[str, object]:
    """The values of ``template``'s tokens of contribkit's: the next number after those of the
    ``history``'s file names, and the module attributes the new revision sets."""
    named = filenames.tokens(template)
    naming = {name: value for name, value in attributes.items() if name in named}
    if filenames.NUMBER in named:
        naming[filenames.NUMBER] = filenames.next_number(template, [p.name for p in history])
    return naming


def _set_attributes(path: Path, carried: dict[str, object], configured: Any, dialect: str) -> None:
    """Give the new revision at ``path`` the module attributes every revision before it sets
    (``carried``, with the head's value: said, since the next release may want another) and
    the project's ``revision_attributes`` (``configured``)."""

    for name, value in carried.items():
        if name not in configured:
            reporting.info(
                f"{name} = {value!r}, as in the head revision "
                "(revision_attributes sets another value)",
                dialect,
            )
    values = {**carried, **configured}
    if values:
        revisionattrs.with_attributes(path, values)


def _directives_hook(
    runs_on: tuple[str, ...],
    connection: Any,
    known_drift: frozenset[str],
    exclude_tables: frozenset[str],
    captured: dict[str, Any],
    *,
    guarded: bool = False,
) -> Any:
    """Alembic's ``process_revision_directives``: drop the accepted drift, write nothing when
    nothing is left, record the operations (in ``captured``) for the review, and make the file
    right for every dialect in ``runs_on``; ``guarded``: each operation behind its existence
    test (:mod:`guards`)."""

    def hook(context: Any, revision: Any, directives: list[Any]) -> None:
        script = directives[0]
        dialect = context.connection.dialect
        metadata = one_metadata(context.opts["target_metadata"])
        comparison = schemadiff.Comparison(context.connection, metadata, exclude_tables)
        without_operations(script, comparison.overrules)
        extra = comparison.differences(
            list(flatten(script.upgrade_ops)), list(flatten(script.downgrade_ops))
        ).without(known_drift, dialect)
        without_known_drift(script, known_drift, dialect)
        if script.upgrade_ops.is_empty() and not extra.changes:
            _refuse(dialect.name, extra.refusals)
            directives[:] = []
            return
        # What the tables rebuilt by what is written (the baseline's drift is not) lose.
        rebuilt = (
            rebuilt_tables(dialect.name, [*script.upgrade_ops.ops, *extra.upgrade]),
            rebuilt_tables(dialect.name, [*script.downgrade_ops.ops, *extra.downgrade]),
        )
        fixups = comparison.after_rebuilds(list(flatten(script.upgrade_ops)), rebuilt)
        fixups = fixups.without(known_drift, dialect)
        extra.after_rebuilds = fixups.after_rebuilds
        extra.refusals += fixups.rebuild_refusals
        script.upgrade_ops.ops.extend(extra.upgrade)
        script.downgrade_ops.ops[0:0] = extra.downgrade
        after_upgrade, after_downgrade = extra.after_rebuilds
        script.upgrade_ops.ops.extend(after_upgrade)
        script.downgrade_ops.ops.extend(after_downgrade)
        for container in (script.upgrade_ops, script.downgrade_ops):
            schemadiff.merge_batches_by_table(container)
        captured["ops"] = list(flatten(script.upgrade_ops))
        captured["enums"] = existing_enums(context.connection)
        shared = runs_on != (context.connection.dialect.name,)
        if shared:
            portable.require_portable_types(captured["ops"], runs_on)
            # Both are read when the file is rendered, after this hook, whatever the project's
            # env.py set: batch mode is what SQLite needs and runs as plain ALTERs elsewhere.
            context.opts["render_as_batch"] = True
            own = context.opts.get("render_item")
            context.opts["render_item"] = portable.render_item(runs_on, own)
        _refuse(dialect.name, extra.refusals)
        statement = portable.DialectSQLOp if shared else _plain_sql
        parents = _referenced_tables(context.connection, metadata)
        _complete_for(
            runs_on, script, captured["ops"], captured["enums"], statement, parents, guarded
        )
        if guarded:  # last: what _complete_for adds is found by the operations it reads
            guards.guard(script.upgrade_ops)
            guards.guard(script.downgrade_ops)

    return hook


def _refuse(dialect: str, refusals: list[str]) -> None:
    """Stop before anything is written when the models differ in a way no operation here
    can remove: a revision without it would pass as verified."""
    if refusals:
        more = f" (and {len(refusals) - 1} more)" if len(refusals) > 1 else ""
        raise CheckFailed(f"{dialect}: {refusals[0]}{more}")


def _plain_sql(sqltext: str, dialect: str) -> Any:
    """A statement in a revision only ``dialect`` runs."""
    return ops.ExecuteSQLOp(sqltext)


def _complete_for(
    runs_on: tuple[str, ...],
    script: Any,
    upgrade_ops: list[Any],
    enums: Any,
    statement: Any,
    parents: set[str],
    guarded: bool = False,
) -> None:
    """Add what autogenerate leaves out on the dialects in ``runs_on``; ``statement(sql,
    dialect)`` makes the operation that runs ``sql`` on ``dialect`` only; ``parents``: the
    tables a foreign key refers to, in the database or the models; ``guarded``: an enum type
    is created only where it does not exist yet."""

    dialects = [dialect_named(name) for name in runs_on]
    for dialect in (d for d in dialects if d.native_enum_types):
        for enum in reversed(enums_of_added_columns(upgrade_ops, enums)):
            create = _create_enum_sql(enum, guarded)
            script.upgrade_ops.ops.insert(0, statement(create, dialect.name))
        # op.drop_table leaves an enum type behind, and the next upgrade then fails with "type
        # already exists": the downgrade drops the types it created.
        for name in created_enums(upgrade_ops, enums):
            script.downgrade_ops.ops.append(
                statement(f'DROP TYPE IF EXISTS "{name}"', dialect.name)
            )
    if any(d.keeps_indexes_foreign_keys_need for d in dialects):
        _drop_tables_with_their_indexes(script.downgrade_ops)
    for dialect in (d for d in dialects if d.alters_by_rebuild):  # last: the bracket is outermost
        for container in (script.upgrade_ops, script.downgrade_ops):
            rebuilt = sorted(rebuilt_tables(dialect.name, container.ops) & parents)
            if rebuilt:
                container.ops.insert(0, ForeignKeysOffGuardOp(rebuilt))
            _bracket_with_pragmas(container, statement, dialect.name)


def _referenced_tables(connection: Any, metadata: Any) -> set[str]:
    """Tables some foreign key refers to, in the connected database or in the models."""

    inspector = sa.inspect(connection)
    found = {
        fk["referred_table"]
        for table in inspector.get_table_names()
        for fk in inspector.get_foreign_keys(table)
    }
    for models in metadata if isinstance(metadata, list | tuple) else [metadata]:
        for table in models.tables.values():
            found |= {fk.column.table.name for fk in table.foreign_keys}
    return found


def _create_enum_sql(enum: Any, guarded: bool) -> str:
    values = ", ".join(literal(value) for value in enum.enums)
    create = f"CREATE TYPE {quoted_name(enum.name)} AS ENUM ({values})"
    if not guarded:
        return create
    # PostgreSQL has no CREATE TYPE IF NOT EXISTS: the block skips a type create_all made.
    return f"DO $$ BEGIN {create}; EXCEPTION WHEN duplicate_object THEN NULL; END $$"


def _drop_tables_with_their_indexes(container: Any) -> None:
    """Leave out the drop of an index whose table is dropped in the same function.

    Autogenerate drops a table's indexes before the table; MySQL refuses to drop an index that a
    foreign key still needs ("needed in a foreign key constraint"), and dropping the table
    drops its indexes anyway.
    """
    dropped = {
        (op.schema, op.table_name) for op in container.ops if isinstance(op, ops.DropTableOp)
    }

    def kept(op: Any) -> bool:
        if isinstance(op, ops.DropIndexOp):
            return (op.schema, op.table_name) not in dropped
        if isinstance(op, ops.ModifyTableOps):
            op.ops = [inner for inner in op.ops if kept(inner)]
            return bool(op.ops)
        return True

    container.ops = [op for op in container.ops if kept(op)]


def upgrade_to_head(db: TrialDatabase) -> None:
    """Upgrade the empty database to the head, starting from the furthest state a plain upgrade
    of this very history reached in an earlier run (see :mod:`snapshots`), and save the head's."""

    revisions = db.migrations.walked(db.dialect, list(reversed(list(db.script.walk_revisions()))))
    cache = HistoryCache.open(db.migrations, db.dialect, db.engine, revisions)
    keys: list[str | None] = list(cache.upgrade_keys()) if cache else []
    if cache:
        cache.resume(keys, db, "applied")
    db.upgrade("heads")
    if cache and keys:
        cache.save(keys[-1], db, [], set())


def ruff_format(path: Path, as_path: Path) -> None:
    """Format ``path`` in place with the ruff settings that apply at ``as_path`` (its final place)."""
    text = path.read_text(encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(as_path), "-"],
        input=text,
        capture_output=True,
        text=True,
        cwd=as_path.parent if as_path.parent.is_dir() else None,
    )
    if result.returncode != 0:
        raise CheckFailed(f"ruff could not format {path.name}: {result.stderr.strip()[:300]}")
    path.write_text(result.stdout, encoding="utf-8")
