"""Where flowdesk finds its database and its migrations.

The installed application has no ``pyproject.toml``, so these are written here, next to the
package's files. They must say what ``[tool.contribkit]`` says (a test compares the two): the
contributors' tools generate migrations from the pyproject, the running application applies
them from here.
"""

from __future__ import annotations

import os
from pathlib import Path

DATABASE_URL_ENV = "FLOWDESK_DATABASE_URL"
#: The token clients must send (``Authorization: Bearer``); unset or empty: none needed.
API_TOKEN_ENV = "FLOWDESK_API_TOKEN"
#: Comma-separated ``Host`` names the server answers (``*``: any); default below.
ALLOWED_HOSTS_ENV = "FLOWDESK_ALLOWED_HOSTS"
#: What a browser on the machine itself calls a server on loopback.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
#: ``{user_data_dir}`` is the platform's user data folder (platformdirs), expanded when used.
DEFAULT_DATABASE_URL = "sqlite:///{user_data_dir}/flowdesk/flowdesk.db"
#: The models the migrations are compared with, as ``module:attribute``.
MODELS = "flowdesk.server.database.orm_models:Base.metadata"
PACKAGE_ROOT = Path(__file__).resolve().parent
#: Holds ``env.py`` and one linear history per dialect in ``versions/<dialect>/``.
MIGRATIONS = PACKAGE_ROOT / "server" / "database" / "migrations"
DIALECTS = ("sqlite", "postgresql", "mysql")


def database_url() -> str:
    """``$FLOWDESK_DATABASE_URL``, else the default SQLite file in the user data folder.

    The server, the worker and the ``database`` commands all resolve it here, so the server
    always opens the database those commands migrated.
    """
    url = os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL
    if "{user_data_dir}" in url:
        import platformdirs

        url = url.replace("{user_data_dir}", platformdirs.user_data_dir().replace("\\", "/"))
    return url


def api_token() -> str | None:
    """Stripped: a header's value arrives stripped, so a token with a newline (a Secret made
    from a file) would otherwise refuse every client."""
    return os.environ.get(API_TOKEN_ENV, "").strip() or None


def allowed_hosts(bound_to: str = "127.0.0.1") -> list[str]:
    """``$FLOWDESK_ALLOWED_HOSTS``, else the loopback names for a server bound to loopback and
    any name for one bound elsewhere (it is reached by names this machine cannot know)."""
    given = [host.strip() for host in os.environ.get(ALLOWED_HOSTS_ENV, "").split(",")]
    if any(given):
        return [host for host in given if host]
    return list(LOOPBACK_NAMES) if is_loopback(bound_to) else ["*"]


def is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve anywhere
