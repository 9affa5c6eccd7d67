"""The invoke frontend: task list, help, bad input, and argv that stays argv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INVOKE = str(Path(sys.executable).parent / "invoke")


def invoke(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([INVOKE, *args], cwd=cwd, capture_output=True, text=True)


def test_list_shows_every_task_with_help() -> None:
    result = invoke("--list")
    assert result.returncode == 0, result.stderr
    for name in (
        "setup",
        "lint",
        "format",
        "test",
        "lint-versions",
        "migrate",
        "db.upgrade",
        "db.downgrade",
        "db.current",
        "db.stamp",
        "db.reset",
    ):
        assert f"  {name} " in result.stdout, name


def test_every_task_argument_has_help() -> None:
    from contribkit.invoke import namespace

    ns = namespace()
    for name in ns.task_names:
        task = ns[name]
        for argument in task.get_arguments():
            assert argument.help, f"{name} --{argument.name} has no help"


def test_unknown_dialect_is_one_line_and_exit_2() -> None:
    result = invoke("test", "--dialect", "oracle")
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "error: unknown dialect 'oracle': choose one of sqlite, postgresql, mysql "
        "(or 'postgres', 'mariadb')."
    )


def test_shell_metacharacters_stay_inside_one_argument(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    result = invoke("migrate", "-m", f"x; touch {marker}")
    assert result.returncode == 2
    assert "contains" in result.stderr
    assert not marker.exists()


def test_invoke_test_runs_pytest_on_one_file_and_pattern() -> None:
    result = invoke(
        "test",
        "--dialect",
        "postgres",
        "-p",
        "tests/core/test_config.py",
        "-k",
        "postgres_is_an_alias",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_a_task_called_from_python_takes_positionals_too(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """As a task with a real signature does: ``ns["db.stamp"](c, "head")``."""
    from invoke import Context

    from contribkit.invoke import namespace
    from contribkit.workflows.migrations import realdb

    seen: dict[str, str] = {}
    monkeypatch.setattr(realdb, "stamp", lambda config, revision: seen.setdefault("r", revision))
    monkeypatch.chdir(ROOT)
    namespace()["db.stamp"](Context(), "head")
    assert seen == {"r": "head"}
