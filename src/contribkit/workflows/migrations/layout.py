"""Where a project's migrations live and how Alembic is pointed at one dialect of them.

Two layouts, one code path: the layout only decides which folder a dialect's history is in::

    <migrations>/env.py, script.py.mako
    <migrations>/versions/<dialect>/YYYY_MM_DD_HHMMSS_<rev>_<slug>.py    per-dialect (Prefect)
    <migrations>/versions/YYYY_MM_DD_HHMMSS_<rev>_<slug>.py              shared (Airflow, MLflow)

Per-dialect, each dialect is its own linear history; shared, every dialect runs the same one.
:class:`Migrations` builds the Alembic ``Config`` that sees exactly one dialect's history.
"""

from __future__ import annotations

import ast
import re
import warnings
from argparse import Namespace
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from contribkit.core import reporting
from contribkit.core.config import KNOWN_DIALECTS, PER_DIALECT, SHARED
from contribkit.core.errors import UsageError
from contribkit.databases.dialects import dialect_named
from contribkit.databases.engines import create_engine
from contribkit.databases.throwaway import ephemeral_database
from contribkit.workflows.migrations import filenames, runtime
from contribkit.workflows.migrations.revisionfile import source

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory


SLUG_LENGTH = 60
#: What to do about a history with several heads, which ``check`` and ``migrate`` both say.
SEVERAL_HEADS = (
    "two branches each added revisions: run 'contribkit rebase' to put this branch's after "
    "the other's (or 'alembic merge heads' for that dialect where both are released)"
)


