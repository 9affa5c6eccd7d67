"""The ``dialects`` marker accepts only canonical dialect names (tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from contribkit.workflows.quality import TEST_DIALECT_ENV

TESTS = Path(__file__).resolve().parent


@pytest.mark.parametrize(
    ("names", "refused"),
    [('"postgres"', True), ('"mariadb"', True), ("", True), ('"mysql"', False)],
)
def test_a_dialect_name_that_is_no_canonical_one_stops_the_run(tmp_path, names, refused) -> None:
    folder = tmp_path / "tests"
    folder.mkdir()
    for module in ("conftest.py", "migrations_support.py"):  # the conftest and what it imports
        (folder / module).write_text((TESTS / module).read_text())
    (folder / "test_marked.py").write_text(
        f"import pytest\n\n@pytest.mark.dialects({names})\ndef test_it():\n    pass\n"
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            str(folder / "test_marked.py"),
        ],
        cwd=TESTS.parent,
        capture_output=True,
        text=True,
        env={**os.environ, TEST_DIALECT_ENV: "mysql"},
    )
    if refused:
        assert run.returncode == 4, run.stdout + run.stderr
        assert "must name one or more of sqlite, postgresql, mysql" in run.stdout + run.stderr
    else:
        assert run.returncode == 0, run.stdout + run.stderr
        assert "1 passed" in run.stdout
