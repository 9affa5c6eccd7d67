"""flowdesk's settings must say what the repository's [tool.contribkit] says."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from contribkit.core.config import load_config
from flowdesk import settings

ROOT = Path(__file__).resolve().parents[2]


def test_settings_agree_with_pyproject() -> None:
    """The application's settings and the contributors' [tool.contribkit] name the same things."""
    repo = load_config(ROOT)
    assert repo.models == settings.MODELS
    assert repo.migrations == settings.MIGRATIONS
    assert repo.dialects == settings.DIALECTS
    assert repo.database_url_env == settings.DATABASE_URL_ENV
    assert repo.default_database_url == settings.DEFAULT_DATABASE_URL
    for dialect in settings.DIALECTS:
        assert (settings.MIGRATIONS / "versions" / dialect).is_dir(), dialect


def test_default_database_url_is_in_the_user_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(settings.DATABASE_URL_ENV, raising=False)
    expected = f"sqlite:///{platformdirs.user_data_dir()}/flowdesk/flowdesk.db"
    assert settings.database_url() == expected


def test_environment_overrides_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWDESK_DATABASE_URL", "postgresql+psycopg://db.example/flowdesk")
    assert settings.database_url() == "postgresql+psycopg://db.example/flowdesk"
