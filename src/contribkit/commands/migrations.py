"""``init``, ``migrate``, ``check``, ``rebase`` and ``baseline``: the migration commands.

Each command imports its workflow when it runs: ``contribkit --help`` and ``invoke --list``
load this module, and must not pay for SQLAlchemy and Alembic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contribkit.commands.spec import Result, shown

if TYPE_CHECKING:
    from contribkit.core.config import ProjectConfig


def init(config: ProjectConfig) -> Result:
    from contribkit.workflows.scaffold import init_project

    result = Result()
    for path in init_project(config):
        result.ok(f"wrote {shown(config, path)}")
    return result


def migrate(
    config: ProjectConfig,
    message: str | None,
    dialect: str | None,
    allow_destructive: bool,
    require_rows: bool,
    check: bool,
    no_cache: bool,
    amend: bool,
) -> Result:
    if check:
        return check_migrations(config, dialect, no_cache)
    from contribkit.workflows.migrations.migrate import migrate as generate

    written = generate(
        config,
        message or "",
        dialect=dialect,
        allow_destructive=allow_destructive,
        require_rows=require_rows,
        cache=not no_cache,
        amend=amend,
    )
    result = Result()
    for path in written.written:
        result.ok(f"wrote {shown(config, path)}")
    if written.notes is not None:
        result.ok(f"updated {shown(config, written.notes)}")
    return result


def check_migrations(config: ProjectConfig, dialect: str | None, no_cache: bool) -> Result:
    from contribkit.workflows.migrations.check import check as run_check

    run_check(config, dialect, cache=not no_cache)  # prints its progress; raises on a problem
    return Result()


def rebase(config: ProjectConfig, onto: str | None, ours: tuple[str, ...] | None) -> Result:
    from contribkit.workflows.migrations.rebase import rebase as run_rebase

    done = run_rebase(config, onto, ours or ())
    result = Result()
    for path in done.written:
        result.ok(f"wrote {shown(config, path)}")
    if done.notes is not None:
        result.ok(f"updated {shown(config, done.notes)}")
    if done.written:
        result.info("next: git add the rebased files (and the old names' removal), then commit")
    return result


def baseline(config: ProjectConfig, dialect: str | None, no_cache: bool) -> Result:
    from contribkit.workflows.migrations.check import write_baseline

    path, _ = write_baseline(config, dialect, cache=not no_cache)
    return Result().ok(f"wrote {shown(config, path)}")
