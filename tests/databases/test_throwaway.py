"""Ephemeral databases and the embedded PostgreSQL server: always cleaned up, never orphaned."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from process_support import Interrupted, raise_on_signals

from contribkit.databases.engines import create_engine
from contribkit.databases.postgresql.embedded import EmbeddedPostgres
from contribkit.databases.postgresql.server import EXTERNAL_URL_ENV
from contribkit.databases.throwaway import database_server, ephemeral_database


def _exists(url: str, dialect: str) -> bool:
    if dialect == "sqlite":
        return Path(sa.engine.make_url(url).database).parent.exists()
    name = sa.engine.make_url(url).database
    query = {
        "postgresql": "SELECT 1 FROM pg_database WHERE datname = :n",
        "mysql": "SELECT 1 FROM information_schema.schemata WHERE schema_name = :n",
    }[dialect]
    with create_engine(database_server(dialect).admin_url).connect() as conn:
        return conn.execute(sa.text(query), {"n": name}).first() is not None


def test_ephemeral_database_is_removed_even_when_the_block_fails(dialect: str) -> None:
    with pytest.raises(RuntimeError), ephemeral_database(dialect) as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        engine.dispose()
        assert _exists(url, dialect)
        raise RuntimeError("boom")
    assert not _exists(url, dialect)


def test_an_interrupt_right_after_creation_still_removes_the_database(
    dialect: str, monkeypatch
) -> None:
    raise_on_signals()
    created: list[str] = []
    if dialect == "sqlite":
        real_mkdtemp = tempfile.mkdtemp

        def create(**kwargs: object) -> str:
            folder = real_mkdtemp(**kwargs)
            created.append(f"sqlite:///{folder}/db.sqlite")
            interrupt_now()
            return folder

        monkeypatch.setattr(tempfile, "mkdtemp", create)
    else:
        server_class = type(database_server(dialect))
        real_create = server_class.create_database

        def create(self: object, name: str, template: str | None = None) -> sa.URL:
            url = real_create(self, name, template)
            created.append(url.render_as_string(hide_password=False))
            interrupt_now()
            return url

        monkeypatch.setattr(server_class, "create_database", create)
    with pytest.raises(Interrupted), ephemeral_database(dialect):
        pass
    monkeypatch.undo()
    assert created and not _exists(created[0], dialect)


def interrupt_now() -> None:
    """SIGINT, handled here unless held: where a signal lands just after a resource exists."""
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.05)


def test_sqlite_connections_enforce_foreign_keys() -> None:
    with ephemeral_database("sqlite") as url:
        engine = create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        engine.dispose()


def test_embedded_server_stop_leaves_no_process_and_no_folder() -> None:
    server = EmbeddedPostgres().start()
    pid, folder = server.process.pid, server.folder
    engine = create_engine(server.url(), poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SHOW server_version_num")).scalar() >= "160000"
    server.stop()
    assert not folder.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_embedded_server_dies_with_a_killed_parent(request) -> None:  # type: ignore[no-untyped-def]
    script = textwrap.dedent(
        """
        import sys, time
        from contribkit.databases.postgresql.embedded import EmbeddedPostgres
        server = EmbeddedPostgres().start()
        print(server.process.pid, server.folder, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    pid_text, folder = parent.stdout.readline().split()
    pid = int(pid_text)
    request.addfinalizer(lambda: shutil.rmtree(folder, ignore_errors=True))  # SIGKILL leaves it
    os.kill(parent.pid, signal.SIGKILL)  # no cleanup code can run: only PDEATHSIG can help
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        # a zombie still answers kill(0); it is gone once it has no /proc status of "Z"
        status = Path(f"/proc/{pid}/status")
        if status.exists() and "\nState:\tZ" in status.read_text():
            return
        time.sleep(0.05)
    pytest.fail(f"postgres {pid} outlived its killed parent")


def test_stale_folders_of_killed_runs_are_swept(tmp_path: Path) -> None:
    from contribkit.databases.localserver import STALE_AFTER_SECONDS, sweep_stale_folders

    old, young, running = (tmp_path / f"ckpg-{n}" for n in ("old", "young", "running"))
    for folder in (old, young, running):
        (folder / "data").mkdir(parents=True)
    (running / "data" / "postmaster.pid").write_text(f"{os.getpid()}\n")  # a live process
    past = time.time() - STALE_AFTER_SECONDS - 5
    for folder in (old, running):
        os.utime(folder, (past, past))
    assert sweep_stale_folders(tmp_path, "ckpg-", "data/postmaster.pid") == [old]
    assert not old.exists() and young.exists() and running.exists()


def test_external_server_gets_a_unique_database_that_is_dropped(monkeypatch) -> None:
    embedded = database_server("postgresql")  # stands in for a server someone already runs
    monkeypatch.setenv(EXTERNAL_URL_ENV, embedded.admin_url.render_as_string(hide_password=False))
    with ephemeral_database("postgresql") as url:
        name = sa.engine.make_url(url).database
        assert name.startswith("ck_")
        assert _exists(url, "postgresql")
    assert not _exists(url, "postgresql")


def test_servers_live_in_ram_unless_tmpdir_says_otherwise(
    monkeypatch, request, tmp_path: Path
) -> None:
    from contribkit.databases import localserver

    monkeypatch.delenv("TMPDIR", raising=False)
    ram = tmp_path / "ram"
    ram.mkdir()
    monkeypatch.setattr(localserver, "RAM_FOLDER", ram)
    monkeypatch.setattr(localserver, "RAM_FOLDER_MIN_FREE", 0)
    assert localserver.server_parent() == ram
    monkeypatch.setattr(localserver, "RAM_FOLDER_MIN_FREE", 1 << 62)  # more than any machine has
    assert localserver.server_parent() == Path("/tmp")
    monkeypatch.setattr(localserver, "RAM_FOLDER_MIN_FREE", 0)
    monkeypatch.setattr(localserver, "RAM_FOLDER", tmp_path / "no-such-folder")
    assert localserver.server_parent() == Path("/tmp")
    short = Path(tempfile.mkdtemp(prefix="ck-", dir="/tmp"))  # a long one is refused: sockets
    request.addfinalizer(lambda: short.rmdir())
    monkeypatch.setenv("TMPDIR", str(short))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() caches what it found first
    assert localserver.server_parent() == short
    monkeypatch.setenv("TMPDIR", str(tmp_path / ("x" * 60)))
    (tmp_path / ("x" * 60)).mkdir()
    monkeypatch.setattr(tempfile, "tempdir", None)
    assert localserver.server_parent() == Path("/tmp")


def test_the_embedded_server_runs_where_server_parent_says(monkeypatch) -> None:
    from contribkit.databases.localserver import server_parent

    monkeypatch.delenv("TMPDIR", raising=False)
    server = EmbeddedPostgres().start()
    try:
        assert server.folder.parent == server_parent()
        assert server.process.poll() is None
    finally:
        server.stop()


def test_the_docs_say_what_running_as_root_does_and_how_to_avoid_it() -> None:
    from contribkit.databases.postgresql.embedded import SYSTEM_USER

    readme = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    section = readme.split("**Running as root**")[1].split("\n\n")[0]
    assert f"useradd --system {SYSTEM_USER}" in section
    assert "o+x" in section and "CONTRIBKIT_POSTGRESQL_URL" in section


KILLED_RUN = """
import sys, time
from contribkit.databases.throwaway import ephemeral_database
with ephemeral_database("sqlite") as a, ephemeral_database(sys.argv[1]) as b:
    print(a, b, flush=True)
    time.sleep(120)
"""


def test_what_a_sigkilled_run_left_is_swept_by_the_next(dialect, monkeypatch) -> None:
    """Its SQLite folder and, on a server a CONTRIBKIT_*_URL names, its database: gone when
    the next run makes its own, with no wait; those of live runs stay."""
    from contribkit.core import ownership
    from contribkit.databases import throwaway

    env = dict(os.environ)
    if dialect != "sqlite":
        embedded = database_server(dialect)  # stands in for a server someone already runs
        url = embedded.admin_url.render_as_string(hide_password=False)
        env[throwaway.SERVER_URL_ENVS[dialect]] = url
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, dialect], env=env, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    sqlite_url, server_url = child.stdout.readline().split()
    child.kill()
    child.wait()
    folder = Path(sa.engine.make_url(sqlite_url).database).parent
    assert folder.exists() and _exists(server_url, dialect)

    with ephemeral_database(dialect) as alive:
        monkeypatch.setattr(ownership, "_swept", set())
        if dialect != "sqlite":
            # A new server object for that URL, as the next run makes: it sweeps first.
            monkeypatch.setenv(
                throwaway.SERVER_URL_ENVS[dialect],
                url + ("&" if "?" in url else "?") + "connect_timeout=9",
            )
        with ephemeral_database("sqlite"), ephemeral_database(dialect):
            assert not folder.exists()
            assert not _exists(server_url, dialect)
            assert _exists(alive, dialect)


def test_server_folders_of_ended_runs_go_at_once(tmp_path: Path) -> None:
    from contribkit.core.ownership import owner_tag
    from contribkit.databases.localserver import sweep_stale_folders

    ended, alive = tmp_path / "ckpg-999999999x1-ab", tmp_path / f"ckpg-{owner_tag()}-cd"
    for folder in (ended, alive):
        (folder / "data").mkdir(parents=True)
    assert sweep_stale_folders(tmp_path, "ckpg-", "data/postmaster.pid") == [ended]
    assert alive.exists()
