"""Alembic commands against the project's real database (never an ephemeral one).

The URL comes from the environment variable named by ``[tool.contribkit] database_url_env``,
else ``default_database_url`` (``{user_data_dir}`` expands to the platform's user data folder).
Destructive commands describe what they will do and act only when ``yes`` is true.
"""

from __future__ import annotations

import io
import os
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError
from sqlalchemy.engine import make_url

from contribkit.core.config import ProjectConfig
from contribkit.core.errors import (
    CheckFailed,
    ContribkitError,
    InterruptedWithChanges,
    UsageError,
    one_line,
)
from contribkit.databases.asyncdrivers import bridged
from contribkit.databases.dialects import dialect_named
from contribkit.databases.engines import redact
from contribkit.workflows.migrations import runtime
from contribkit.workflows.migrations.project import project_migrations
from contribkit.workflows.migrations.verify import applied_ddl, kept_note


def database_url(config: ProjectConfig) -> str:
    url = os.environ.get(config.database_url_env) or config.default_database_url
    if not url:
        raise UsageError(
            f"no database configured: set {config.database_url_env} "
            "or [tool.contribkit] default_database_url."
        )
    if "{user_data_dir}" in url:
        import platformdirs

        url = url.replace("{user_data_dir}", platformdirs.user_data_dir().replace("\\", "/"))
    return url


@dataclass
class Target:
    """The real database: its URL, dialect and the migrations that apply to it."""

    url: str
    dialect: str
    migrations: Any

    @property
    def shown(self) -> str:
        return redact(self.url)


def target(config: ProjectConfig) -> Target:
    url = database_url(config)
    try:
        backend = make_url(url).get_backend_name()
    except Exception as exc:
        raise UsageError(
            f"{config.database_url_env} is not a database URL: {redact(url)}."
        ) from exc
    dialect = config.dialect(backend)
    return Target(url, dialect, project_migrations(config, (dialect,)))


def _sqlite_file(t: Target) -> Path | None:
    """The file of a SQLite target; ``None`` for other dialects and in-memory databases."""

    database = make_url(t.url).database
    if not dialect_named(t.dialect).database_is_a_file or not database or database == ":memory:":
        return None
    return Path(database).expanduser()


@contextmanager
def _connection(t: Target, *, create: bool = False) -> Iterator[Any]:
    """A connection to the target. Only ``create`` (upgrade) may make a missing SQLite file:
    for any other command a mistyped path must not leave new folders and an empty database."""

    path = _sqlite_file(t)
    if path is not None and create:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif path is not None and not path.exists():
        raise UsageError(
            f"the SQLite database {path} does not exist: fix the URL, or create it with "
            "'contribkit db upgrade' (invoke db.upgrade)."
        )
    engine = t.migrations.engine(t.url)
    try:
        try:
            connection = engine.connect()
        except sa.exc.DBAPIError as exc:
            raise UsageError(f"cannot reach the database {t.shown}: {one_line(exc)}.") from exc
        with connection:
            yield connection
    finally:
        engine.dispose()


def _run(t: Target, action: Callable[[Any], Any], *, create: bool = False) -> Any:
    with _connection(t, create=create) as connection, applied_ddl(connection) as applied:
        config = t.migrations.alembic_config(t.dialect, connection=connection)
        try:
            with runtime.env_py_run(connection):
                return action(config)
        except CommandError as exc:
            raise UsageError(f"{t.dialect} database {t.shown}: {exc}".rstrip(".") + ".") from exc
        except sa.exc.DBAPIError as exc:
            # Transactional DDL rolls the failed revision back; MySQL keeps its DDL.
            kept = "" if dialect_named(t.dialect).transactional_ddl else kept_note(applied)
            hint = KEPT_HINT if kept else ""
            raise CheckFailed(
                f"{t.dialect} database {t.shown}: {one_line(exc)}{kept}{hint}."
            ) from exc
        except BaseException as exc:  # the revision's own error, or Ctrl-C/SIGTERM
            kept = "" if dialect_named(t.dialect).transactional_ddl else kept_note(applied)
            if not kept or isinstance(exc, ContribkitError):
                raise
            if isinstance(exc, KeyboardInterrupt):
                raise InterruptedWithChanges(
                    f"interrupted: {t.dialect} database {t.shown}{kept}{KEPT_HINT}."
                ) from exc
            where = _revision_frame(exc, t.migrations.folder)
            raise CheckFailed(
                f"{t.dialect} database {t.shown}: {where}{type(exc).__name__}: "
                f"{one_line(exc)}{kept}{KEPT_HINT}."
            ) from exc


KEPT_HINT = " (undo them by hand before upgrading again)"


def _revision_frame(exc: BaseException, folder: Path) -> str:
    """``file.py:line: `` of the innermost frame in the migrations folder (empty if none)."""

    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if Path(f.filename).resolve().is_relative_to(folder.resolve())
    ]
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno}: " if frames else ""


def current_revision(t: Target) -> str | None:
    with _connection(t) as connection:
        try:
            rev = MigrationContext.configure(connection).get_current_revision()
        except sa.exc.DBAPIError as exc:  # a file that is not a database, a table we cannot read
            raise UsageError(
                f"cannot read the revision of {t.shown}: {one_line(exc)}: is it the right database?"
            ) from exc
    if rev is not None:
        script = t.migrations.script(t.dialect)
        if rev not in {r.revision for r in script.walk_revisions()}:
            raise UsageError(
                f"the database {t.shown} is at revision {rev}, which no {t.dialect} migration "
                "knows: check out the branch that made it, or 'stamp' it if you know better."
            )
    return rev


