"""Fixtures for the UI, dev server and manifest workflows."""

from __future__ import annotations

from pathlib import Path

import pytest
from devtools_support import NODE_MAJOR, write_project, write_ui

from contribkit.core.config import ProjectConfig


@pytest.fixture
def ui_project(tmp_path: Path) -> ProjectConfig:
    """A project with ``ui = "ui"`` served from ``server/ui_build`` and a matching .nvmrc."""
    write_ui(tmp_path / "ui")
    (tmp_path / ".nvmrc").write_text(f"{NODE_MAJOR}\n")
    return write_project(tmp_path, {"ui": "ui", "static": "server/ui_build"})
