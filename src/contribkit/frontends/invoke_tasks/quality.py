"""Set-up, lint, format and test tasks."""

from __future__ import annotations

from invoke import task

from contribkit.frontends.invoke_tasks._runner import contribkit_errors, project


@task(help={})
@contribkit_errors
def setup(c):  # type: ignore[no-untyped-def]
    """Create .venv from uv.lock with every dev tool and install the git hooks."""
    from contribkit.core.tools import run
    from contribkit.workflows.quality import setup_commands

    for argv in setup_commands():
        run(argv)


@task
@contribkit_errors
def lint(c):  # type: ignore[no-untyped-def]
    """ruff check, ruff format --check and actionlint, with this venv's tools."""
    from contribkit.core.tools import run
    from contribkit.workflows.quality import lint_commands

    for argv in lint_commands():
        run(argv)


@task(name="format")
@contribkit_errors
def format_(c):  # type: ignore[no-untyped-def]
    """Fix what ruff can fix and format every file."""
    from contribkit.core.tools import run
    from contribkit.workflows.quality import lint_commands

    for argv in lint_commands(fix=True):
        run(argv)


@task(
    help={
        "dialect": "sqlite (default) or postgresql/postgres",
        "keyword": "only tests matching this pytest -k expression",
        "path": "a test file or folder (default: the whole suite)",
    },
)
@contribkit_errors
def test(c, dialect=None, keyword=None, path=None):  # type: ignore[no-untyped-def]
    """One quick pytest run in the current venv, on one dialect."""
    from contribkit.core.tools import run
    from contribkit.workflows.quality import pytest_command, test_environment

    env = test_environment(dialect or c.config.tests.dialect)
    run(pytest_command([path] if path else [], keyword=keyword), env=env)


@task(name="lint-versions")
@contribkit_errors
def lint_versions(c):  # type: ignore[no-untyped-def]
    """Print tool==version for every linter pinned in .pre-commit-config.yaml."""
    from contribkit.workflows.lintversions import pinned_requirements

    for requirement in pinned_requirements(project().root):
        print(requirement)


TASKS = (setup, lint, format_, test, lint_versions)
