"""Two distributions: flowdesk (the root pyproject.toml) runs without contribkit, which it only
develops with; contribkit (src/pyproject.toml) ships the engine alone."""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def project(path: Path) -> dict:  # type: ignore[type-arg]
    return tomllib.loads(path.read_text(encoding="utf-8"))


def names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0] for requirement in requirements}


def test_flowdesk_depends_on_contribkit_for_development_only() -> None:
    flowdesk = project(ROOT / "pyproject.toml")
    assert flowdesk["project"]["name"] == "flowdesk"
    assert "contribkit" not in names(flowdesk["project"]["dependencies"])
    assert "optional-dependencies" not in flowdesk["project"]  # no published [dev] extra
    assert "contribkit" in names(flowdesk["dependency-groups"]["dev"])
    assert flowdesk["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["src/flowdesk"]


def test_contribkit_ships_the_engine_without_the_application() -> None:
    contribkit = project(ROOT / "src" / "pyproject.toml")
    assert contribkit["project"]["name"] == "contribkit"
    assert contribkit["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["contribkit"]
    application_only = {"fastapi", "fastapi-offline", "uvicorn"}
    assert not names(contribkit["project"]["dependencies"]) & application_only
    assert "flowdesk" not in contribkit["project"].get("scripts", {})
