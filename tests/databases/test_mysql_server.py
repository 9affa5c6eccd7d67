"""The throw-away MySQL server: started from the machine's MariaDB binaries, its data folder
cached after the first start, gone on stop and with a killed parent, usable as root and as a
normal user; ``CONTRIBKIT_MYSQL_URL`` instead of it; one line when neither is there."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import sysconfig
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from contribkit.core.errors import UsageError
from contribkit.databases import throwaway
from contribkit.databases.engines import create_engine
from contribkit.databases.localserver import server_parent
from contribkit.databases.mysql import embedded
from contribkit.databases.mysql.embedded import EXTERNAL_URL_ENV, ThrowawayMySQL
from contribkit.databases.throwaway import (
    database_server,
    ephemeral_database,
    missing_debian_packages,
)

pytestmark = pytest.mark.dialects("mysql")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch) -> Path:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "contribkit"


def scalar(url: str, statement: str) -> object:
    engine = create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text(statement))
    finally:
        engine.dispose()


def test_the_first_start_fills_the_cache_and_later_starts_copy_it(private_cache: Path) -> None:
    first = ThrowawayMySQL().start()
    try:
        assert first.template is None  # nothing cached: the data folder was initialised
        assert "MariaDB" in str(scalar(first.url(), "SELECT version()"))
        assert scalar(first.url(), "SELECT @@character_set_server") == "utf8mb4"
        assert scalar(first.url(), "SELECT @@skip_networking") == 1  # the socket only
        engine = create_engine(first.url(), poolclass=sa.pool.NullPool)
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE DATABASE from_first"))
        engine.dispose()
    finally:
        first.stop()
    [entry] = [p.name for p in private_cache.iterdir()]
    assert entry.startswith("mysqldata-")

    second = ThrowawayMySQL().start()
    try:
        assert second.template == private_cache / entry / "data"
        databases = str(
            scalar(
                second.url(), "SELECT GROUP_CONCAT(schema_name) FROM information_schema.schemata"
            )
        )
        assert "from_first" not in databases  # a fresh copy, not the first server's data
    finally:
        second.stop()


def test_stop_leaves_no_process_and_no_folder() -> None:
    server = ThrowawayMySQL().start()
    pid, folder = server.process.pid, server.folder
    assert folder.parent == server_parent()
    server.stop()
    assert not folder.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_the_server_dies_with_a_killed_parent(request) -> None:  # type: ignore[no-untyped-def]
    script = textwrap.dedent(
        """
        import time
        from contribkit.databases.mysql.embedded import ThrowawayMySQL
        server = ThrowawayMySQL().start()
        print(server.process.pid, server.folder, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    pid_text, folder = parent.stdout.readline().split()
    request.addfinalizer(lambda: shutil.rmtree(folder, ignore_errors=True))  # SIGKILL leaves it
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = Path(f"/proc/{pid_text}/status")
        if not status.exists() or "\nState:\tZ" in status.read_text():
            return
        time.sleep(0.05)
    pytest.fail(f"mariadbd {pid_text} outlived its killed parent")


def test_a_normal_user_runs_it_too(tmp_path: Path) -> None:
    """As anyone but root the server runs as that user (root needs --user=root); as root this
    test switches to ``nobody``."""
    home = tmp_path / "home"
    home.mkdir()
    python, switch = sys.executable, {}
    if os.geteuid() == 0:
        user = pwd.getpwnam("nobody")
        os.chown(home, user.pw_uid, user.pw_gid)
        tmp_path.chmod(0o755)
        switch = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        # Our interpreter lives under root's private home: the system's of the same version,
        # with our packages on its path.
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        python = shutil.which(version, path="/usr/bin:/usr/local/bin") or ""
        assert python, f"no {version} outside root's home to run as nobody"
    paths = [str(ROOT / "src"), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    script = (
        f"import sys; sys.path[:0] = {paths!r}\n"
        "from contribkit.databases.throwaway import ephemeral_database\n"
        "import sqlalchemy as sa\n"
        "with ephemeral_database('mysql') as url:\n"
        "    engine = sa.create_engine(url)\n"
        "    with engine.connect() as c: print(c.scalar(sa.text('SELECT CURRENT_USER()')))\n"
        "    engine.dispose()\n"
    )
    result = subprocess.run(
        [python, "-c", script],
        **switch,  # type: ignore[arg-type]
        env={**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")},
        cwd=home,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "root@localhost"  # the server's own root, over its socket


def test_no_server_is_one_line_saying_what_to_install(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(embedded, "SEARCH_PATH", ())
    with pytest.raises(UsageError) as raised:
        ThrowawayMySQL().start()
    message = str(raised.value)
    assert "\n" not in message
    assert "apt-get install mariadb-server" in message and "brew install mariadb" in message
    assert EXTERNAL_URL_ENV in message


def test_the_cli_says_it_in_one_line_and_other_dialects_still_run(
    sample, monkeypatch, tmp_path: Path
) -> None:
    """Without a server, a MySQL command exits 2 with the line; a SQLite one works."""
    sample.edit("pyproject.toml", '"mysql"]', '"mariadb"]')
    assert sample.cli("init").code == 0
    # The servers this process runs would be used: hide them from this test, not stop them
    # (the session's migrated databases live on them).
    monkeypatch.setattr(throwaway, "_servers", {})
    monkeypatch.setattr(throwaway, "_starting", {})
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(embedded, "SEARCH_PATH", ())
    monkeypatch.delenv(EXTERNAL_URL_ENV, raising=False)
    before = sample.snapshot()
    refused = sample.cli("migrate", "-m", "initial", "--dialect", "mariadb")
    assert refused.code == 2, refused.err
    assert (
        refused.err.startswith("error: no MySQL or MariaDB server") and refused.err.count("\n") == 1
    )
    assert "apt-get install mariadb-server" in refused.err
    assert sample.snapshot() == before
    done = sample.cli("migrate", "-m", "initial", "--dialect", "sqlite")
    assert done.code == 0, done.err
    assert len(sample.versions("sqlite")) == 1


def test_an_existing_server_is_used_through_its_url(monkeypatch) -> None:
    own = database_server("mysql")  # stands in for a server someone already runs
    monkeypatch.setenv(EXTERNAL_URL_ENV, own.admin_url.render_as_string(hide_password=False))
    with ephemeral_database("mysql") as url:
        name = sa.engine.make_url(url).database
        assert name.startswith("ck_")
        found = scalar(
            url, f"SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '{name}'"
        )
        assert found == 1
    assert database_server("mysql") is not own  # a server object of its own, for that URL
    count = scalar(
        own.url("").render_as_string(hide_password=False),
        f"SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '{name}'",
    )
    assert count == 0


def test_an_unreachable_server_is_one_line_with_the_password_hidden(monkeypatch) -> None:
    monkeypatch.setenv(EXTERNAL_URL_ENV, "mysql://bob:s3cret@127.0.0.1:9/")
    with pytest.raises(UsageError) as raised, ephemeral_database("mysql"):
        pass
    message = str(raised.value)
    assert message.startswith("MySQL at mysql+pymysql://bob:***@127.0.0.1:9/ is unreachable")
    assert "s3cret" not in message and "\n" not in message


def test_a_server_without_its_data_folder_tools_is_one_line(monkeypatch, tmp_path: Path) -> None:
    """Debian's mariadb-server-core alone lacks my_print_defaults, which mariadb-install-db runs."""
    lone = tmp_path / "bin"
    lone.mkdir()
    for tool in ("mariadbd", "mariadb-install-db"):
        found = shutil.which(
            tool, path=os.pathsep.join([os.environ["PATH"], *embedded.SEARCH_PATH])
        )
        (lone / tool).symlink_to(found)
    monkeypatch.setenv("PATH", str(lone))
    monkeypatch.setattr(embedded, "SEARCH_PATH", ())
    with pytest.raises(
        UsageError,
        match=r"lacks mariadb-install-db or my_print_defaults .*apt-get install mariadb-server",
    ):
        embedded.find_installation()


def test_the_debian_packages_named_missing_are_those_of_a_missing_server(
    monkeypatch, tmp_path: Path
) -> None:
    """What CI's sessions install (nox_sessions.install_server_packages): nothing while the
    server is there or a URL names one, the packages once it is gone."""
    monkeypatch.delenv(EXTERNAL_URL_ENV, raising=False)
    assert missing_debian_packages(["sqlite", "mysql"]) == []  # this machine has MariaDB
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(embedded, "SEARCH_PATH", ())
    assert missing_debian_packages(["sqlite", "mysql"]) == [
        "mariadb-server-core",
        "mariadb-client-core",
    ]
    assert missing_debian_packages(["sqlite", "postgresql"]) == []
    monkeypatch.setenv(EXTERNAL_URL_ENV, "mysql://u@db.example:3306/")
    assert missing_debian_packages(["mysql"]) == []


class RecordingSession:
    """nox's session as install_server_packages uses it: what it would run."""

    def __init__(self) -> None:
        self.ran: list[tuple[str, ...]] = []

    def log(self, _message: str) -> None:
        pass

    def run(self, *argv: str, external: bool = False) -> None:
        self.ran.append(argv)


def test_ci_sessions_install_the_missing_server_packages_and_contributors_never(
    monkeypatch, tmp_path: Path
) -> None:
    from contribkit.nox import install_server_packages

    monkeypatch.delenv(EXTERNAL_URL_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(embedded, "SEARCH_PATH", ())
    monkeypatch.delenv("CI", raising=False)
    session = RecordingSession()
    install_server_packages(session, ROOT)
    assert session.ran == []  # a contributor's machine: no package manager
    monkeypatch.setenv("CI", "true")
    install_server_packages(session, ROOT)
    *_, install = session.ran
    assert install[-3:] == ("--no-install-recommends", "mariadb-server-core", "mariadb-client-core")
    assert "apt-get" in install and "install" in install
    assert (install[0] == "sudo") == (os.geteuid() != 0)


def test_a_mysql_server_counts_as_missing_mariadb_for_ci(monkeypatch, tmp_path: Path) -> None:
    """A GitHub runner's MySQL 8: CI installs the MariaDB contribkit is tested with."""
    fake = tmp_path / "mysqld"
    fake.write_text(
        "#!/bin/sh\necho 'mysqld  Ver 8.0.40 for Linux on x86_64 (MySQL Community Server - GPL)'\n"
    )
    fake.chmod(0o755)
    monkeypatch.delenv(EXTERNAL_URL_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(embedded, "SEARCH_PATH", ())
    assert embedded.find_installation().install_db is None  # found, as MySQL
    assert missing_debian_packages(["mysql"]) == ["mariadb-server-core", "mariadb-client-core"]


def test_a_copy_of_a_missing_template_is_an_error_and_creates_nothing() -> None:
    server = database_server("mysql")
    name = throwaway.unique_name()
    with pytest.raises(LookupError, match="no template database 'ck_no_such_template'"):
        server.create_database(name, template="ck_no_such_template")
    assert name not in server.database_names(name)
