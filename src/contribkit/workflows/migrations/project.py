"""The project's migrations, loaded from its ``[tool.contribkit]``: models, drivers, where each
dialect's databases start, its row factories, its file names, and the state folder where proven
database states are kept between runs (where they can be trusted).

:mod:`layout` holds the :class:`~contribkit.workflows.migrations.layout.Migrations` value
itself; this module makes the project's.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from contribkit.core import reporting
from contribkit.core.config import ProjectConfig
from contribkit.core.errors import UsageError
from contribkit.core.importing import load_metadata, load_row_factories
from contribkit.workflows.migrations import filenames
from contribkit.workflows.migrations.layout import Migrations, project_layout
from contribkit.workflows.migrations.setupcommand import SetUpCommand
from contribkit.workflows.migrations.snapshots import CACHE_FOLDER

#: contribkit's own folder in a project: run-time files only, ignored by git from inside.
STATE_FOLDER = ".contribkit"


def state_folder(root: Path) -> Path:
    """``<root>/.contribkit``, created with the ``.gitignore`` that keeps it out of commits."""
    folder = root / STATE_FOLDER
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# contribkit's run-time files\n*\n", encoding="utf-8")
    return folder


def project_migrations(
    config: ProjectConfig, dialects: tuple[str, ...], *, cache: bool = False
) -> Migrations:
    """The project's migrations with its models loaded; fails early with a one-line reason.

    ``cache``: reuse and keep proven database states in the project's ``.contribkit`` folder."""

    folder = config.require_migrations()
    live = Migrations(
        folder,
        None,
        project_layout(folder, config.layout),
        config.exclude_tables,
        drivers=project_drivers(config),
        transactional_ddl=config.sqlite_transactional_ddl,
        guarded=config.guarded,
        isolation_levels=config.isolation_level,
        snapshots=_cache_folder(config.root) if cache else None,
        file_template=config.file_template
        or filenames.project_template(_alembic_ini(config, folder)),
        revision_attributes=config.revision_attributes,
    )
    live.ensure_exists(dialects)
    base = config.base_schema
    return replace(
        live,
        metadata=load_metadata(config.require_models(), config.root),
        base_metadata=load_metadata(base, config.root, "base_schema") if base else None,
        starts={
            dialect: (revision, _database_maker(config, dialect, made_by, value))
            for dialect, (revision, made_by, value) in config.start.items()
            if dialect in dialects
        },
        row_factories=load_row_factories(config.seed_rows, config.root) if config.seed_rows else {},
    )


def _database_maker(config: ProjectConfig, dialect: str, made_by: str, value: str) -> Any:
    """What makes ``dialect``'s new databases (``start``): a frozen MetaData, or the project's
    own set-up command."""

    key = f"start.{dialect}.{made_by}"
    if made_by == "command":
        return SetUpCommand(value, config.root, key)
    return load_metadata(value, config.root, key)


def _alembic_ini(config: ProjectConfig, folder: Path) -> Path | None:
    """The configured alembic.ini, else one beside pyproject.toml or in the migrations folder."""
    if config.alembic_ini is not None:
        if not config.alembic_ini.is_file():
            raise UsageError(f"alembic_ini = {config.alembic_ini}: no such file.")
        return config.alembic_ini
    found = [p for p in (config.root / "alembic.ini", folder / "alembic.ini") if p.is_file()]
    return found[0] if found else None


def _cache_folder(root: Path) -> Path | None:
    """The project's cache folder, or ``None`` (and a line saying why) where it cannot be
    trusted or written: states that git tracks came from someone else's machine, and a
    read-only checkout still gets a check, only without reuse."""

    folder = root / STATE_FOLDER / CACHE_FOLDER
    linked = [p for p in (folder.parent, folder, *_subfolders(folder)) if p.is_symlink()]
    if linked:
        # A link can lead anywhere: to states another user or checkout can write.
        reporting.info(f"{linked[0]} is a symbolic link: the cache is not used (make it a folder)")
        return None
    try:
        tracked = subprocess.run(
            ["git", "ls-files", "--", str(folder)],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:  # no git: nothing can be tracked
        tracked = ""
    if tracked:
        reporting.info(
            f"{folder} is tracked by git: its states are not used (remove them from git)"
        )
        return None
    try:
        state_folder(root)
    except OSError as exc:
        reporting.info(f"cannot keep states in {folder} ({exc.strerror}): replaying every revision")
        return None
    return folder


def _subfolders(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:
        return []


def project_drivers(config: ProjectConfig) -> dict[str, str]:
    """``[tool.contribkit] drivers``, else the driver named by the project's database URL for
    its dialect (``postgresql+asyncpg://…`` in ``database_url_env`` means asyncpg)."""

    drivers = dict(config.drivers)
    url = os.environ.get(config.database_url_env) or config.default_database_url
    try:
        parsed = make_url(url) if url else None
    except Exception:  # reported by the command that uses the URL
        parsed = None
    if parsed is not None and "+" in parsed.drivername:
        drivers.setdefault(parsed.get_backend_name(), parsed.get_driver_name())
    return drivers
