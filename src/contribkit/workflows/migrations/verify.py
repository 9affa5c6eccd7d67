"""Prove migrations on a real, fresh database: upgrade, zero drift, round trips, rows intact.

:class:`TrialDatabase` runs Alembic commands against one ephemeral database: on SQLite a fresh
connection per command (so its per-connection ``PRAGMA foreign_keys=ON`` is always back in
force), elsewhere one pooled connection that each command gets back as a new session.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import produce_migrations
from alembic.operations import ops
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, MigrationStep
from alembic.script import ScriptDirectory

from contribkit.core.errors import CheckFailed, ContribkitError, UsageError, one_line
from contribkit.core.importing import one_metadata
from contribkit.databases.dialects import dialect_named
from contribkit.workflows.migrations import runtime, schemadiff, seed
from contribkit.workflows.migrations.describe import accepted_line, describe, flatten
from contribkit.workflows.migrations.layout import Migrations
from contribkit.workflows.migrations.setupcommand import SetUpCommand


class TrialDatabase:
    def __init__(
        self, migrations: Migrations, dialect: str, url: str, script: ScriptDirectory | None = None
    ) -> None:
        """``script``: the dialect's ``ScriptDirectory`` when the caller has loaded it already
        (loading one executes every revision file)."""
        self.migrations = migrations
        self.dialect = dialect
        self.url = url
        self.engine = migrations.engine(url)
        self.script = script if script is not None else migrations.script(dialect)
        #: Where env.py keeps the version rows (its context.configure's), once a step ran.
        self.version_table: tuple[str, str | None] = ("alembic_version", None)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> TrialDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self, destination: str, *, down: bool) -> None:
        """Upgrade or downgrade to ``destination``, as ``alembic.command`` would, but with this
        trial's one ScriptDirectory: a new one per command re-imports every revision file,
        which made a check quadratic in the length of the history. Where the dialect's
        databases start at a revision (``start``), that revision is their base."""
        script = self.script
        start = self.migrations.start(self.dialect)
        if down and destination == "base" and start is not None:
            destination = start[0]

        def steps(current: Any, context: Any) -> Any:
            self.version_table = (context.version_table, context.version_table_schema)
            single = _single_step(script, destination, tuple(current), down=down)
            if single is not None:
                return [single]
            if down:
                return script._downgrade_revs(destination, current)
            return script._upgrade_revs(destination, current)

        with self.engine.connect() as connection, applied_ddl(connection) as applied:
            if not down:
                self._create_base_schema(connection)
            try:
                self._run_env(connection, steps, destination)
            except sa.exc.DBAPIError as exc:
                if not dialect_named(self.dialect).transactional_ddl and applied:
                    # Carried to _checked, whose message names what stayed applied.
                    exc.applied_before = list(applied)  # type: ignore[attr-defined]
                raise

    def _run_env(self, connection: Any, steps: Any, destination: str | None = None) -> None:
        """The project's env.py on ``connection``, handing over to ``steps`` (Alembic's ``fn``)."""

        reached: list[bool] = []

        def reaching(current: Any, context: Any) -> Any:
            reached.append(True)
            return steps(current, context)

        config = self.migrations.alembic_config(self.dialect, connection=connection)
        with (
            EnvironmentContext(config, self.script, fn=reaching, destination_rev=destination),
            runtime.env_py_run(connection),
            _env_failures(self.script, reached),
        ):
            self.script.run_env()

    def _create_base_schema(self, connection: Any) -> None:
        """On a database no revision has run on: the project's ``base_schema`` (its history
        starts from the tables its own set-up creates with ``create_all``), or, where the
        dialect's databases start at a revision, its frozen schema or its set-up command,
        stamped at that revision."""
        start = self.migrations.start(self.dialect)
        base = start[1] if start is not None else self.migrations.base_metadata
        if base is None:
            return

        table, schema = self.version_table
        context = MigrationContext.configure(
            connection, opts={"version_table": table, "version_table_schema": schema}
        )
        empty = not context.get_current_heads()
        # No transaction left open: the set-up command writes to this database, and an
        # env.py's begin_transaction() would join it and never commit (Alembic only commits
        # the transactions it began).
        connection.commit()
        if not empty:
            return
        if isinstance(base, SetUpCommand):
            assert start is not None  # a command makes databases only where they start later
            base.run(self.url)
            made = tuple(context.get_current_heads())
            connection.commit()
            if made == (start[0],):
                return  # it stamped them itself
            if made:
                raise UsageError(
                    f"{base.key} left the database at {', '.join(made)}, not at "
                    f"{self.dialect}'s start revision {start[0]}: name the revision it makes "
                    "databases at."
                )
        else:
            base.create_all(connection)  # checkfirst: after a downgrade to base they are there
            connection.commit()
        if start is not None:
            revision = start[0]
            self._run_env(connection, lambda current, _: self.script._stamp_revs(revision, current))

    def upgrade(self, revision: str) -> None:
        self._migrate(revision, down=False)

    def downgrade(self, revision: str) -> None:
        self._migrate(revision, down=True)

    def seed(self, consulted: set[str] | None = None) -> dict[str, str]:
        """Rows in every empty table; ``consulted`` gains the model columns that decided them."""
        with self.engine.connect() as connection:
            return seed.seed(
                connection, self.migrations.metadata, consulted, self.migrations.row_factories
            )

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as connection:
            return seed.row_counts(connection)

    def fk_violations(self) -> list[str]:
        if not dialect_named(self.dialect).foreign_keys_can_be_off:
            return []  # enforced at every statement
        with self.engine.connect() as connection:
            return seed.foreign_key_violations(connection)

    def drift(self) -> list[str]:
        """The models' differences from this database, as readable operations.

        Compared through the project's env.py, so its own ``include_object`` and comparison
        options decide what counts, exactly as when it autogenerates; then what autogenerate
        does not compare (:mod:`schemadiff`).
        """

        found: list[str] = []

        def compare(_revision: Any, context: Any) -> list[Any]:
            metadata = context.opts.get("target_metadata") or self.migrations.metadata
            script = produce_migrations(context, metadata)
            comparison = schemadiff.Comparison(
                context.connection, one_metadata(metadata), self.migrations.exclude_tables
            )
            leaf = [op for op in flatten(script.upgrade_ops) if not comparison.overrules(op)]
            extra = comparison.differences(leaf)
            dialect = context.connection.dialect
            found.extend(describe(op, dialect) for op in leaf)
            found.extend(extra.lines(dialect))
            return []

        with self.engine.connect() as connection:
            self._create_base_schema(connection)  # a database no revision ran on starts there too
            self._run_env(connection, compare)
        return found


@contextmanager
def _env_failures(script: Any, reached: list[bool]) -> Iterator[None]:
    """An error raised by env.py before it handed over to contribkit (``reached`` still empty)
    is env.py's, not the first revision's: say so, in one line."""
    try:
        yield
    except ContribkitError:
        raise
    except Exception as exc:
        if reached:
            raise
        raise UsageError(
            f"{script.dir}/env.py failed before any revision ran: {type(exc).__name__}: "
            f"{one_line(exc)} (docs/adopting.md, step 2)."
        ) from exc


@contextmanager
def applied_ddl(connection: Any) -> Iterator[list[str]]:
    """The DDL statements of the current revision that have run on ``connection``.

    MySQL commits each one by itself, so when a revision fails half-way these stay applied:
    the failure must say which. The list restarts whenever Alembic records a revision.
    """
    applied: list[str] = []

    def executed(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        words = statement.split(None, 1)
        if "alembic_version" in statement:
            applied.clear()
        elif words and words[0].upper() in {"CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE"}:
            applied.append(" ".join(statement.split()))

    sa.event.listen(connection, "after_cursor_execute", executed)
    try:
        yield applied
    finally:
        sa.event.remove(connection, "after_cursor_execute", executed)


def _single_step(script: Any, destination: str, heads: tuple[str, ...], *, down: bool) -> Any:
    """The one step from ``heads`` to an adjacent ``destination``, or ``None``. Alembic finds
    steps by walking the history, which costs as much as the history is long: for the step by
    step round trips of a check, that made the whole check quadratic."""

    if len(heads) > 1 or destination in ("heads", "head"):
        return None  # several heads or a symbolic target: Alembic's own search
    if down:
        if not heads:
            return None
        top = script.get_revision(heads[0])
        below = None if destination == "base" else destination
        if top is not None and top.down_revision == below and not top.dependencies:
            return MigrationStep.downgrade_from_script(script.revision_map, top)
        return None
    if destination == "base":
        return None
    target = script.get_revision(destination)
    below = heads[0] if heads else None
    # depends_on may need other revisions applied first: Alembic's search finds them.
    if target is not None and target.down_revision == below and not target.dependencies:
        return MigrationStep.upgrade_from_script(script.revision_map, target)
    return None


def lost_rows(before: dict[str, int], after: dict[str, int]) -> list[str]:
    """Tables present in both snapshots whose row count changed."""
    return [
        f"{table}: {before[table]} -> {after[table]} rows"
        for table in sorted(before.keys() & after.keys())
        if before[table] != after[table]
    ]


def round_trip(
    db: TrialDatabase,
    revision: str,
    previous: str | None,
    *,
    rows: bool = True,
    before: dict[str, int] | None = None,
) -> dict[str, int]:
    """From ``previous`` (seeded), upgrade to ``revision``, down one step, and up again; returns
    the rows per table at the end.

    Raises :class:`CheckFailed` naming the step that failed or lost rows. ``rows=False``: the
    database holds none (a baseline's revision, checked structurally), so only the steps run.
    ``before``: the rows per table now, if the caller knows them (the last round trip's end).
    """
    if not rows:
        checked(f"upgrade to {revision}", lambda: db.upgrade(revision))
        checked(f"downgrade from {revision}", lambda: db.downgrade(previous or "base"))
        checked(f"re-upgrade to {revision}", lambda: db.upgrade(revision))
        return {}
    seeded = before if before is not None else db.counts()
    checked(f"upgrade to {revision}", lambda: db.upgrade(revision))
    after_up = db.counts()
    problems = lost_rows(seeded, after_up) + db.fk_violations()
    if problems:
        raise CheckFailed(f"upgrade to {revision} changed existing rows: {'; '.join(problems)}")
    checked(f"downgrade from {revision}", lambda: db.downgrade(previous or "base"))
    problems = lost_rows(seeded, db.counts()) + db.fk_violations()
    if problems:
        raise CheckFailed(f"downgrade from {revision} lost rows: {'; '.join(problems)}")
    checked(f"re-upgrade to {revision}", lambda: db.upgrade(revision))
    after = db.counts()
    problems = lost_rows(after_up, after) + db.fk_violations()
    if problems:
        raise CheckFailed(f"re-upgrade to {revision} lost rows: {'; '.join(problems)}")
    return after


def checked(what: str, action: Any) -> None:
    """Run ``action``; a database error names the step, the statement and the database's
    own message."""
    try:
        action()
    except sa.exc.DBAPIError as exc:
        kept = kept_note(getattr(exc, "applied_before", []))
        raise CheckFailed(f"{what} failed{_at(exc.statement)}: {one_line(exc)}{kept}") from exc


def kept_note(applied: list[str]) -> str:
    """``; MySQL had already applied, and kept: …`` (empty when nothing was)."""
    if not applied:
        return ""
    return f"; MySQL had already applied, and kept: {'; '.join(_short(a) for a in applied)}"


def _at(statement: str | None) -> str:
    """`` at ALTER TABLE item ...``: the failed statement, on one line and shortened."""
    return f" at {_short(statement)}" if statement else ""


def _short(statement: str, limit: int = 100) -> str:
    text = " ".join(statement.split())
    return f"{text[:limit]}{'...' if len(text) > limit else ''}"


def touched_tables(leaf_ops: list[Any]) -> frozenset[str]:
    """The tables a revision's operations change that existed before it."""

    created = {op.table_name for op in leaf_ops if isinstance(op, ops.CreateTableOp)}
    names = {
        getattr(op, "table_name", None) or getattr(op, "source_table", None) for op in leaf_ops
    }
    return frozenset(name for name in names if name and name not in created)


@dataclass(frozen=True)
class Verification:
    #: Tables the seeder could not fill, each with the reason.
    unseeded: list[str]
    #: Tables the revision changes that held no rows while it was verified.
    empty: list[str]


def verify_new_revision(
    db: TrialDatabase,
    revision: str,
    previous: str | None,
    known_drift: frozenset[str] = frozenset(),
    touched: frozenset[str] = frozenset(),
) -> Verification:
    """Verify one new revision on a fresh database.

    ``known_drift``: differences the project's baseline accepts, which may remain;
    ``touched``: the existing tables the revision changes, which should hold rows."""
    if previous is not None:
        checked(f"upgrade to the previous head {previous}", lambda: db.upgrade(previous))
    unseeded = db.seed()
    counts = db.counts()
    round_trip(db, revision, previous, before=counts)
    drift = [line for line in db.drift() if not accepted_line(line, known_drift)]
    if drift:
        raise CheckFailed(
            f"after upgrade to {revision} the models still differ: {'; '.join(drift)}"
        )
    return Verification(
        [f"{table} ({reason})" for table, reason in unseeded.items()],
        sorted(table for table in touched if counts.get(table) == 0),
    )


#: The database the project's own set-up made (:func:`created_database`), in messages.
CREATED = "on a database create_all of the models made"


def created_database(db: TrialDatabase, previous: str | None) -> None:
    """Make the empty database as the project's own set-up does: ``create_all`` of the models
    (which hold the next revisions' changes already), stamped at ``previous``. Guarded
    revisions must run there."""
    with db.engine.connect() as connection:
        one_metadata(db.migrations.metadata).create_all(connection)
        connection.commit()
        if previous is not None:
            db._run_env(connection, lambda current, _: db.script._stamp_revs(previous, current))


def verify_on_created_database(
    db: TrialDatabase,
    revision: str,
    previous: str | None,
) -> None:
    """Prove a guarded revision on a database the project's own set-up made
    (:func:`created_database`): it runs there and changes nothing, since that database holds
    its change already. Compared as the models' differences before and after: ``create_all``
    itself may leave some (on PostgreSQL, a unique constraint on a primary key column
    is not created)."""
    created_database(db, previous)
    before = set(db.drift())
    checked(f"{CREATED}, upgrade to {revision}", lambda: db.upgrade(revision))
    after = set(db.drift())
    changed = [f"now: {line}" for line in sorted(after - before)] + [
        f"no longer: {line}" for line in sorted(before - after)
    ]
    if changed:
        raise CheckFailed(
            f"{CREATED}, the upgrade to {revision} changed it (a guard is missing): "
            + "; ".join(changed)
        )
