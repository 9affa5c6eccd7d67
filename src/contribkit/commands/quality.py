"""``setup``, ``lint``, ``format``, ``test`` and ``lint-versions``: the contributor's loop.

Each command imports its workflow when it runs: ``contribkit --help`` and ``invoke --list``
load this module, and must not pay for SQLAlchemy and Alembic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contribkit.commands.spec import Result

if TYPE_CHECKING:
    from contribkit.core.config import ProjectConfig


def setup() -> Result:
    from contribkit.core.tools import run
    from contribkit.workflows.quality import setup_commands

    for argv in setup_commands():
        run(argv)
    return Result()


def lint(fix: bool) -> Result:
    from contribkit.core.tools import run
    from contribkit.workflows.quality import lint_commands

    for argv in lint_commands(fix=fix):
        run(argv)
    return Result()


def format_() -> Result:
    return lint(fix=True)


def test(dialect: str, keyword: str | None, path: str | None) -> Result:
    from contribkit.core.tools import run
    from contribkit.workflows.quality import pytest_command, test_environment

    run(pytest_command([path] if path else [], keyword=keyword), env=test_environment(dialect))
    return Result()


def lint_versions(config: ProjectConfig) -> Result:
    from contribkit.workflows.lintversions import pinned_requirements

    return Result().out("".join(f"{line}\n" for line in pinned_requirements(config.root)))
