"""The argv of set-up, lint and test, built in one place for invoke tasks and nox sessions.

Everything is an argument list, never a shell string: a ``-k`` pattern such as ``x; rm -rf ~``
stays one argument to pytest. Tools are named bare (``ruff``); :func:`contribkit.core.tools.run`
finds them next to the running interpreter first, so ``invoke lint`` uses the venv's versions.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from contribkit.core.config import KNOWN_DIALECTS, normalize_dialect

#: Environment variable telling the test suite which dialect to run its database tests on.
TEST_DIALECT_ENV = "CONTRIBKIT_TEST_DIALECT"


def lint_commands(fix: bool = False) -> list[list[str]]:
    """ruff check, ruff format and actionlint: checking only, or fixing what can be fixed."""
    if fix:
        return [["ruff", "check", "--fix", "."], ["ruff", "format", "."]]
    return [["ruff", "check", "."], ["ruff", "format", "--check", "."], ["actionlint"]]


#: ``uv sync`` as every install runs it: exactly the lock, with bytecode compiled at install.
#: uv does not compile by default, and a Python run with PYTHONDONTWRITEBYTECODE (as on this
#: project's development machine) then compiles every imported module on every start: 0.75 s per
#: ``contribkit`` command, more than half of ``check``.
UV_SYNC = ("uv", "sync", "--frozen", "--compile-bytecode")


def setup_commands() -> list[list[str]]:
    """Sync ``.venv`` (uv's project environment) to the lock with every dev tool (the ``dev``
    dependency group, uv's default), then install the git hooks. Bytecode is compiled up front
    (see :data:`UV_SYNC`)."""
    return [
        list(UV_SYNC),
        [str(Path(".venv") / "bin" / "pre-commit"), "install"],
    ]


def pytest_command(
    paths: Sequence[str] = (), *, keyword: str | None = None, extra: Sequence[str] = ()
) -> list[str]:
    argv = ["pytest"]
    if keyword:
        argv += ["-k", keyword]
    return [*argv, *extra, *paths]


def test_environment(dialect: str) -> dict[str, str]:
    """Variables for a test run on ``dialect`` (canonical name; aliases accepted)."""
    return {TEST_DIALECT_ENV: normalize_dialect(dialect, KNOWN_DIALECTS)}
