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

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from contribkit.core.errors import UsageError
from contribkit.core.signals import deferred_signals
from contribkit.databases.localserver import ThrowawayServer, die_with_parent_hook

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
#: What Debian and Ubuntu need for it: the server, and the client tool mariadb-install-db runs.
#: Neither starts a service.
DEBIAN_PACKAGES = ("mariadb-server-core", "mariadb-client-core")
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
        if name == "mysqld" and not _is_mariadb(found):
            return Installation(Path(found), None)
        install_db = shutil.which("mariadb-install-db", path=path) or shutil.which(
            "mysql_install_db", path=path
        )
        # mariadb-install-db asks my_print_defaults (a client tool) for its settings.
        if install_db is None or shutil.which("my_print_defaults", path=path) is None:
            raise UsageError(
                f"{found} lacks mariadb-install-db or my_print_defaults to create a data folder "
                "with: install the complete server package (Debian/Ubuntu: apt-get install "
                f"mariadb-server), or set {EXTERNAL_URL_ENV}."
            )
        return Installation(Path(found), Path(install_db))
    raise UsageError(MISSING)


def _is_mariadb(server: str) -> bool:
    """Debian names MariaDB's server ``mysqld`` too; its version line says which it is."""
    version = subprocess.run([server, "--version"], capture_output=True, text=True, check=False)
    return "mariadb" in version.stdout.lower()


class ThrowawayMySQL(ThrowawayServer):
    """One MariaDB or MySQL server in a temporary folder; ``start()``, ``url(db)``, ``stop()``."""

    prefix = FOLDER_PREFIX
    pid_file = "mysqld.pid"
    cache_kind = "mysqldata"
    cache_marker = "ibdata1"
    label = "throw-away MySQL"

    def __init__(self) -> None:
        super().__init__()
        self._installation: Installation | None = None

    @property
    def socket(self) -> Path:
        assert self.folder is not None, "server not started"
        return self.folder / "mysql.sock"

    def url(self, database: str = "") -> str:
        return (
            f"mysql+pymysql://root@localhost/{database}?unix_socket={self.socket}&charset=utf8mb4"
        )

    def _user_args(self) -> list[str]:
        # The server refuses root unless told so; as anyone else it runs as that user.
        return ["--user=root"] if os.geteuid() == 0 else []

    def _locate(self) -> None:
        self._installation = find_installation()

    def _server_binary(self) -> Path:
        assert self._installation is not None
        return self._installation.server

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

    def _launch(self) -> None:
        assert self.folder is not None and self._installation is not None
        log = self.folder / "server.log"
        log.unlink(missing_ok=True)
        # It runs as root: files it reads or writes for SQL (INTO OUTFILE, LOAD_FILE, LOAD
        # DATA) stay in a folder of its own, where a crafted statement can reach nothing.
        files = self.folder / "files"
        files.mkdir(exist_ok=True)
        argv = [
            str(self._installation.server),
            "--no-defaults",
            f"--datadir={self._data}",
            f"--socket={self.socket}",
            f"--pid-file={self.folder / self.pid_file}",
            f"--log-error={log}",
            f"--tmpdir={self.folder}",
            "--skip-networking",
            f"--secure-file-priv={files}",
            "--local-infile=0",
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
                # Its data is deleted with us: nothing to shut down cleanly.
                preexec_fn=die_with_parent_hook(signal.SIGKILL),
                start_new_session=True,  # Ctrl-C reaches us, and we stop the server ourselves
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
