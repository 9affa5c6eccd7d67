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
from pathlib import Path
from typing import Any

from contribkit.core.errors import CheckFailed
from contribkit.workflows.migrations.describe import flatten

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


def _bracket_with_pragmas(container: Any, statement: Any) -> None:
    """Foreign keys off first and on last, outermost in the function body.

    Batch mode rebuilds a table by copying it and dropping the original; with foreign keys on,
    that drop would cascade into child tables and delete their rows.
    """
    container.ops.insert(0, statement(PRAGMA_OFF, "sqlite"))
    container.ops.append(statement(PRAGMA_ON, "sqlite"))


def existing_enums(connection: Any) -> dict[str, list[str]]:
    """PostgreSQL enum types in the database → their labels."""
    if connection.dialect.name != "postgresql":
        return {}
    import sqlalchemy as sa

    return {e["name"]: list(e["labels"]) for e in sa.inspect(connection).get_enums(schema="*")}


def generate_revision(
    migrations: Any,
    dialect: str,
    url: str,
    *,
    message: str,
    rev_id: str,
    file_stamp: str,
    known_drift: frozenset[str] = frozenset(),
    shared_with: tuple[str, ...] = (),
) -> Generated | None:
    """Write the revision for the models' changes since ``dialect``'s head, or return ``None``.

    ``known_drift``: differences the project's baseline accepts; they are left out.
    ``shared_with``: the dialects a shared history's revision must run on (see :mod:`portable`);
    empty: the revision is ``dialect``'s alone."""
    from alembic import command

    from contribkit.workflows.migrations.verify import TrialDatabase

    engine = migrations.engine(url)
    captured: dict[str, Any] = {}
    try:
        with TrialDatabase(migrations, dialect, url) as db:
            upgrade_to_head(db)
        with engine.connect() as connection:
            config = migrations.alembic_config(
                dialect, connection=connection, file_stamp=file_stamp
            )
            head = migrations.single_head(dialect)
            script = command.revision(
                config,
                message=message,
                autogenerate=True,
                rev_id=rev_id,
                process_revision_directives=_directives_hook(
                    shared_with or (dialect,), connection, known_drift, captured
                ),
            )
    finally:
        engine.dispose()
    if not captured:
        return None
    assert script is not None and not isinstance(script, list)
    return Generated(
        revision=rev_id,
        down_revision=head,
        path=Path(script.path),
        upgrade_ops=captured["ops"],
        existing_enums=captured["enums"],
    )


def _directives_hook(
    runs_on: tuple[str, ...], connection: Any, known_drift: frozenset[str], captured: dict[str, Any]
) -> Any:
    """Alembic's ``process_revision_directives``: drop the accepted drift, write nothing when
    nothing is left, record the operations (in ``captured``) for the review, and make the file
    right for every dialect in ``runs_on``."""
    from contribkit.workflows.migrations import portable
    from contribkit.workflows.migrations.baseline import without_known_drift
    from contribkit.workflows.migrations.verify import require_passed_connection

    def hook(context: Any, revision: Any, directives: list[Any]) -> None:
        require_passed_connection(context, connection)
        script = directives[0]
        without_known_drift(script, known_drift, context.connection.dialect)
        if script.upgrade_ops.is_empty():
            directives[:] = []
            return
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
        statement = portable.DialectSQLOp if shared else _plain_sql
        _complete_for(runs_on, script, captured["ops"], captured["enums"], statement)

    return hook


def _plain_sql(sqltext: str, dialect: str) -> Any:
    """A statement in a revision only ``dialect`` runs."""
    from alembic.operations import ops

    return ops.ExecuteSQLOp(sqltext)


def _complete_for(
    runs_on: tuple[str, ...], script: Any, upgrade_ops: list[Any], enums: Any, statement: Any
) -> None:
    """Add what autogenerate leaves out on the dialects in ``runs_on``; ``statement(sql,
    dialect)`` makes the operation that runs ``sql`` on ``dialect`` only."""
    from contribkit.workflows.migrations.review import created_enums

    if "postgresql" in runs_on:
        # op.drop_table leaves a PostgreSQL enum type behind, and the next upgrade then fails
        # with "type already exists": the downgrade drops the types it created.
        for name in created_enums(upgrade_ops, enums):
            script.downgrade_ops.ops.append(
                statement(f'DROP TYPE IF EXISTS "{name}"', "postgresql")
            )
    if "mysql" in runs_on:
        _drop_tables_with_their_indexes(script.downgrade_ops)
    if "sqlite" in runs_on:  # last: the bracket is outermost
        _bracket_with_pragmas(script.upgrade_ops, statement)
        _bracket_with_pragmas(script.downgrade_ops, statement)


def _drop_tables_with_their_indexes(container: Any) -> None:
    """Leave out the drop of an index whose table is dropped in the same function.

    Autogenerate drops a table's indexes before the table; MySQL refuses to drop an index that a
    foreign key still needs ("needed in a foreign key constraint"), and dropping the table
    drops its indexes anyway.
    """
    from alembic.operations import ops

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


def upgrade_to_head(db: Any) -> None:
    """Upgrade the empty database to the head, starting from the furthest state a plain upgrade
    of this very history reached in an earlier run (see :mod:`snapshots`), and save the head's."""
    from contribkit.workflows.migrations.snapshots import HistoryCache

    revisions = list(reversed(list(db.script.walk_revisions())))
    cache = HistoryCache.open(db.migrations, db.dialect, db.engine, revisions)
    keys: list[str | None] = list(cache.upgrade_keys()) if cache else []
    if cache:
        cache.resume(keys, db.url, "applied")
    db.upgrade("heads")
    if cache and keys:
        cache.save(keys[-1], db.url, [], set())


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
