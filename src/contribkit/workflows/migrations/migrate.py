"""``migrate``: generate → review → verify → record, for each dialect, all or nothing.

Everything is first written to a staged copy of the migrations folder; the project's tree changes
only in the final step, where each revision file is renamed into place and the notes file is
replaced in one rename. If anything fails before or during that step, whatever this run put in
the project is removed again, so the tree is as it was.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from contribkit.core import console
from contribkit.core.config import ProjectConfig
from contribkit.core.errors import CheckFailed, ContribkitError, UsageError, one_line
from contribkit.core.ownership import temporary_folder
from contribkit.core.signals import deferred_signals, raise_if_interrupted
from contribkit.databases.asyncdrivers import bridged
from contribkit.databases.throwaway import prewarm
from contribkit.workflows.migrations import baseline
from contribkit.workflows.migrations import review as reviewing
from contribkit.workflows.migrations.layout import Migrations, project_migrations, state_folder
from contribkit.workflows.migrations.slug import message_to_slug, slug_to_title

LOCK_WAIT_SECONDS = 600


@dataclass
class MigrateResult:
    written: list[Path] = field(default_factory=list)
    revisions: dict[str, str] = field(default_factory=dict)
    concerns: list[str] = field(default_factory=list)
    notes: Path | None = None


@contextmanager
def project_lock(root: Path) -> Iterator[None]:
    """Serialize runs on one project (two at once would write one change twice).

    The lock lives in the project, so runs whose temporary folders differ still see it."""
    from filelock import FileLock, Timeout

    lock = FileLock(state_folder(root) / "migrate.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        console.step("another migrate is running on this project; waiting for it to finish")
        try:
            lock.acquire(timeout=LOCK_WAIT_SECONDS)
        except Timeout:
            raise UsageError(
                f"another migrate held the lock for {LOCK_WAIT_SECONDS} s: try again when it ends."
            ) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def step(dialect: str, name: str) -> Iterator[None]:
    """A status line for the step; any failure raised inside names the dialect and step."""
    raise_if_interrupted()
    console.step(f"{dialect}: {name}")
    with named(dialect, name):
        yield


@contextmanager
def named(dialect: str, name: str) -> Iterator[None]:
    """Prefix a failure raised inside with ``dialect: name:``, unless a step inside did."""
    try:
        yield
    except ContribkitError as exc:
        if not exc.message.startswith(f"{dialect}: "):
            exc.message = f"{dialect}: {name}: {exc.message}"
            exc.args = (exc.message,)
        raise
    except Exception as exc:
        raise CheckFailed(f"{dialect}: {name}: {type(exc).__name__}: {one_line(exc)}") from exc


@bridged
def migrate(
    config: ProjectConfig,
    message: str,
    *,
    dialect: str | None = None,
    allow_destructive: bool = False,
    cache: bool = True,
) -> MigrateResult:
    """Create one revision per selected dialect for the models' pending changes; ``cache``: start
    from the head's state an earlier run saved instead of replaying the history."""
    slug = message_to_slug(message)
    dialects = config.select_dialects(dialect)
    prewarm(dialects)
    live = project_migrations(config, dialects, cache=cache)
    accepted = baseline.load(config.baseline)
    for name in dialects:
        live.single_head(name)
        history = {rev.revision for rev in live.script(name).walk_revisions()}
        baseline.require_known_revisions(accepted, config.baseline, name, history)
    with (
        project_lock(config.root),
        temporary_folder("ck-stage-") as tmp,
        console.summarized_warnings(),
    ):
        staged = replace(live, folder=tmp / "migrations")
        shutil.copytree(live.folder, staged.folder, ignore=shutil.ignore_patterns("__pycache__"))
        file_stamp = datetime.now(timezone.utc).strftime("%Y_%m_%d_%H%M%S")
        run = _Run(staged, live, slug, file_stamp, allow_destructive, accepted)
        result = MigrateResult()
        staged_files: dict[str, Path] = {}
        for name in dialects:
            verified = _one_dialect(run, name)
            if verified is not None:
                staged_files[name] = verified.path
                result.revisions[name] = verified.revision
                result.concerns += verified.concerns
        if not staged_files:
            console.ok("the models match the migrations of every dialect: nothing to do")
            return result
        _commit(config, live, staged_files, slug, result)
        return result


@dataclass(frozen=True)
class _Run:
    """What the dialects of one ``migrate`` share."""

    staged: Migrations
    live: Migrations
    slug: str
    file_stamp: str
    allow_destructive: bool
    accepted: baseline.Baseline


@dataclass(frozen=True)
class _Verified:
    """One dialect's new revision, staged and proven."""

    path: Path
    revision: str
    #: The review's own concerns, for the notes (squawk's style findings stay in the output).
    concerns: list[str]


