"""``invoke migrate``: generate, review, verify and record; or ``--check``."""

from __future__ import annotations

from invoke import task

from contribkit.frontends.invoke_tasks._runner import contribkit_errors, project

NO_CACHE_HELP = "replay every revision instead of reusing states an earlier run proved"


@task(
    help={
        "message": "snake_case description of the change, e.g. add_flow_run_new_column",
        "dialect": "one dialect (sqlite, postgresql/postgres) or all (default: all configured)",
        "allow_destructive": "allow drops of tables, columns, indexes and constraints",
        "check": "check every dialect instead: heads, round trips, drift, notes",
        "no_cache": NO_CACHE_HELP,
    }
)
@contribkit_errors
def migrate(c, message=None, dialect=None, allow_destructive=False, check=False, no_cache=False):  # type: ignore[no-untyped-def]
    """Write one verified migration per dialect for the models' pending changes."""
    from contribkit.core import console

    config = project()
    if check:
        from contribkit.workflows.migrations.check import check as run_check

        run_check(config, dialect, cache=not no_cache)
        return
    from contribkit.workflows.migrations.migrate import migrate as run_migrate

    result = run_migrate(
        config,
        message or "",
        dialect=dialect,
        allow_destructive=allow_destructive,
        cache=not no_cache,
    )
    console.report_written(config.root, result.written, result.notes)


@task(
    help={
        "dialect": "one dialect (sqlite, postgresql/postgres) or all (default: all configured)",
        "no_cache": NO_CACHE_HELP,
    }
)
@contribkit_errors
def baseline(c, dialect=None, no_cache=False):  # type: ignore[no-untyped-def]
    """Record what an existing history already gets wrong; the check then fails only on news."""
    from contribkit.core import console
    from contribkit.workflows.migrations.check import write_baseline

    config = project()
    path, _ = write_baseline(config, dialect, cache=not no_cache)
    console.ok(f"wrote {console.shown(config.root, path)}")


TASKS = (migrate, baseline)
