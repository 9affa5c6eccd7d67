"""``flowdesk``: database commands, ``server start`` and ``worker start``, as users run them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from process_support import free_port

from flowdesk.cli import build_parser, cmd_revision, main
from flowdesk.errors import FlowdeskError
from flowdesk.server.database.engine import make_engine
from flowdesk.server.database.orm_models import Flow, FlowRun, Log, StateType

FLOWDESK = str(Path(sys.executable).parent / "flowdesk")
UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"


@pytest.fixture
def use_database(monkeypatch: pytest.MonkeyPatch):
    def use(url: str) -> None:
        monkeypatch.setenv("FLOWDESK_DATABASE_URL", url)

    return use


def flowdesk(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


def revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("alembic_version"):
                return None
            return connection.scalar(sa.text("SELECT version_num FROM alembic_version"))
    finally:
        engine.dispose()


def test_help_imports_nothing_heavy() -> None:
    probe = (
        "import sys; from flowdesk.cli import build_parser; build_parser();"
        "print(sorted({'sqlalchemy', 'fastapi', 'uvicorn', 'alembic'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_upgrade_creates_a_fresh_sqlite_database(tmp_path: Path, use_database, capsys) -> None:
    path = tmp_path / "new" / "flowdesk.db"
    use_database(f"sqlite:///{path}")
    code, out, err = flowdesk(capsys, "server", "database", "upgrade", "-y")
    assert code == 0, err
    assert path.is_file()
    head = revision(f"sqlite:///{path}")
    assert head is not None and head in out
    engine = make_engine(f"sqlite:///{path}")
    try:
        assert {"flow", "flow_run", "task_run", "log"} <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    code, out, _ = flowdesk(capsys, "server", "database", "current")
    assert code == 0 and f"{head} (up to date)" in out


def test_downgrade_needs_yes(database_url, use_database, capsys) -> None:
    use_database(database_url)
    head = revision(database_url)
    code, out, err = flowdesk(capsys, "server", "database", "current")
    assert code == 0 and f"{head} (up to date)" in out

    code, _, err = flowdesk(capsys, "server", "database", "downgrade")
    assert code == 2
    assert "rerun with -y" in one_error_line(err)
    assert revision(database_url) == head

    code, out, err = flowdesk(capsys, "server", "database", "downgrade", "-y")
    assert code == 0, err
    previous = revision(database_url)
    assert previous != head and f"downgraded to {previous or 'base'}" in out


def test_stamp_and_reset(database_url, use_database, capsys, add_flow, sessions) -> None:
    use_database(database_url)
    head = revision(database_url)
    assert flowdesk(capsys, "server", "database", "stamp", "base")[0] == 0
    assert revision(database_url) is None
    assert flowdesk(capsys, "server", "database", "stamp", "head")[0] == 0
    flow_id = add_flow("kept-until-reset")
    code, _, err = flowdesk(capsys, "server", "database", "reset")
    assert code == 2 and "-y" in one_error_line(err)
    with sessions() as session:
        assert session.get(Flow, flow_id) is not None  # refused: nothing dropped
    assert flowdesk(capsys, "server", "database", "reset", "-y")[0] == 0
    assert revision(database_url) == head
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Flow)) == 0


@pytest.mark.parametrize(
    "args",
    [("server", "database", "stamp", "nosuchrev"), ("server", "database", "upgrade", "-r", "nope")],
    ids=["stamp", "upgrade"],
)
def test_an_unknown_revision_is_one_line(shared_database_url, use_database, capsys, args) -> None:
    use_database(shared_database_url)
    code, _, err = flowdesk(capsys, *args)
    assert code == 2
    one_error_line(err)


@pytest.mark.parametrize(
    "args",
    [
        ("server", "database", "current"),
        ("server", "database", "upgrade", "-y"),
        ("server", "start"),
        ("worker", "start"),
    ],
    ids=["current", "upgrade", "server", "worker"],
)
def test_an_unreachable_database_is_one_line(use_database, capsys, args) -> None:
    use_database(UNREACHABLE)
    code, _, err = flowdesk(capsys, *args)
    assert code == 2
    line = one_error_line(err)
    assert "cannot reach the database" in line and "Traceback" not in err


def test_server_and_worker_refuse_a_database_not_at_head(
    database_url, use_database, capsys
) -> None:
    use_database(database_url)
    assert flowdesk(capsys, "server", "database", "downgrade", "-y")[0] == 0
    for command in ("server", "worker"):
        code, _, err = flowdesk(capsys, command, "start")
        assert code == 2
        assert "run 'flowdesk server database upgrade -y'" in one_error_line(err)


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (None, "ModuleNotFoundError: No module named"),
        ("import no_such_dependency_here\n", "ModuleNotFoundError: No module named"),
        ("1 / 0\n", "ZeroDivisionError: division by zero"),
        ("raise RuntimeError('first line\\nsecond line')\n", "RuntimeError: first line ("),
        ("def broken(:\n", "SyntaxError"),
    ],
    ids=["missing", "missing-dependency", "raises", "multi-line-message", "syntax-error"],
)
def test_worker_reports_a_module_it_cannot_import(
    shared_database_url, use_database, capsys, tmp_path, monkeypatch, source, reason
) -> None:
    """Whatever the module raises while it loads is one line; --debug shows the traceback."""
    use_database(shared_database_url)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [*sys.path])  # the command adds the current directory
    module = f"flows_{uuid.uuid4().hex}"
    if source is not None:
        (tmp_path / f"{module}.py").write_text(source)
    code, _, err = flowdesk(capsys, "worker", "start", "--import", module)
    assert code == 2
    line = one_error_line(err)
    assert f"--import {module}: {reason}" in line and "--debug" in line
    with pytest.raises(FlowdeskError) as raised:
        main(["--debug", "worker", "start", "--import", module])
    assert type(raised.value.__cause__).__name__ in reason


@pytest.mark.parametrize(
    "failure",
    [KeyboardInterrupt(), FlowdeskError("cannot reach the database")],
    ids=["ctrl-c", "caused-by-ctrl-c"],
)
def test_an_interrupt_is_one_line_and_exit_130(monkeypatch, capsys, failure) -> None:
    """Also when an error the interrupt caused replaces it (a connection cut mid-statement)."""
    from flowdesk.server.database import commands

    def interrupted() -> str:
        if isinstance(failure, KeyboardInterrupt):
            raise failure
        raise failure from KeyboardInterrupt()

    monkeypatch.setattr(commands, "describe", interrupted)
    code, _, err = flowdesk(capsys, "server", "database", "current")
    assert code == 130
    assert one_error_line(err) == "error: interrupted."
    with pytest.raises(type(failure)):
        main(["--debug", "server", "database", "current"])


BAD_NUMBERS = [
    *(
        ("worker", "--poll-interval", v)
        for v in ("0", "-1", "nan", "inf", "-inf", "1e400", "86401")
    ),
    *(("server", "--port", v) for v in ("0", "-1", "65536", "70000", "http", "4.2")),
]


@pytest.mark.parametrize(("command", "option", "value"), BAD_NUMBERS)
def test_bad_numbers_are_a_one_line_usage_error(capsys, command, option, value) -> None:
    """Refused while parsing, before any database or socket is touched."""
    with pytest.raises(SystemExit) as exited:
        main([command, "start", f"{option}={value}"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    [*_usage, line] = err.strip().splitlines()
    assert f"{option}: must be a" in line and repr(value) in line and "Traceback" not in err


# Generous: a subprocess that starts Python and imports the server takes over 15 s on a loaded
# 2-core machine, and a deadline only costs time when something is wrong.
def wait_for(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_server_start_serves_refuses_a_taken_port_and_stops_on_sigterm(
    shared_database_url,
) -> None:
    env = {**os.environ, "FLOWDESK_DATABASE_URL": shared_database_url}
    port = free_port()
    args = [FLOWDESK, "server", "start", "--port", str(port)]
    server = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:

        def healthy() -> bool:
            assert server.poll() is None, server.communicate()
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/health", timeout=5
                ) as response:
                    return response.read() == b'{"status":"ok","database":"ok"}'
            except OSError:
                return False

        wait_for(healthy)
        second = subprocess.run(args, env=env, capture_output=True, text=True, timeout=30)
        assert second.returncode == 2
        assert f"cannot listen on 127.0.0.1:{port}" in one_error_line(second.stderr)
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=60)
    assert server.returncode == 0, err


def start_worker(
    folder: Path, database_url: str, module: str, source: str
) -> subprocess.Popen[str]:
    """``flowdesk worker start`` polling every 0.1 s, with flows from ``module`` (``source``)."""
    (folder / f"{module}.py").write_text(source)
    env = {**os.environ, "FLOWDESK_DATABASE_URL": database_url}
    args = [FLOWDESK, "worker", "start", "--poll-interval", "0.1", "--import", module]
    return subprocess.Popen(
        args, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_worker_start_runs_imported_flows_until_sigterm(
    database_url, add_flow, add_run, sessions, tmp_path
) -> None:
    run_id = add_run(add_flow("greet"), parameters={"name": "ada"})
    worker = start_worker(
        tmp_path,
        database_url,
        "my_flows",
        "from flowdesk.registry import flow\n\n"
        "@flow('greet')\n"
        "def greet(name):\n"
        "    print('hello', name)\n",
    )
    try:

        def finished() -> bool:
            assert worker.poll() is None, worker.communicate()
            with sessions() as session:
                return session.get(FlowRun, run_id).state is StateType.COMPLETED

        wait_for(finished)
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    assert "hello ada" in out and "greet" in out


def test_a_second_signal_interrupts_a_hung_flow_and_fails_its_run(
    database_url, add_flow, add_run, sessions, tmp_path
) -> None:
    run_id = add_run(add_flow("hang"))
    worker = start_worker(
        tmp_path,
        database_url,
        "hung_flows",
        "import time\n"
        "from flowdesk.registry import flow\n\n"
        "@flow('hang')\n"
        "def hang():\n"
        "    time.sleep(600)\n",
    )

    def state() -> StateType:
        with sessions() as session:
            return session.get(FlowRun, run_id).state

    try:
        wait_for(lambda: worker.poll() is None and state() is StateType.RUNNING)
        worker.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # still running: the first signal only waits for the run to end
        assert worker.poll() is None and state() is StateType.RUNNING
        # Another signal than the first: two pending SIGTERMs would merge into one.
        worker.send_signal(signal.SIGINT)
        out, err = worker.communicate(timeout=60)
    finally:
        worker.kill()
    assert worker.returncode == 130, err
    assert "second Ctrl-C interrupts" in out
    assert f"interrupted: the flow of run {run_id} was stopped; no run is left" in one_error_line(
        err
    )
    assert state() is StateType.FAILED
    with sessions() as session:
        [message] = session.scalars(
            sa.select(Log.message).where(Log.flow_run_id == run_id, Log.level == 40)
        )
    assert "KeyboardInterrupt" in message


def test_revision_generates_a_migration_from_the_checkout(flowdesk_copy) -> None:
    """On a copy of the repository (SQLite only, to stay fast) with a new model column."""
    project = flowdesk_copy
    project.edit(
        "pyproject.toml", 'dialects = ["sqlite", "postgresql", "mysql"]', 'dialects = ["sqlite"]'
    )
    project.edit(
        "src/flowdesk/server/database/orm_models.py",
        "    worker: Mapped[str | None] = mapped_column(sa.String(200))\n",
        "    worker: Mapped[str | None] = mapped_column(sa.String(200))\n"
        "    note: Mapped[str | None] = mapped_column(sa.String(50))\n",
    )
    before = project.versions("sqlite")
    outcome = project.command(
        sys.executable, "-m", "flowdesk.cli", "server", "database", "revision",
        "--autogenerate", "-m", "add_flow_run_note",
    )  # fmt: skip
    assert outcome.code == 0, outcome.err
    [new] = sorted(set(project.versions("sqlite")) - set(before))
    assert new.name.endswith("_add_flow_run_note.py")
    assert "note" in new.read_text()


@pytest.mark.parametrize("flags", [[], ["--autogenerate"]], ids=["plain", "autogenerate"])
def test_revision_takes_autogenerate_as_optional(flags) -> None:
    args = build_parser().parse_args(["server", "database", "revision", *flags, "-m", "x"])
    assert (args.func, args.message) == (cmd_revision, "x")


def test_the_server_socket_turns_nagle_off_on_every_connection() -> None:
    """A socket made without its protocol number is not TCP to asyncio, which then leaves Nagle
    on: every answer on a kept-alive connection waited ~40 ms for the client's delayed ACK."""
    import asyncio
    import socket

    from flowdesk.cli import listening_socket

    async def nodelay_of_an_accepted_connection() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Note(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

        sock = listening_socket("127.0.0.1", 0)
        server = await asyncio.get_running_loop().create_server(Note, sock=sock)
        async with server:  # uvicorn serves the socket the same way
            _, writer = await asyncio.open_connection(*sock.getsockname())
            try:
                return await asyncio.wait_for(accepted, 10)
            finally:
                writer.close()

    assert asyncio.run(nodelay_of_an_accepted_connection()) != 0
