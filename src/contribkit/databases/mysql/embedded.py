"""A throw-away MariaDB (or MySQL) server from the binaries installed on the machine.

No package manager runs here: the server is whatever ``mariadbd`` or ``mysqld`` the system has
(Debian's ``mariadb-server``, Homebrew's ``mariadb`` or ``mysql``). As with the embedded
PostgreSQL, the whole life of the server is ours: it runs as our child, listens only on a Unix
socket in a private folder (in RAM when there is room), dies with us even on SIGKILL, and its
folder is removed on stop. Unlike PostgreSQL it accepts root, given ``--user=root``.

The data folder is a copy of a cached fresh one when there is one (see ``datadir_cache``); the
first start initialises it (``mariadb-install-db``, or MySQL's ``--initialize-insecure``) and
fills that cache.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
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

EXTERNAL_URL_ENV = "CONTRIBKIT_MYSQL_URL"
MISSING = (
    "no MySQL or MariaDB server on this machine for the mysql dialect: install one "
    "(Debian/Ubuntu: apt-get install mariadb-server; macOS: brew install mariadb), "
    f"or set {EXTERNAL_URL_ENV} to an existing server."
)
#: Where packages put the server besides PATH: Debian's sbin, Homebrew's kegs.
SEARCH_PATH = (
    "/usr/sbin",
    "/usr/local/sbin",
    "/opt/homebrew/opt/mariadb/bin",
    "/usr/local/opt/mariadb/bin",
    "/opt/homebrew/opt/mysql/bin",
    "/usr/local/opt/mysql/bin",
)
FOLDER_PREFIX = "ckmy-"
_READY_TIMEOUT = 30.0
#: Settings both for initialisation and every start: a small redo log (the default 96 MB would
#: be most of the data folder to copy) and UTF-8 as real projects configure it.
_COMMON = ("--innodb-log-file-size=8M", "--character-set-server=utf8mb4")
#: Durability is pointless for a database that is deleted minutes later; these make DDL fast.
_FAST = (
    "--innodb-flush-log-at-trx-commit=0",
    "--innodb-buffer-pool-size=64M",
    "--skip-log-bin",
    "--loose-innodb-doublewrite=0",
    "--loose-mysqlx=OFF",  # MySQL 8's X protocol would listen on a socket in /tmp
)


@dataclass(frozen=True)
class Installation:
    """The server binary and, for MariaDB, the script that initialises a data folder."""

    server: Path
    install_db: Path | None  # None: MySQL, which initialises with ``--initialize-insecure``


def find_installation() -> Installation:
    """The machine's MariaDB or MySQL server, or a one-line :class:`UsageError` saying how to get one."""
    path = os.pathsep.join([os.environ.get("PATH", ""), *SEARCH_PATH])
    for name in ("mariadbd", "mysqld"):
        found = shutil.which(name, path=path)
        if found is None:
            continue
        server = Path(found)
        version = subprocess.run(
            [found, "--version"], capture_output=True, text=True, check=False
        ).stdout
        if "mariadb" not in version.lower():
            return Installation(server, None)
        install_db = shutil.which("mariadb-install-db", path=path) or shutil.which(
            "mysql_install_db", path=path
        )
        if install_db is None:
            raise UsageError(
                f"{server} has no mariadb-install-db beside it to create a data folder with: "
                f"install the complete server package, or set {EXTERNAL_URL_ENV}."
            )
        return Installation(server, Path(install_db))
    raise UsageError(MISSING)


