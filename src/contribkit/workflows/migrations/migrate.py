"""``migrate``: generate → review → verify → record, all or nothing.

The layout decides what is generated where: a history per dialect gets one revision per
selected dialect, generated and verified on it; a shared history gets one revision, generated on
the first configured dialect, written to run on all of them, and verified on each selected one.

Everything is first written to a staged copy of the migrations folder; the project's tree changes
only in the final step, where each revision file is renamed into place and the notes file is
replaced in one rename. If anything fails before or during that step, whatever this run put in
the project is removed again, so the tree is as it was.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from contribkit.core import reporting
from contribkit.core.config import SHARED, ProjectConfig
from contribkit.core.errors import CheckFailed, UsageError
from contribkit.core.ownership import temporary_folder
from contribkit.core.signals import deferred_signals, raise_if_interrupted
from contribkit.databases.asyncdrivers import bridged
from contribkit.databases.dialects import dialect_named
from contribkit.databases.throwaway import prewarm
from contribkit.workflows.migrations import baseline, notes
from contribkit.workflows.migrations import review as reviewing
from contribkit.workflows.migrations.amend import amended_revisions
from contribkit.workflows.migrations.concerns import DESTRUCTIVE, SQUAWK, Concern
from contribkit.workflows.migrations.generate import (
    Generated,
    generate_revision,
    ruff_format,
    upgrade_to_head,
)
from contribkit.workflows.migrations.layout import Migrations
from contribkit.workflows.migrations.progress import named, step, warnings_summed
from contribkit.workflows.migrations.project import STATE_FOLDER, project_migrations, state_folder
from contribkit.workflows.migrations.slug import message_to_slug, slug_to_title
from contribkit.workflows.migrations.verify import (
    TrialDatabase,
    touched_tables,
    verify_new_revision,
    verify_on_created_database,
)

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

    try:
        lock = FileLock(state_folder(root) / "migrate.lock")
        lock.acquire(timeout=0)
    except Timeout:  # before OSError, which it subclasses (via TimeoutError)
        reporting.step("another migrate is running on this project; waiting for it to finish")
        try:
            lock.acquire(timeout=LOCK_WAIT_SECONDS)
        except Timeout:
            raise UsageError(
                f"another migrate held the lock for {LOCK_WAIT_SECONDS} s: try again when it ends."
            ) from None
    except OSError as exc:
        raise UsageError(
            f"cannot write {root / STATE_FOLDER} ({exc.strerror or exc}), where migrate keeps "
            "its lock: make it a writable folder."
        ) from exc
    try:
        yield
    finally:
        lock.release()


@bridged
def migrate(
    config: ProjectConfig,
    message: str,
    *,
    dialect: str | None = None,
    allow_destructive: bool = False,
    require_rows: bool = False,
    cache: bool = True,
    amend: bool = False,
) -> MigrateResult:
    """Create the revisions for the models' pending changes (see the module's docstring for
    which); ``require_rows``: refuse a revision verified without rows in a table it changes;
    ``cache``: start from the head's state an earlier run saved instead of replaying the
    history; ``amend``: generate this branch's newest revisions again instead, with the
    change folded in (:mod:`amend`; ``message`` may then be empty: theirs is kept)."""
    dialects = config.select_dialects(dialect)
    live = project_migrations(config, dialects, cache=cache)
    plan = _plan(live, config.dialects, dialects)
    if amend and not live.shared and dialects != config.dialects:
        raise UsageError(
            "--amend generates the revision again on every dialect, as one change: leave out "
            "--dialect."
        )
    amended = amended_revisions(config, live, tuple(w for w, _ in plan)) if amend else {}
    same_name = amend and not message.strip()  # no new message: the file keeps its name
    if same_name:  # the slug is then only the notes entry's title
        message = _slug_of(next(iter(amended.values())).message)
    slug = message_to_slug(message)
    prewarm(tuple(dict.fromkeys(d for writer, verify_on in plan for d in (writer, *verify_on))))
    accepted = baseline.load(config.baseline)
    for name in dialects:
        live.single_head(name)
        history = {rev.revision for rev in live.script(name).walk_revisions()}
        baseline.require_known_revisions(accepted, config.baseline, name, history)
    with (
        project_lock(config.root),
        temporary_folder("ck-stage-") as tmp,
        warnings_summed(),
    ):
        staged = replace(live, folder=tmp / "migrations")
        shutil.copytree(live.folder, staged.folder, ignore=shutil.ignore_patterns("__pycache__"))
        for old in amended.values():  # generated again from the history before it
            (staged.folder / old.path.relative_to(live.folder)).unlink()
        _ensure_template(staged.folder)
        created = datetime.now(timezone.utc)
        runs_on = config.dialects if live.shared else ()
        run = _Run(staged, live, slug, created, allow_destructive, require_rows, accepted, runs_on)
        result = MigrateResult()
        staged_files: dict[str, Path] = {}
        for writer, verify_on in plan:
            previous = amended.get(writer)
            verified = _one_revision(
                run, writer, verify_on, previous.revision if previous else None
            )
            if verified is None and previous is not None:
                raise CheckFailed(
                    f"--amend: {writer}: the models now match the history before "
                    f"{previous.path.name}, so nothing is left to fold into it: delete it and "
                    "its notes entry by hand if its change is gone."
                )
            if verified is not None and previous is not None and same_name:
                verified = replace(
                    verified, path=verified.path.rename(verified.path.with_name(previous.path.name))
                )
            if verified is not None:
                staged_files[writer] = verified.path
                result.revisions[SHARED if live.shared else writer] = verified.revision
                result.concerns += verified.concerns
        if not staged_files:
            reporting.ok("the models match the migrations of every dialect: nothing to do")
            return result
        _commit(config, live, staged_files, slug, result, [old.path for old in amended.values()])
        return result


def _ensure_template(folder: Path) -> None:
    """A migrations folder without ``script.py.mako`` (an installed package's, where the wheel
    leaves it out) gets contribkit's plain template in the staged copy only."""
    template = folder / "script.py.mako"
    if not template.exists():
        from contribkit.workflows.scaffold import SCRIPT_TEMPLATE

        reporting.info("the migrations folder has no script.py.mako: using contribkit's template")
        template.write_text(SCRIPT_TEMPLATE, encoding="utf-8")


