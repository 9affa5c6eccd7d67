"""The argv of each developer command, built in one place for invoke, nox and the CLI.

Everything is an argument list, never a shell string: a ``-k`` pattern such as ``x; rm -rf ~``
stays one argument to pytest.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from contribkit.config import KNOWN_DIALECTS, normalize_dialect

#: Environment variable telling the test suite which dialect to run its database tests on.
TEST_DIALECT_ENV = "CONTRIBKIT_TEST_DIALECT"


def lint_commands(fix: bool = False) -> list[list[str]]:
    """ruff check and ruff format: checking only, or fixing (``format`` session/task)."""
    ruff = [sys.executable, "-m", "ruff"]
    if fix:
        return [[*ruff, "check", "--fix", "."], [*ruff, "format", "."]]
    return [[*ruff, "check", "."], [*ruff, "format", "--check", "."]]


def pytest_command(
    paths: Sequence[str] = (), *, keyword: str | None = None, extra: Sequence[str] = (),
    workers: int | None = None,
) -> list[str]:  # fmt: skip
    argv = [sys.executable, "-m", "pytest"]
    if workers:
        argv += ["-n", str(workers)]
    if keyword:
        argv += ["-k", keyword]
    return [*argv, *extra, *paths]


def test_environment(dialect: str) -> dict[str, str]:
    """The environment for a test run on ``dialect`` (canonical name, alias accepted)."""
    return {**os.environ, TEST_DIALECT_ENV: normalize_dialect(dialect, KNOWN_DIALECTS)}
