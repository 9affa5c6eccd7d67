"""``invoke db.*``: Alembic commands against the configured (real) database."""

from __future__ import annotations

from invoke import task

from contribkit.frontends.invoke_tasks._runner import contribkit_errors, project


@task(help={"revision": "target revision (default: head)", "dry_run": "print the SQL only"})
@contribkit_errors
def upgrade(c, revision="head", dry_run=False):  # type: ignore[no-untyped-def]
    """Apply migrations to the configured database."""
    from contribkit.core import console
    from contribkit.workflows.migrations import realdb

    console.info(realdb.upgrade(project(), revision, dry_run=dry_run))


@task(help={"revision": "target revision (default: -1, one step)", "yes": "really do it"})
@contribkit_errors
def downgrade(c, revision="-1", yes=False):  # type: ignore[no-untyped-def]
    """Undo migrations; shows what it would undo unless -y is given."""
    from contribkit.core import console
    from contribkit.workflows.migrations import realdb

    console.info(realdb.downgrade(project(), revision, yes=yes))


@task
@contribkit_errors
def current(c):  # type: ignore[no-untyped-def]
    """Show the database's revision and whether it is at head."""
    from contribkit.core import console
    from contribkit.workflows.migrations import realdb

    console.info(realdb.describe_status(project()))


@task(help={"revision": "revision id, head or base"})
@contribkit_errors
def stamp(c, revision):  # type: ignore[no-untyped-def]
    """Record a revision without running migrations."""
    from contribkit.core import console
    from contribkit.workflows.migrations import realdb

    console.info(realdb.stamp(project(), revision))


@task(help={"yes": "really do it: every row is deleted"})
@contribkit_errors
def reset(c, yes=False):  # type: ignore[no-untyped-def]
    """Drop every table, then upgrade to head: a clean database at the latest revision."""
    from contribkit.core import console
    from contribkit.workflows.migrations import realdb

    console.info(realdb.reset(project(), yes=yes))
