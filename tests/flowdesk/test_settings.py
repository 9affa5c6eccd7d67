"""The runtime configuration must say what the repository's [tool.contribkit] says."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from contribkit.config import load_config
from flowdesk import settings

ROOT = Path(__file__).resolve().parents[2]


def test_runtime_config_agrees_with_pyproject() -> None:
    runtime, repo = settings.runtime_config(), load_config(ROOT)
    for key in ("models", "migrations", "dialects", "database_url_env", "default_database_url"):
        assert getattr(runtime, key) == getattr(repo, key), key
    assert (runtime.migrations / "versions" / "sqlite").is_dir()


def test_default_database_url_is_in_the_user_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(settings.DATABASE_URL_ENV, raising=False)
    expected = f"sqlite:///{platformdirs.user_data_dir()}/flowdesk/flowdesk.db"
    assert settings.database_url() == expected


def test_environment_overrides_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWDESK_DATABASE_URL", "postgresql+psycopg://db.example/flowdesk")
    assert settings.database_url() == "postgresql+psycopg://db.example/flowdesk"
