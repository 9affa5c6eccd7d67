"""``db upgrade|downgrade|current|stamp|reset``: Alembic against the project's real database.

Each command imports its workflow when it runs: ``contribkit --help`` and ``invoke --list``
load this module, and must not pay for SQLAlchemy and Alembic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contribkit.commands.spec import Result

if TYPE_CHECKING:
    from contribkit.core.config import ProjectConfig


def upgrade(config: ProjectConfig, revision: str, dry_run: bool) -> Result:
    from contribkit.workflows.migrations import realdb

    return Result().info(realdb.upgrade(config, revision, dry_run=dry_run))


def downgrade(config: ProjectConfig, revision: str, yes: bool) -> Result:
    from contribkit.workflows.migrations import realdb

    return Result().info(realdb.downgrade(config, revision, yes=yes))


def current(config: ProjectConfig) -> Result:
    from contribkit.workflows.migrations import realdb

    return Result().info(realdb.describe_status(config))


def stamp(config: ProjectConfig, revision: str) -> Result:
    from contribkit.workflows.migrations import realdb

    return Result().info(realdb.stamp(config, revision))


def reset(config: ProjectConfig, yes: bool) -> Result:
    from contribkit.workflows.migrations import realdb

    return Result().info(realdb.reset(config, yes=yes))
