"""Run a developer tool by name: the virtualenv's copy first, and a non-zero exit as a failure."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from contribkit.core.errors import CheckFailed, UsageError


def resolve_tool(name: str) -> str:
    """``name`` from this interpreter's bin folder, else from PATH; a clear error if neither."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise UsageError(
            f"{name} is not installed: run 'nox -s dev' (or 'uv sync', which installs the dev group)."
        )
    return found


def run(argv: Sequence[str], env: Mapping[str, str] | None = None) -> None:
    """Run one command; a non-zero exit becomes :class:`CheckFailed` naming it."""
    from contribkit.core import reporting

    resolved = [resolve_tool(argv[0]), *argv[1:]]
    reporting.step(" ".join(argv))
    result = subprocess.run(resolved, env={**os.environ, **(env or {})})
    if result.returncode != 0:
        error = CheckFailed(f"{' '.join(argv)} failed (exit {result.returncode})")
        error.exit_code = result.returncode
        raise error