@dataclass(frozen=True)
class Migrations:
    """One project's migrations folder (or a staged copy of it)."""

    folder: Path
    metadata: Any = None
    #: :data:`~contribkit.core.config.PER_DIALECT` or :data:`~contribkit.core.config.SHARED`.
    layout: str = PER_DIALECT
    exclude_tables: frozenset[str] = frozenset()
    #: Dialect → driver for throw-away databases (the project's own, e.g. ``asyncpg``).
    drivers: dict[str, str] = field(default_factory=dict)
    transactional_ddl: bool = False
    #: New revisions guard each operation by existence (``guarded``; :mod:`guards`).
    guarded: bool = False
    #: Dialect → the isolation level revisions run in (``AUTOCOMMIT``), else the driver's.
    isolation_levels: dict[str, str] = field(default_factory=dict)
    #: Where proven database states are kept between runs (:mod:`snapshots`); ``None``: off.
    snapshots: Path | None = None
    #: Tables an empty database gets before the first revision (``base_schema``), or ``None``.
    base_metadata: Any = None
    #: Dialect → (revision, MetaData or set-up command): where that dialect's databases start.
    starts: Mapping[str, tuple[str, Any]] = field(default_factory=dict)
    #: The project's ``seed_rows``: table → ``factory(n)`` giving some of its columns' values.
    row_factories: Mapping[str, Any] = field(default_factory=dict)
    #: How new revision files are named (:mod:`filenames`): the project's own, or contribkit's.
    file_template: str = filenames.DEFAULT_TEMPLATE
    #: Module attributes new revisions set (``revision_attributes``: name → value).
    revision_attributes: Mapping[str, object] = field(default_factory=dict)

    def ephemeral_database(self, dialect: str) -> AbstractContextManager[str]:
        """A throw-away database of ``dialect`` on the project's driver for it."""

        return ephemeral_database(dialect, self.drivers.get(dialect))

    def engine(self, url: str) -> Any:
        """An engine for ``url`` with the project's SQLite transaction style.

        SQLite: a new connection for each use, so ``PRAGMA foreign_keys=ON`` is back in force
        after a revision switched it off. Others: one connection kept and reused, since
        connecting costs more than a step of a check; it goes back to the pool as a new session
        would be (settings reset, temporary tables dropped) and prepares no statements, whose
        cached plans a revision's type change would break.
        """

        try:
            parsed = make_url(url)
            backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
        except Exception:  # create_engine says, in one line, what is wrong with the URL
            backend, driver = "sqlite", ""
        facts = dialect_named(backend)
        level = self.isolation_levels.get(facts.name or backend)
        isolation = {"isolation_level": level} if level else {}
        if facts.database_is_a_file:
            return create_engine(
                url, poolclass=NullPool, transactional_ddl=self.transactional_ddl, **isolation
            )
        unprepared = _UNPREPARED.get(driver, {})
        engine = create_engine(url, pool_size=1, connect_args=unprepared, **isolation)
        if facts.session_reset:
            import sqlalchemy as sa

            sa.event.listen(engine, "checkin", partial(_as_new_session, facts.session_reset))
        return engine

    def start(self, dialect: str) -> tuple[str, Any] | None:
        """The revision ``dialect``'s databases start at and what makes them (a frozen
        MetaData, or a :class:`~contribkit.workflows.migrations.setupcommand.SetUpCommand`),
        or ``None``: they start empty, at base."""
        return self.starts.get(dialect)

    def walked(self, dialect: str, revisions: list[Any]) -> list[Any]:
        """The revisions of ``revisions`` (oldest first) that run on ``dialect``'s databases:
        those after its start revision."""
        start = self.start(dialect)
        if start is None:
            return revisions
        ids = [rev.revision for rev in revisions]
        if start[0] not in ids:
            raise UsageError(
                f"start: {dialect} starts at revision {start[0]}, which its history lacks: "
                "name one of its revision ids."
            )
        return revisions[ids.index(start[0]) + 1 :]

    def driver(self, dialect: str) -> str:
        """The driver ``dialect``'s throw-away databases are reached through."""

        return self.drivers.get(dialect) or dialect_named(dialect).default_driver

    def versions(self, dialect: str) -> Path:
        """The folder of ``dialect``'s history (the same one for every dialect when shared)."""
        if self.layout == SHARED:
            return self.folder / "versions"
        return self.folder / "versions" / dialect

    @property
    def shared(self) -> bool:
        return self.layout == SHARED

    def ensure_exists(self, dialects: tuple[str, ...]) -> None:
        """A missing folder is a set-up step the user has not done yet: say which."""
        env = self.folder / "env.py"
        if not env.is_file():
            raise UsageError(
                f"no migrations folder at {self.folder} (env.py missing): run 'contribkit init'."
            )
        # Whether env.py uses the connection contribkit passes is seen at run time, before any
        # revision runs (runtime.env_py_run): a helper of the project's own may
        # be what reads config.attributes.
        text = env.read_text(encoding="utf-8")
        if "contribkit.migrations.runtime" in text:  # written by `contribkit init` before 0.2
            raise UsageError(
                f"{env} imports contribkit.migrations.runtime, which is now contribkit.env: "
                "change that import to 'from contribkit.env import run_env'."
            )
        if "contribkit.workflows.migrations.runtime import run_env" in text:  # 0.2 and 0.3
            reporting.warn(
                f"{env} imports run_env from contribkit.workflows.migrations.runtime, which "
                "goes in contribkit 0.5: import it with 'from contribkit.env import run_env'"
            )
        _require_python(env, text)
        for dialect in dialects:
            if not self.versions(dialect).is_dir():
                whose = "" if self.shared else f"{dialect} "
                raise UsageError(
                    f"no {whose}migrations at {self.versions(dialect)}: run 'contribkit init'."
                )

    def alembic_config(
        self,
        dialect: str,
        *,
        connection: Any = None,
        created: datetime | None = None,
        naming: Mapping[str, object] | None = None,
        output: Any = None,
    ) -> Config:
        """An Alembic ``Config`` for ``dialect`` alone, with contribkit's context options.

        ``created``: the time a new revision file's name carries, for a config that writes
        one; ``naming``: the values of the file template's tokens of contribkit's
        (:mod:`filenames`)."""

        # quiet: contribkit prints its own status lines; Alembic's would name staging paths.
        config = Config(runtime.LOGGING_INI, output_buffer=output, cmd_opts=Namespace(quiet=True))
        config.set_main_option("script_location", str(self.folder))
        config.set_main_option("version_locations", str(self.versions(dialect)))
        config.set_main_option("path_separator", "os")
        config.set_main_option("truncate_slug_length", str(SLUG_LENGTH))
        if created is not None:
            template = filenames.for_alembic(self.file_template, created, naming or {})
            config.set_main_option("file_template", template)
        config.set_main_option("contribkit.dialect", dialect)
        config.attributes[runtime.ATTR_DIALECT] = dialect
        config.attributes[runtime.ATTR_EXCLUDE] = self.exclude_tables
        if self.metadata is not None:
            config.attributes[runtime.ATTR_METADATA] = self.metadata
        if connection is not None:
            config.attributes[runtime.ATTR_CONNECTION] = connection
        return config

    def script(self, dialect: str) -> ScriptDirectory:
        """The dialect's revisions, loaded: a history Alembic only warns about (an id in two
        files, a ``down_revision`` no file has) is refused here, before anything runs on it."""

        script = ScriptDirectory.from_config(self.alembic_config(dialect))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                script.revision_map.heads  # noqa: B018 - builds the map, importing every file
            except KeyError:  # after its warning, Alembic fails on the missing parent
                for warning in caught:
                    _refuse_broken_history(dialect, str(warning.message))
                raise
        for warning in caught:
            _refuse_broken_history(dialect, str(warning.message))
        for revision in script.revision_map.iterate_revisions(script.get_heads(), "base"):
            _refuse_undecodable(dialect, Path(revision.module.__file__ or ""))
        return script

    def single_head(self, dialect: str) -> str | None:
        """The one head revision of ``dialect`` (``None`` when it has no revisions yet)."""
        heads = self.script(dialect).get_heads()
        if len(heads) > 1:
            raise UsageError(
                f"{dialect} migrations have {len(heads)} heads ({', '.join(sorted(heads))}): "
                f"{SEVERAL_HEADS}."
            )
        return heads[0] if heads else None


