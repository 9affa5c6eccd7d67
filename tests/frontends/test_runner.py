"""How a run ends: one line and its exit code, and an interrupt recognised behind cleanup errors."""

from __future__ import annotations

import pytest

from contribkit.core.errors import CheckFailed, UsageError
from contribkit.frontends.runner import INTERRUPTED, run


def interrupted_then_cleanup_failed(wrap: bool) -> None:
    """What a driver does when Ctrl-C lands mid-statement: the cleanup fails on its own."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        try:
            raise RuntimeError("Can't reconnect until invalid transaction is rolled back")
        except RuntimeError as cleanup:
            if wrap:
                raise CheckFailed("sqlite: verify: PendingRollbackError") from cleanup
            raise


@pytest.mark.parametrize("wrap", [True, False])
def test_an_interrupt_behind_a_cleanup_error_is_reported_as_an_interrupt(
    wrap: bool, capsys
) -> None:
    assert run(lambda: interrupted_then_cleanup_failed(wrap)) == INTERRUPTED
    assert (
        capsys.readouterr().err.strip()
        == "error: interrupted: nothing this run started was left behind."
    )


def test_known_failures_keep_their_exit_code_and_one_line(capsys) -> None:
    def bad_input() -> None:
        raise UsageError("unknown dialect 'oracle': choose one of sqlite, postgresql.")

    def failed_check() -> None:
        raise CheckFailed("migrations check failed with 1 problem(s) in sqlite")

    assert run(bad_input) == 2
    assert (
        capsys.readouterr().err
        == "error: unknown dialect 'oracle': choose one of sqlite, postgresql.\n"
    )
    assert run(failed_check) == 1


def test_an_unexpected_error_is_not_hidden() -> None:
    """Raised outside the project's files (here: by Python itself, called straight from the
    runner), an error is contribkit's bug and keeps its traceback."""
    import functools
    import operator

    with pytest.raises(ZeroDivisionError):
        run(functools.partial(operator.truediv, 1, 0))


def test_an_error_in_a_project_file_is_one_line(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """Raised in a file of the project (a revision, the models, env.py): one line naming it."""
    import importlib.util

    (tmp_path / "projectcode.py").write_text("def broken():\n    return 1 / 0\n")
    spec = importlib.util.spec_from_file_location("projectcode", tmp_path / "projectcode.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.chdir(tmp_path)
    assert run(module.broken) == 1
    err = capsys.readouterr().err
    assert "projectcode.py:2: ZeroDivisionError: division by zero" in err
    assert "Traceback" not in err