class ThrowawayMySQL:
    """One MariaDB or MySQL server in a temporary folder; ``start()``, ``url(db)``, ``stop()``."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        # The initialisation, or the copy of a cached data folder.
        self._preparing: subprocess.Popen[bytes] | None = None
        self._installation: Installation | None = None
        self._cache_key = ""
        #: The cached data folder this server's is copied from, if any.
        self.template: Path | None = None

    @property
    def socket(self) -> Path:
        assert self.folder is not None, "server not started"
        return self.folder / "mysql.sock"

    @property
    def _data(self) -> Path:
        assert self.folder is not None, "server not started"
        return self.folder / "data"

    def url(self, database: str = "") -> str:
        return (
            f"mysql+pymysql://root@localhost/{database}?unix_socket={self.socket}&charset=utf8mb4"
        )

    def _user_args(self) -> list[str]:
        # The server refuses root unless told so; as anyone else it runs as that user.
        return ["--user=root"] if os.geteuid() == 0 else []

    def start(self) -> ThrowawayMySQL:
        return self.begin().finish()

    def begin(self) -> ThrowawayMySQL:
        """Create the folder and launch the data folder's initialisation (or the copy of a
        cached one) without waiting for it."""
        self._installation = find_installation()
        atexit.register(self.stop)
        parent = server_parent()
        sweep_stale_folders(parent, FOLDER_PREFIX, "mysqld.pid")
        with deferred_signals():  # the folder is ours to remove from the moment it exists
            self.folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir=parent))
        try:
            self._cache_key = datadir_cache.cache_key(
                "mysqldata", self._installation.server, self._init_args(), os.geteuid()
            )
            self.template = datadir_cache.find(self._cache_key, "ibdata1")
            if self.template is None:
                self._start_preparing(self._init_command())
            else:
                self._start_preparing(datadir_cache.copy_command(self.template, self._data))
        except BaseException:
            self.stop()
            raise
        return self

    def _init_args(self) -> list[str]:
        assert self._installation is not None
        if self._installation.install_db is None:  # MySQL: root without a password
            return ["--initialize-insecure", *_COMMON]
        return [
            "--auth-root-authentication-method=normal",  # root logs in over the socket, no password
            "--skip-test-db",
            "--skip-name-resolve",
            *_COMMON,
        ]

    def _init_command(self) -> list[str]:
        assert self._installation is not None
        program = self._installation.install_db or self._installation.server
        # --no-defaults first: no my.cnf of the machine's may change what we create.
        return [
            str(program),
            "--no-defaults",
            f"--datadir={self._data}",
            *self._init_args(),
            *self._user_args(),
        ]

    def _start_preparing(self, argv: list[str]) -> None:
        assert self.folder is not None
        with deferred_signals(), open(self.folder / "prepare.log", "wb") as log:
            self._preparing = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # stopped, the whole group must go
            )

    def _finish_preparing(self) -> bool:
        """Wait for the data folder; False when the copy of a cached one failed."""
        assert self.folder is not None and self._preparing is not None, "call begin() first"
        code = self._preparing.wait()
        self._preparing = None
        if code == 0:
            if self.template is None:  # fresh: cache it before a server changes it
                datadir_cache.publish(self._data, self._cache_key)
            return True
        if self.template is not None:
            return False
        tail = (self.folder / "prepare.log").read_text(errors="replace").strip()[-300:]
        raise UsageError(f"the throw-away MySQL server failed to initialise: {tail}")

    def _without_template(self) -> None:
        """Drop the cached data folder that failed us and initialise a new one."""
        datadir_cache.discard(self._cache_key)
        self.template = None
        self._stop_server()
        remove_folder(self._data)
        self._start_preparing(self._init_command())
        self._finish_preparing()

    def finish(self) -> ThrowawayMySQL:
        """Wait for the data folder, then start the server and wait until it is ready; a cached
        data folder that fails is replaced by a fresh one."""
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
        assert self.folder is not None and self._installation is not None
        log = self.folder / "server.log"
        log.unlink(missing_ok=True)
        argv = [
            str(self._installation.server),
            "--no-defaults",
            f"--datadir={self._data}",
            f"--socket={self.socket}",
            f"--pid-file={self.folder / 'mysqld.pid'}",
            f"--log-error={log}",
            f"--tmpdir={self.folder}",
            "--skip-networking",
            *_COMMON,
            *_FAST,
            *self._user_args(),
        ]
        with deferred_signals():  # launched and recorded together: stop() always finds it
            self.process = subprocess.Popen(
                argv,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent_hook(signal.SIGKILL),
                start_new_session=True,  # Ctrl-C reaches us, and we stop the server in order
            )
        self._wait_ready(log)

    def _wait_ready(self, log: Path) -> None:
        assert self.process is not None
        deadline = time.monotonic() + _READY_TIMEOUT
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace") if log.exists() else ""
            if self.process.poll() is not None:
                errors = [line for line in text.splitlines() if "[ERROR]" in line][-2:]
                raise UsageError(
                    f"the throw-away MySQL server exited: {' / '.join(errors) or 'no error logged'}"
                )
            if "ready for connections" in text and self.socket.exists():
                return
            time.sleep(0.01)
        raise UsageError(
            f"the throw-away MySQL server was not ready within {_READY_TIMEOUT:.0f} s."
        )

    def stop(self) -> None:
        """Kill the server and remove its folder."""
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
            process.kill()  # its data is deleted next: a clean shutdown would only cost time
            process.wait()
