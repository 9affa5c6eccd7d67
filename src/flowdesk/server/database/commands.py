"""``flowdesk server database ...``: Alembic against the configured database.

The database is ``$FLOWDESK_DATABASE_URL``, else the default SQLite file (:mod:`flowdesk.settings`),
and its dialect picks the history it is migrated with (``versions/<dialect>/``). Each command
returns the line to print. Destructive ones (downgrade, reset) say what they would do and act
only when ``yes`` is true. Only upgrade may create a missing SQLite file: for any other command a
mistyped path must not leave new folders and an empty database behind.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, make_url

from flowdesk.errors import FlowdeskError, MigrationFailed, one_line
from flowdesk.server.database.alembic_env import CONNECTION, DIALECT
from flowdesk.server.database.engine import make_engine, redact
from flowdesk.settings import DATABASE_URL_ENV, DIALECTS, MIGRATIONS, database_url

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

UPGRADE_HINT = "flowdesk server database upgrade -y"


@dataclass(frozen=True)
class Target:
    """The configured database: its URL and the dialect whose migrations apply to it."""

    url: str
    dialect: str

    @property
    def shown(self) -> str:
        """The URL with its password hidden."""
        return redact(self.url)

    @property
    def sqlite_file(self) -> Path | None:
        """The file of a SQLite database; ``None`` for other dialects and in-memory ones."""
        database = make_url(self.url).database
        if self.dialect != "sqlite" or not database or database == ":memory:":
            return None
        return Path(database).expanduser()

    def alembic_config(self, *, connection: Connection | None = None, output: Any = None) -> Config:
        """Alembic's configuration for this dialect's history alone (there is no alembic.ini)."""
        from argparse import Namespace

        from alembic.config import Config

        # quiet: the command prints its own summary line.
        config = Config(output_buffer=output, cmd_opts=Namespace(quiet=True))
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("version_locations", str(MIGRATIONS / "versions" / self.dialect))
        config.set_main_option("path_separator", "os")
        config.attributes[DIALECT] = self.dialect
        if connection is not None:
            config.attributes[CONNECTION] = connection
        return config

    def script(self) -> ScriptDirectory:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self.alembic_config())

    def head(self) -> str | None:
        """The one head revision (``None`` when there are no revisions)."""
        heads = self.script().get_heads()
        if len(heads) > 1:
            raise FlowdeskError(
                f"the {self.dialect} migrations have {len(heads)} heads "
                f"({', '.join(sorted(heads))}): merge them first."
            )
        return heads[0] if heads else None


def target() -> Target:
    url = database_url()
    try:
        backend = make_url(url).get_backend_name()
    except Exception as exc:  # ArgumentError, or ValueError for a port such as 'abc'
        raise FlowdeskError(f"{DATABASE_URL_ENV} is not a database URL: {redact(url)}.") from exc
    if backend not in DIALECTS:
        raise FlowdeskError(
            f"{DATABASE_URL_ENV} names a {backend} database ({redact(url)}): flowdesk runs on "
            f"{', '.join(DIALECTS)}."
        )
    return Target(url, backend)


@contextmanager
def _connected(t: Target, *, create: bool = False) -> Iterator[Connection]:
    from sqlalchemy.pool import NullPool

    path = t.sqlite_file
    if path is not None and create:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif path is not None and not path.exists():
        raise FlowdeskError(
            f"the SQLite database {path} does not exist: fix the URL, or create it with "
            f"'{UPGRADE_HINT}'."
        )
    # NullPool: each command's connections are new, so nothing a revision set outlives it.
    engine = make_engine(t.url, poolclass=NullPool)
    try:
        try:
            connection = engine.connect()
        except sa.exc.DBAPIError as exc:
            raise FlowdeskError(f"cannot reach the database {t.shown}: {one_line(exc)}.") from exc
        with connection:
            yield connection
    finally:
        engine.dispose()


@contextmanager
def _reported(t: Target) -> Iterator[None]:
    """Alembic's and the database's errors as one line naming the database."""
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    try:
        yield
    except (CommandError, RevisionError) as exc:  # an unknown revision, say
        raise FlowdeskError(f"{t.dialect} database {t.shown}: {exc}".rstrip(".") + ".") from exc
    except sa.exc.DBAPIError as exc:
        raise MigrationFailed(f"{t.dialect} database {t.shown}: {one_line(exc)}.") from exc


def _run(t: Target, action: Callable[[Config], object], *, create: bool = False) -> None:
    """``action`` (an ``alembic.command``) on a connection of ours, which env.py migrates."""
    with _connected(t, create=create) as connection, _reported(t):
        action(t.alembic_config(connection=connection))


def current_revision(t: Target) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with _connected(t) as connection:
        rev = MigrationContext.configure(connection).get_current_revision()
    if rev is not None and rev not in {r.revision for r in t.script().walk_revisions()}:
        raise FlowdeskError(
            f"the database {t.shown} is at revision {rev}, which no {t.dialect} migration "
            "knows: check out the branch that made it, or 'stamp' it if you know better."
        )
    return rev


def status(*, missing_ok: bool = False) -> tuple[Target, str | None, str | None]:
    """(target, current revision, head revision). ``missing_ok``: a SQLite file that does not
    exist yet counts as an empty database (and is not created), for callers with their own
    hint."""
    t = target()
    path = t.sqlite_file
    missing = missing_ok and path is not None and not path.exists()
    return t, None if missing else current_revision(t), t.head()


def require_head() -> Target:
    """The target, if it is reachable and fully migrated: the server and worker need both."""
    t, current, head = status(missing_ok=True)
    if current != head:
        raise FlowdeskError(
            f"the database {t.shown} is at revision {current or 'base (empty)'}, "
            f"not at head {head}: run '{UPGRADE_HINT}' first."
        )
    return t


def describe() -> str:
    """``<url>: <revision> (up to date | head is <rev>)``."""
    t, current, head = status()
    state = "up to date" if current == head else f"head is {head or 'base'}"
    return f"{t.shown}: {current or 'base'} ({state})"


def upgrade(revision: str = "head", *, dry_run: bool = False) -> str:
    """Upgrade to ``revision``; with ``dry_run``, the SQL that would run instead."""
    from alembic import command

    t = target()
    path = t.sqlite_file
    current = None if path is not None and not path.exists() else current_revision(t)
    if dry_run:
        buffer = io.StringIO()
        with _reported(t):
            span = f"{current}:{revision}" if current else revision
            command.upgrade(t.alembic_config(output=buffer), span, sql=True)
        return buffer.getvalue()
    _run(t, lambda config: command.upgrade(config, revision), create=True)
    return f"{t.shown} upgraded to {current_revision(t) or 'base'}"


def downgrade_plan(revision: str = "-1") -> tuple[Target, list[str]]:
    """The revisions a downgrade to ``revision`` would undo, newest first."""
    t, current, _ = status()
    if current is None:
        return t, []
    script = t.script()
    with _reported(t):
        steps = revision[1:] or "1"  # Alembic's relative form: "-2" undoes two revisions
        if revision.startswith("-") and steps.isdigit():
            chain = list(script.iterate_revisions(current, "base"))[: int(steps)]
        else:
            chain = [
                r for r in script.iterate_revisions(current, revision) if r.revision != revision
            ]
    return t, [f"{r.revision}  {r.doc}" for r in chain]


def downgrade(revision: str = "-1", *, yes: bool) -> str:
    from alembic import command

    t, plan = downgrade_plan(revision)
    if not plan:
        return f"{t.shown} is at base: nothing to downgrade"
    if not yes:
        raise FlowdeskError(
            f"this would undo {len(plan)} revision(s) on {t.shown} ({'; '.join(plan)}): "
            "rerun with -y to do it."
        )
    _run(t, lambda config: command.downgrade(config, revision))
    return f"{t.shown} downgraded to {current_revision(t) or 'base'}"


def stamp(revision: str) -> str:
    """Record ``revision`` without running any migration."""
    from alembic import command

    t = target()
    _run(t, lambda config: command.stamp(config, revision))
    return f"{t.shown} stamped at {revision}"


def reset(*, yes: bool) -> str:
    """Drop every table (and PostgreSQL enum type), then upgrade to head: all rows are deleted.

    Dropping rather than downgrading also repairs a database whose tables and recorded revision
    disagree, which is when one most often reaches for reset.
    """
    from alembic import command

    t = target()
    if not yes:
        raise FlowdeskError(
            f"this deletes every table and row in {t.shown}: rerun with -y to do it."
        )
    with _connected(t) as connection, _reported(t):
        _drop_everything(connection)
    _run(t, lambda config: command.upgrade(config, "head"))
    return f"{t.shown} reset to {current_revision(t) or 'base'}"


def _drop_everything(connection: Connection) -> None:
    reflected = sa.MetaData()
    reflected.reflect(connection)
    reflected.drop_all(connection)
    if connection.dialect.name == "postgresql":
        for enum in sa.inspect(connection).get_enums():
            connection.execute(sa.text(f'DROP TYPE IF EXISTS "{enum["name"]}"'))
    connection.commit()