#: Connection arguments that turn a driver's prepared-statement cache off.
_UNPREPARED: dict[str, dict[str, Any]] = {
    "psycopg": {"prepare_threshold": None},
    "asyncpg": {"prepared_statement_cache_size": 0},
}


def _as_new_session(statements: tuple[str, ...], dbapi_connection: Any, record: Any) -> None:
    """Pool check-in: what a revision set or created for its session does not outlive it
    (``statements``: the dialect's :attr:`~contribkit.databases.dialects.Dialect.session_reset`)."""
    try:
        cursor = dbapi_connection.cursor()
        for statement in statements:
            cursor.execute(statement)
        cursor.close()
        dbapi_connection.commit()
    except Exception:  # the connection is broken or busy: never hand it out again
        record.invalidate()


def _require_python(env: Path, text: str) -> None:
    try:
        ast.parse(text)
    except SyntaxError as exc:
        raise UsageError(f"{env} is not valid Python: {exc.msg} (line {exc.lineno}).") from exc


def project_layout(folder: Path, configured: str | None) -> str:
    """The layout ``folder`` holds: the configured one, else what ``versions/`` holds (revision
    files: shared; a folder named after a dialect: per-dialect), else per-dialect.

    A ``versions/`` that holds both, or contradicts the configured layout, is refused: Alembic
    would see only part of the history, and a revision written there would be lost to the rest.
    """
    versions = folder / "versions"
    dialect_folders = sorted(d for d in KNOWN_DIALECTS if (versions / d).is_dir())
    files = sorted(p.name for p in versions.glob("*.py") if p.name != "__init__.py")
    where = "docs/layouts.md"
    if dialect_folders and files:
        raise UsageError(
            f"{versions} mixes both layouts: revision files ({files[0]}, ...) beside per-dialect "
            f"folders ({', '.join(dialect_folders)}/): keep one ({where})."
        )
    if configured == SHARED and dialect_folders:
        raise UsageError(
            f"layout = 'shared' but {versions} has per-dialect folders "
            f"({', '.join(dialect_folders)}/): set layout = 'per-dialect' or merge them ({where})."
        )
    if configured == PER_DIALECT and files:
        raise UsageError(
            f"layout = 'per-dialect' but {versions} holds revision files ({files[0]}, ...): "
            f"set layout = 'shared' or move them into versions/<dialect>/ ({where})."
        )
    if configured is not None:
        return configured
    return SHARED if files else PER_DIALECT


_DUPLICATE = re.compile(r"^Revision (\S+) is present more than once")
_MISSING = re.compile(r"^Revision (\S+) referenced from (\S+) -> (\S+)")


def _refuse_broken_history(dialect: str, message: str) -> None:
    duplicate = _DUPLICATE.match(message)
    if duplicate:
        raise UsageError(
            f"{dialect}: revision {duplicate.group(1)} is defined by more than one file: "
            "give each file its own revision id."
        )
    missing = _MISSING.match(message)
    if missing:
        raise UsageError(
            f"{dialect}: revision {missing.group(3)} has down_revision {missing.group(1)}, "
            "which no revision file defines: fix its down_revision."
        )


def _refuse_undecodable(dialect: str, path: Path) -> None:
    """Python imports a file with a stray non-UTF-8 byte in a comment, but no tool can read it
    as text: one rule for every command, before anything runs."""
    try:
        stat = path.stat()
    except OSError:  # Alembic loaded it; a file gone since fails where it is used
        return
    problem = _undecodable(str(path), stat.st_size, stat.st_mtime_ns)
    if problem:
        raise UsageError(
            f"{dialect}: {path.name} is not {problem}: save it as UTF-8, or declare its "
            "encoding in a '# -*- coding: ... -*-' line."
        )


@cache  # by size and time: script() runs several times per command, on every file
def _undecodable(path: str, _size: int, _mtime: int) -> str | None:
    try:
        source(Path(path))
    except UnicodeDecodeError as exc:
        line = Path(path).read_bytes()[: exc.start].count(b"\n") + 1
        return f"{exc.encoding.upper()} text (line {line})"
    except (OSError, SyntaxError):  # unreadable or a bad coding line: Alembic said so already
        pass
    return None