@bridged
def status(
    config: ProjectConfig, *, missing_ok: bool = False
) -> tuple[Target, str | None, str | None]:
    """(target, current revision, head revision). ``missing_ok``: a SQLite file that does not
    exist yet counts as an empty database (not created), for callers with their own hint."""
    t = target(config)
    path = _sqlite_file(t)
    missing = missing_ok and path is not None and not path.exists()
    current = None if missing else current_revision(t)
    return t, current, t.migrations.single_head(t.dialect)


@bridged
def describe_status(config: ProjectConfig) -> str:
    """``<url>: <revision> (up to date | head is <rev>)``."""
    t, current, head = status(config)
    state = "up to date" if current == head else f"head is {head or 'base'}"
    return f"{t.shown}: {current or 'base'} ({state})"


@bridged
def upgrade(config: ProjectConfig, revision: str = "head", dry_run: bool = False) -> str:
    """Upgrade (or, with ``dry_run``, print the SQL that would run); returns a summary line."""

    t = target(config)
    path = _sqlite_file(t)
    current = None if path is not None and not path.exists() else current_revision(t)
    if dry_run:
        buffer = io.StringIO()
        offline = t.migrations.alembic_config(t.dialect, output=buffer)
        with runtime.logging_kept():
            command.upgrade(offline, f"{current}:{revision}" if current else revision, sql=True)
        return buffer.getvalue()
    _run(t, lambda cfg: command.upgrade(cfg, revision), create=True)
    return f"{t.shown} upgraded to {current_revision(t) or 'base'}"


def _relative_steps(revision: str) -> int | None:
    """How many revisions ``-N`` undoes (``None``: ``revision`` is not relative)."""
    if not revision.startswith("-"):
        return None
    if not revision[1:].isdigit() or int(revision[1:]) == 0:
        raise UsageError(
            f"cannot downgrade by {revision!r}: give -1 or more, a revision id, or base."
        )
    return int(revision[1:])


def downgrade_plan(
    config: ProjectConfig, revision: str = "-1"
) -> tuple[Target, str | None, list[str]]:
    """(target, its current revision, the revisions a downgrade to ``revision`` undoes)."""
    steps = _relative_steps(revision)
    t, current, _ = status(config)
    if current is None:
        return t, None, []
    script = t.migrations.script(t.dialect)
    if steps is not None:
        chain = list(script.iterate_revisions(current, "base"))
        if steps > len(chain):
            raise UsageError(
                f"{t.shown} is {len(chain)} revision(s) above base: {revision} would go past "
                "it; give -r base to undo them all."
            )
        chain = chain[:steps]
    else:
        from alembic.script.revision import RevisionError

        try:
            chain = list(script.iterate_revisions(current, revision))
        except RevisionError as exc:
            raise UsageError(f"cannot downgrade {t.shown} to {revision!r}: {exc}") from exc
        chain = [r for r in chain if r.revision != revision]
    return t, current, [f"{r.revision}  {r.doc}" for r in chain]


@bridged
def downgrade(config: ProjectConfig, revision: str = "-1", *, yes: bool) -> str:
    t, current, plan = downgrade_plan(config, revision)
    if current is None:
        return f"{t.shown} is at base: nothing to downgrade"
    if not plan:
        return f"{t.shown} is at {current}, not above {revision}: nothing to downgrade"
    if not yes:
        raise UsageError(
            f"this would undo {len(plan)} revision(s) on {t.shown} ({'; '.join(plan)}): "
            "rerun with -y to do it."
        )
    _run(t, lambda cfg: command.downgrade(cfg, revision))
    return f"{t.shown} downgraded to {current_revision(t) or 'base'}"


@bridged
def stamp(config: ProjectConfig, revision: str) -> str:
    t = target(config)
    _run(t, lambda cfg: command.stamp(cfg, revision))
    return f"{t.shown} stamped at {revision}"


@bridged
def reset(config: ProjectConfig, *, yes: bool) -> str:
    """Drop every table (and PostgreSQL enum type), then upgrade to head: all rows are deleted.

    Dropping rather than downgrading also repairs a database whose tables and recorded revision
    disagree, which is when a developer most often reaches for reset.
    """

    t = target(config)
    if not yes:
        raise UsageError(f"this deletes every table and row in {t.shown}: rerun with -y to do it.")

    with _connection(t) as connection:
        try:
            _drop_everything(connection)
        except sa.exc.DBAPIError as exc:
            raise UsageError(
                f"cannot reset {t.shown}: {one_line(exc)}: is it the right database?"
            ) from exc
    _run(t, lambda cfg: command.upgrade(cfg, "head"))
    return f"{t.shown} reset to {current_revision(t) or 'base'}"


def _drop_everything(connection: Any) -> None:
    reflected = sa.MetaData()
    reflected.reflect(connection)
    reflected.drop_all(connection)
    if dialect_named(connection.dialect.name).native_enum_types:  # drop_all leaves them
        for enum in sa.inspect(connection).get_enums():
            connection.execute(sa.text(f'DROP TYPE IF EXISTS "{enum["name"]}"'))
    connection.commit()
