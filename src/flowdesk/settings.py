"""Where flowdesk finds its database, and the contribkit configuration it runs with.

The installed application has no ``pyproject.toml``, so its runtime :class:`ProjectConfig` is
built here from the package's own paths. It must say what ``[tool.contribkit]`` says (a test
compares the two); contributors' tools read the pyproject, the running server reads this.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contribkit.config import ProjectConfig

DATABASE_URL_ENV = "FLOWDESK_DATABASE_URL"
#: ``{user_data_dir}`` is the platform's user data folder, expanded by contribkit.
DEFAULT_DATABASE_URL = "sqlite:///{user_data_dir}/flowdesk/flowdesk.db"

PACKAGE_ROOT = Path(__file__).resolve().parent


def runtime_config() -> ProjectConfig:
    """flowdesk's contribkit configuration, from the package alone."""
    from contribkit.config import config_from_table

    table: dict[str, object] = {
        "models": "flowdesk.server.database.orm_models:Base.metadata",
        "migrations": "server/database/migrations",
        "dialects": ["sqlite", "postgresql"],
        "database_url_env": DATABASE_URL_ENV,
        "default_database_url": DEFAULT_DATABASE_URL,
    }
    return config_from_table(table, PACKAGE_ROOT)


def database_url() -> str:
    """``$FLOWDESK_DATABASE_URL``, else the default SQLite file in the user data folder.

    Resolved by the same function the ``database`` commands use, so the server always opens the
    database those commands migrated.
    """
    from contribkit.realdb import database_url as resolve

    return resolve(runtime_config())
