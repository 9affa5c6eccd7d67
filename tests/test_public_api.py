"""The supported imports: five public modules with their ``__all__``, and the old paths that
forward to them with a warning until they go."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PUBLIC = {
    "contribkit.env": {"run_env"},
    "contribkit.testing": {"MigratedDatabases", "ephemeral_database"},
    "contribkit.invoke": {"namespace", "task_for"},
    "contribkit.nox": {"run_tests", "run_lint", "install_locked"},
    "contribkit.cli": {"main"},
}
OLD_PATHS = {
    "contribkit.frontends.testing": ("MigratedDatabases", "contribkit.testing"),
    "contribkit.frontends.invoke_tasks": ("namespace", "contribkit.invoke"),
    "contribkit.frontends.nox_sessions": ("run_tests", "contribkit.nox"),
}


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_each_public_module_names_what_it_offers(name: str) -> None:
    module = importlib.import_module(name)
    assert PUBLIC[name] <= set(module.__all__)
    for attribute in module.__all__:
        assert callable(getattr(module, attribute)), attribute


def fresh_import(statement: str) -> subprocess.CompletedProcess[str]:
    """``statement`` in a new interpreter, where every module is imported for the first time
    and warnings are shown as Python shows them by default."""
    return subprocess.run(
        [sys.executable, "-c", statement], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("old", sorted(OLD_PATHS))
def test_an_old_path_still_works_and_says_where_it_went(old: str) -> None:
    name, new = OLD_PATHS[old]
    result = fresh_import(
        f"from {old} import {name}\nimport {new}\nassert {name} is {new}.{name}\nprint('ok')"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert f"FutureWarning: {old} is now {new}: import it from there" in result.stderr


def test_run_env_from_its_old_path_warns_and_is_the_same_function() -> None:
    result = fresh_import(
        "from contribkit.workflows.migrations.runtime import run_env\n"
        "import contribkit.env\nassert run_env is contribkit.env.run_env\nprint('ok')"
    )
    assert result.returncode == 0, result.stderr
    assert "FutureWarning: contribkit.workflows.migrations.runtime.run_env is now" in result.stderr
    quiet = fresh_import("from contribkit.env import run_env")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_an_unknown_name_of_the_runtime_is_still_an_attribute_error() -> None:
    from contribkit.workflows.migrations import runtime

    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        runtime.nothing_here  # noqa: B018


def test_check_names_the_old_import_in_env_py(sample) -> None:  # type: ignore[no-untyped-def]
    assert sample.cli("init").code == 0
    assert sample.cli("migrate", "-m", "initial", "--dialect", "sqlite").code == 0
    sample.edit(
        "migrations/env.py",
        "from contribkit.env import run_env",
        "from contribkit.workflows.migrations.runtime import run_env",
    )
    outcome = sample.cli("check", "--dialect", "sqlite")
    assert outcome.code == 0, outcome.out + outcome.err
    assert (
        "imports run_env from contribkit.workflows.migrations.runtime, which goes in "
        "contribkit 0.5: import it with 'from contribkit.env import run_env'"
    ) in outcome.out + outcome.err
    # Said once: the warning Python raises for the old name is not summed up again.
    assert "run_env is now contribkit.env.run_env" not in outcome.out + outcome.err
