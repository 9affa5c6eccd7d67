"""The one place that configures Alembic's migration context.

A project's ``env.py`` calls :func:`run_project_env` (public as ``contribkit.env.run_env``);
contribkit's own commands go through that same ``env.py`` (via ``alembic.command``) and pass
what they need in ``Config.attributes``. So autogenerate, upgrade, verification and the drift
check all compare with the same options.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import context
from alembic.autogenerate.render import _repr_type
from alembic.runtime.environment import EnvironmentContext
from sqlalchemy.engine import Engine

from contribkit.core.errors import CheckFailed, UsageError
from contribkit.databases.dialects import dialect_named
from contribkit.databases.engines import create_engine
from contribkit.databases.sqlite import revision_transactions
from contribkit.workflows.migrations.storedtypes import stored_type

#: ``Config.config_file_name`` for every Alembic run: a logging-only file that the
#: ``fileConfig(config.config_file_name)`` of Alembic's env.py template accepts.
LOGGING_INI = Path(__file__).with_name("alembic_logging.ini")

#: Keys contribkit puts in ``alembic.config.Config.attributes``.
ATTR_CONNECTION = "connection"
ATTR_METADATA = "target_metadata"
ATTR_DIALECT = "contribkit_dialect"
ATTR_EXCLUDE = "contribkit_exclude_tables"


def context_options(dialect: str, metadata: Any, exclude_tables: frozenset[str] = frozenset()):
    """Options for ``context.configure`` / ``MigrationContext.configure``, shared by every path."""

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any):
        # One policy everywhere: tables the project excludes are invisible to autogenerate,
        # whether they exist in the models, the database, or both.
        table = obj if type_ == "table" else getattr(obj, "table", None)
        table_name = name if type_ == "table" else getattr(table, "name", None)
        return table_name not in exclude_tables

    def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
        # Each dialect has its own files, so a type is written as what that dialect stores (see
        # storedtypes): Alembic's repr of a variant does not even import cleanly, and of a
        # project's TypeDecorator it would make the revision import the project.
        if type_ != "type":
            return False

        stored = stored_type(obj, autogen_context.dialect)
        return False if stored is obj else _repr_type(stored, autogen_context)

    return {
        "target_metadata": metadata,
        "render_item": render_item,
        "compare_type": True,
        "include_object": include_object,
        # SQLite cannot ALTER most things: batch mode rebuilds the table.
        "render_as_batch": dialect_named(dialect).alters_by_rebuild,
        # Each revision in its own transaction: all or nothing, on SQLite too (see
        # contribkit.databases.sqlite.revision_transactions).
        "transaction_per_migration": True,
    }


@contextmanager
def env_py_run(connection: Any, directives: Any = None) -> Iterator[None]:
    """Around a run of the project's env.py on ``connection``: it is stopped as it configures
    Alembic on any other connection (one of its own choosing, which could be the user's real
    database), and the logging it sets up does not outlive it. ``directives``: contribkit's
    ``process_revision_directives``, which runs after the project's own (if any)."""
    with _configure_checked(connection, directives), logging_kept():
        yield


@contextmanager
def _configure_checked(connection: Any, directives: Any) -> Iterator[None]:
    """``EnvironmentContext.configure`` checks the connection it was given. Checked there, not
    where the first revision starts, because Alembic creates its version table in between: on
    the wrong database, nothing at all is written.

    It also puts ``directives`` after the project's own hook. Alembic runs the one given to
    ``command.revision`` first; a project's hook that filters operations or derives the
    downgrade from the upgrade (``reverse_into``) would then undo what contribkit added, or
    fail on it."""

    original = EnvironmentContext.configure

    def configure(self: Any, *args: Any, **kwargs: Any) -> None:
        if directives is not None:
            kwargs["process_revision_directives"] = _after(
                kwargs.get("process_revision_directives"), directives
            )
        original(self, *args, **kwargs)
        if self.get_context().connection is not connection:
            raise UsageError(
                "env.py connected to a database of its own instead of using the connection "
                "contribkit passes in config.attributes['connection']: nothing was migrated; add "
                "the Alembic cookbook's lines (docs/adopting.md)."
            )

    EnvironmentContext.configure = configure  # type: ignore[method-assign]
    try:
        yield
    finally:
        EnvironmentContext.configure = original  # type: ignore[method-assign]