def _plan(
    migrations: Migrations, configured: tuple[str, ...], selected: tuple[str, ...]
) -> list[tuple[str, tuple[str, ...]]]:
    """(the dialect a revision is generated on, the dialects it is verified on), per revision."""
    if migrations.shared:  # --dialect chooses where to verify, never where to write
        return [(configured[0], selected)]
    return [(name, (name,)) for name in selected]


@dataclass(frozen=True)
class _Run:
    """What the revisions of one ``migrate`` share."""

    staged: Migrations
    live: Migrations
    slug: str
    created: datetime
    allow_destructive: bool
    require_rows: bool
    accepted: baseline.Baseline
    #: The dialects a shared history's revision must run on; empty for a per-dialect history.
    runs_on: tuple[str, ...]


@dataclass(frozen=True)
class _Verified:
    """One dialect's new revision, staged and proven."""

    path: Path
    revision: str
    #: The review's own concerns, for the notes (squawk's style findings stay in the output).
    concerns: list[str]


def _one_revision(
    run: _Run, writer: str, verify_on: tuple[str, ...], rev_id: str | None
) -> _Verified | None:
    """Generate ``writer``'s revision (with id ``rev_id``, else a new one) in the staged copy;
    format, review and verify it on each dialect of ``verify_on``."""

    staged, accepted = run.staged, run.accepted
    rev_id = rev_id or uuid.uuid4().hex[:12]
    needed = tuple(dict.fromkeys((writer, *verify_on)))
    with ExitStack() as databases:
        urls = {name: databases.enter_context(_database(staged, name)) for name in needed}
        # Each database is brought to the head before the new file exists. generate does the
        # writer's, and autogenerate only reads it, so verify starts from the very state a fresh
        # database would reach, without running the whole history a second time.
        for name in needed[1:]:
            with step(name, "upgrade to the head"), TrialDatabase(staged, name, urls[name]) as db:
                upgrade_to_head(db)
        with step(writer, "generate"):
            generated = generate_revision(
                staged,
                writer,
                urls[writer],
                message=run.slug,
                rev_id=rev_id,
                created=run.created,
                known_drift=accepted.of(writer).known_drift,
                shared_with=run.runs_on,
            )
        if generated is None:
            reporting.ok("the models match the migrations; nothing to do", writer)
            return None
        with step(writer, "format"):
            ruff_format(generated.path, run.live.versions(writer) / generated.path.name)
        concerns = []
        for name in verify_on:
            with step(name, "review"):
                concerns += _review(staged, name, urls[name], generated, run.allow_destructive)
        for name in verify_on:
            known_drift = accepted.of(name).known_drift
            with step(name, "verify"), TrialDatabase(staged, name, urls[name]) as db:
                verification = verify_new_revision(
                    db,
                    generated.revision,
                    generated.down_revision,
                    known_drift,
                    touched_tables(generated.upgrade_ops),
                )
                for table in verification.unseeded:
                    reporting.warn(f"verify could not seed {table}", name)
            if verification.empty:  # verified, but not with the rows it could lose
                empty = ", ".join(verification.empty)
                if run.require_rows:
                    raise CheckFailed(
                        f"{name}: verify: no rows in {empty}, which the revision changes "
                        "(--require-rows): see why the seeder could not fill it above"
                    )
                reporting.warn(f"{generated.path.name} verified without rows in {empty}", name)
            else:
                reporting.ok(f"{generated.path.name} verified", name)
        if staged.guarded:
            for name in verify_on:
                _verify_guards(staged, name, generated)
    own = [str(c) for c in concerns if c.kind != SQUAWK]
    return _Verified(generated.path, generated.revision, own)


