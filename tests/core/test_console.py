"""Console output helpers."""

from __future__ import annotations

import warnings

from contribkit.core import console


def test_warnings_while_migrations_run_are_one_summary_line(capsys) -> None:
    with console.summarized_warnings():
        for name in ("a", "b", "a"):
            warnings.warn(f"Skipped unsupported reflection of index {name}", stacklevel=1)
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.splitlines() == [
        "3 warning(s) while running the migrations, 2 distinct; most often (2x): "
        "Skipped unsupported reflection of index a"
    ]