def _after(own: Any, last: Any) -> Any:
    """A ``process_revision_directives`` hook: the project's ``own``, then ``last``.

    The Alembic cookbook's hook drops a revision autogenerate found empty; contribkit's still
    compares what autogenerate does not (server defaults, CHECK constraints …) and drops it
    itself when nothing differs. A revision the project's hook drops with operations in it is
    refused: "nothing to do" would not be true."""

    def hook(context: Any, revision: Any, scripts: list[Any]) -> None:
        made = list(scripts)
        if own is not None:
            own(context, revision, scripts)
        if not scripts and made:
            if not all(script.upgrade_ops.is_empty() for script in made):
                raise CheckFailed(
                    "env.py's process_revision_directives dropped the revision autogenerate "
                    "made, so nothing was written or verified: let it keep a revision that "
                    "holds operations."
                )
            scripts[:] = made
        if scripts:
            last(context, revision, scripts)

    return hook


@contextmanager
def logging_kept() -> Iterator[None]:
    """The logging env.py configures (``fileConfig`` switches off every logger it does not
    name) does not outlive it, so a test process or a frontend logs as before."""
    root = logging.getLogger()
    level, handlers = root.level, root.handlers[:]
    loggers = [obj for obj in root.manager.loggerDict.values() if isinstance(obj, logging.Logger)]
    disabled = {logger: logger.disabled for logger in loggers}
    try:
        yield
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers
        for logger, was in disabled.items():
            logger.disabled = was


def run_project_env() -> None:
    """Body of a contribkit-managed ``env.py`` (public as :func:`contribkit.env.run_env`): run
    migrations online or render them offline."""

    config = context.config
    attrs = config.attributes
    dialect = attrs.get(ATTR_DIALECT) or config.get_main_option("contribkit.dialect") or "sqlite"
    metadata = attrs.get(ATTR_METADATA)
    if metadata is None:
        from contribkit.core.config import load_config
        from contribkit.core.importing import load_metadata

        project = load_config()
        metadata = load_metadata(project.require_models(), project.root)
        attrs.setdefault(ATTR_EXCLUDE, project.exclude_tables)
    options = context_options(dialect, metadata, frozenset(attrs.get(ATTR_EXCLUDE, ())))

    if context.is_offline_mode():
        context.configure(dialect_name=dialect, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return

    connectable = attrs.get(ATTR_CONNECTION)
    if isinstance(connectable, Engine):  # as pytest-alembic passes it: it stays the caller's
        with connectable.connect() as connection:
            _run_online(context, connection, options)
        return
    if connectable is not None:
        _run_online(context, connectable, options)
        return

    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as connection:
            _run_online(context, connection, options)
    finally:
        engine.dispose()


def _run_online(context: Any, connection: Any, options: dict[str, Any]) -> None:
    with revision_transactions(connection) as on_version_apply:
        context.configure(connection=connection, on_version_apply=on_version_apply, **options)
        with context.begin_transaction():
            context.run_migrations()
        if connection.in_transaction():
            connection.commit()


#: How the warning of :func:`__getattr__` starts (``check`` and ``migrate`` say it in their own
#: line, naming the env.py: see ``Migrations.ensure_exists``).
OLD_RUN_ENV_WARNING = "contribkit.workflows.migrations.runtime.run_env is now"


def __getattr__(name: str) -> Any:
    """``run_env`` from here: the path env.py files of contribkit 0.2 and 0.3 import, until 0.5."""
    if name == "run_env":
        import warnings

        warnings.warn(
            f"{OLD_RUN_ENV_WARNING} contribkit.env.run_env: import it from there in env.py "
            "(this path goes in contribkit 0.5)",
            FutureWarning,
            stacklevel=2,
        )
        return run_project_env
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