def _verify_guards(staged: Migrations, name: str, generated: Generated) -> None:
    """The guarded revision, where the project's own set-up made the database from the models."""

    with (
        _database(staged, name) as url,
        step(name, "verify the guards"),
        TrialDatabase(staged, name, url) as db,
    ):
        verify_on_created_database(db, generated.revision, generated.down_revision)
    reporting.ok(f"{generated.path.name} runs on a database create_all made", name)


@contextmanager
def _database(migrations: Migrations, dialect: str) -> Iterator[str]:
    """A throw-away database; a failure while it is dropped (its server died) names the dialect."""
    with named(dialect, "throw-away database"), migrations.ephemeral_database(dialect) as url:
        yield url


def _review(
    staged: Migrations, dialect: str, url: str, generated: Generated, allow_destructive: bool
) -> list[Concern]:
    """The review's concerns, printed; destructive ones refused unless allowed."""
    engine = staged.engine(url)  # connects only where the dialect has a collation to read
    try:
        collation = dialect_named(dialect).database_collation(engine)
    finally:
        engine.dispose()
    concerns = reviewing.review_operations(
        generated.upgrade_ops, dialect, generated.existing_enums, staged.metadata, collation
    )
    if dialect_named(dialect).linted_by_squawk:
        concerns += reviewing.squawk(_offline_sql(staged, generated), generated.path.name)
    for concern in concerns:
        reporting.warn(str(concern), dialect)
    destructive = [c.text for c in concerns if c.kind == DESTRUCTIVE]
    if destructive and not allow_destructive:
        raise CheckFailed(
            f"refusing destructive operations ({'; '.join(destructive)}): "
            "rerun with --allow-destructive if that is intended"
        )
    return concerns


def _offline_sql(staged: Migrations, generated: Generated) -> str:
    """The new revision's upgrade as PostgreSQL SQL, rendered without a database.

    Run directly rather than through env.py: a project's own env.py may render offline SQL
    for the database its settings name, not for this revision's dialect."""

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
    replaced: list[Path],
) -> None:
    """Move staged files into the project and record the notes entry (in place of the entry
    of the ``replaced`` files, an amend's); undo on any failure.

    Only a handful of renames: signals are held meanwhile, so an interrupt cannot land between
    a move and its undo. One that arrived meanwhile is dropped once the commit has succeeded:
    the run is done.
    """

    moved: list[Path] = []
    originals = {path: path.read_bytes() for path in replaced}
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
            for path in replaced:
                if path not in moved:  # an amended revision's file, now under a new name
                    path.unlink()
            if config.notes is not None:
                path = config.notes
                existing = path.read_text(encoding="utf-8") if path.exists() else None
                entry = notes.render_entry(
                    slug_to_title(slug),
                    result.revisions,
                    _unique(result.concerns),
                    notes.entry_style(existing),
                )
                amended = result.revisions if replaced else None  # its entry is replaced
                notes.write_atomically(path, notes.with_entry(existing, entry, amended))
                result.notes = path
        except BaseException:
            notes.put_back(moved, originals)
            result.revisions.clear()
            raise
        deferral.finish_work()
    result.written = moved


def _slug_of(message: str) -> str:
    """An amended revision's own message as a slug, whatever wrote it ("Add user.email")."""
    folded = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")
    return folded[:60].rstrip("_") or "amended"


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