def _one_dialect(run: _Run, dialect: str) -> _Verified | None:
    """Generate, format, review and verify ``dialect``'s revision in the staged copy."""
    from contribkit.workflows.migrations.generate import generate_revision, ruff_format
    from contribkit.workflows.migrations.verify import TrialDatabase, verify_new_revision

    staged, known_drift = run.staged, run.accepted.of(dialect).known_drift
    rev_id = uuid.uuid4().hex[:12]
    # One database for both steps: generate brings it to the previous head and autogenerate only
    # reads it, so verify starts from the very state a fresh database would reach, without
    # running the whole history a second time.
    # named: a failure while the database is dropped (its server died) names the dialect too.
    with named(dialect, "throw-away database"), staged.ephemeral_database(dialect) as url:
        with step(dialect, "generate"):
            generated = generate_revision(
                staged,
                dialect,
                url,
                message=run.slug,
                rev_id=rev_id,
                file_stamp=run.file_stamp,
                known_drift=known_drift,
            )
        if generated is None:
            console.ok(f"{dialect}: the models match the migrations; nothing to do")
            return None
        with step(dialect, "format"):
            ruff_format(generated.path, run.live.versions(dialect) / generated.path.name)
        with step(dialect, "review"):
            concerns = _review(staged, dialect, generated, run.allow_destructive)
        with step(dialect, "verify"), TrialDatabase(staged, dialect, url) as db:
            unseeded = verify_new_revision(
                db, generated.revision, generated.down_revision, known_drift
            )
            for table in unseeded:
                console.warn(f"{dialect}: verify could not seed {table}")
    console.ok(f"{dialect}: {generated.path.name} verified")
    own = [str(c) for c in concerns if c.kind != reviewing.SQUAWK]
    return _Verified(generated.path, generated.revision, own)


def _review(staged: Migrations, dialect: str, generated, allow_destructive: bool) -> list:  # type: ignore[no-untyped-def]
    """The review's concerns, printed; destructive ones refused unless allowed."""
    concerns = reviewing.review_operations(
        generated.upgrade_ops, dialect, generated.existing_enums, staged.metadata
    )
    if dialect == "postgresql":
        concerns += reviewing.squawk(_offline_sql(staged, generated), generated.path.name)
    for concern in concerns:
        console.warn(f"{dialect}: {concern}")
    destructive = [c.text for c in concerns if c.kind == reviewing.DESTRUCTIVE]
    if destructive and not allow_destructive:
        raise CheckFailed(
            f"refusing destructive operations ({'; '.join(destructive)}): "
            "rerun with --allow-destructive if that is intended"
        )
    return concerns


def _offline_sql(staged: Migrations, generated) -> str:  # type: ignore[no-untyped-def]
    """The new revision's upgrade as PostgreSQL SQL, rendered without a database.

    Run directly rather than through env.py: a project's own env.py may render offline SQL
    for the database its settings name, not for this revision's dialect."""
    import io

    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    buffer = io.StringIO()
    context = MigrationContext.configure(
        dialect_name="postgresql",
        opts={"as_sql": True, "output_buffer": buffer, "literal_binds": True},
    )
    module = staged.script("postgresql").get_revision(generated.revision).module
    with Operations.context(context):
        module.upgrade()
    return buffer.getvalue()


def _commit(
    config: ProjectConfig,
    live: Migrations,
    staged_files: dict[str, Path],
    slug: str,
    result: MigrateResult,
) -> None:
    """Move staged files into the project and record the notes entry; undo on any failure.

    Only a handful of renames: signals are held meanwhile, so an interrupt cannot land between
    a move and its undo. One that arrived meanwhile is dropped once the commit has succeeded:
    the run is done.
    """
    from contribkit.workflows.migrations import notes

    moved: list[Path] = []
    with deferred_signals() as deferral:
        try:
            raise_if_interrupted()  # in case it was lost: nothing is committed after a Ctrl-C
            for dialect, source in staged_files.items():
                target = live.versions(dialect) / source.name
                tmp = target.with_name(f".{target.name}.tmp")
                shutil.copyfile(source, tmp)
                moved.append(tmp)
                os.replace(tmp, target)
                moved[-1] = target
            if config.notes is not None:
                path = config.notes
                existing = path.read_text(encoding="utf-8") if path.exists() else None
                entry = notes.render_entry(
                    slug_to_title(slug),
                    result.revisions,
                    _unique(result.concerns),
                    notes.entry_style(existing),
                )
                notes.write_atomically(path, notes.with_entry(existing, entry))
                result.notes = path
        except BaseException:
            for path in moved:
                path.unlink(missing_ok=True)
            result.revisions.clear()
            raise
        deferral.finish_work()
    result.written = moved


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
