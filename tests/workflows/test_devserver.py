"""Dev servers: prefixed output, clean shutdown on Ctrl-C/SIGTERM, reloads, and port checks.

The supervisor runs in a child process, as it does under invoke, so that real signals reach it.
"No orphan" is checked on the whole machine: no process may be left whose working directory is
inside the test's folder (every service, and whatever it started, runs there).
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from devtools_support import NODE_MAJOR, contribkit, write_project, write_ui
from process_support import free_port, live_processes

from contribkit.workflows.devserver import STOP_TIMEOUT

SUPERVISE = """
import json, signal, sys
# Ctrl-C as a foreground terminal delivers it, even when the tests themselves run as a
# background job (whose children start with SIGINT ignored, and Python keeps it so).
signal.signal(signal.SIGINT, signal.default_int_handler)
from contribkit.workflows.devserver import Service, run_services
from contribkit.frontends.runner import run
services = [Service(**service) for service in json.loads(sys.argv[1])]
sys.exit(run(lambda: run_services(services)) or 0)
"""

# A service that starts a grandchild, says hello twice, then waits to be stopped.
SERVICE = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(f"hello from {sys.argv[1]}", flush=True)
print(f"second line from {sys.argv[1]}", flush=True)
time.sleep(600)
"""

STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('stubborn', flush=True); time.sleep(600)"
)

FAKE_APP = """
MESSAGE = "{message}"


def create_app():
    async def app(scope, receive, send):
        if scope["type"] == "http":
            await send({{"type": "http.response.start", "status": 200, "headers": []}})
            await send({{"type": "http.response.body", "body": MESSAGE.encode()}})

    return app
"""

WORKER = """
import os, sys
print(f"worker {os.getpid()} ready", flush=True)
if os.path.exists("crash"):
    sys.exit(4)
import time
time.sleep(600)
"""


class Running:
    """A command run in the background, its output collected line by line."""

    def __init__(self, argv: list[str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self.errors: list[str] = []
        self._readers = [
            threading.Thread(
                target=self._read, args=(self.process.stdout, self.lines), daemon=True
            ),
            threading.Thread(
                target=self._read, args=(self.process.stderr, self.errors), daemon=True
            ),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream, into: list[str]) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            into.append(line.rstrip("\n"))

    def wait_for(self, check: Callable[[], object], what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        pytest.fail(f"{what}: not seen.\nstdout: {self.lines}\nstderr: {self.errors}")

    def wait_for_line(self, text: str, count: int = 1, timeout: float = 30.0) -> None:
        self.wait_for(lambda: sum(text in line for line in self.lines) >= count, text, timeout)

    def finish(self, timeout: float = 30.0) -> int:
        code = self.process.wait(timeout)
        for reader in self._readers:
            reader.join(5)
        return code

    def stop(self) -> None:
        """SIGTERM (what the test is about), then SIGKILL if that did not work."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.finish()


@pytest.fixture
def background() -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def run(argv: list[str], cwd: Path) -> Running:
        started.append(Running(argv, cwd))
        return started[-1]

    yield run
    for running in started:
        running.stop()


def processes_in(folder: Path) -> list[str]:
    """Live processes whose working directory is inside ``folder``."""
    return [
        f"{pid}: {cmdline}"
        for pid, cwd, cmdline in live_processes()
        if cwd == str(folder) or cwd.startswith(f"{folder}/")
    ]


def assert_no_process_left(folder: Path, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while processes_in(folder) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_in(folder) == []


def supervise(background, tmp_path: Path, services: dict[str, list[str]]) -> Running:  # type: ignore[no-untyped-def]
    spec = [{"name": name, "argv": argv, "cwd": str(tmp_path)} for name, argv in services.items()]
    return background([sys.executable, "-c", SUPERVISE, json.dumps(spec)], tmp_path)


def service(name: str) -> list[str]:
    return [sys.executable, "-c", SERVICE, name]


def test_each_line_is_prefixed_with_its_service(background, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    running = supervise(background, tmp_path, {"api": service("api"), "worker": service("worker")})
    running.wait_for_line("second line from api")
    running.wait_for_line("second line from worker")
    running.process.send_signal(signal.SIGINT)
    assert running.finish() == 0
    for name in ("api", "worker"):
        mine = [line for line in running.lines if line.endswith(f"from {name}")]
        assert mine == [f"{name:<6} | hello from {name}", f"{name:<6} | second line from {name}"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_stopping_the_supervisor_leaves_no_process(background, tmp_path: Path, signum) -> None:  # type: ignore[no-untyped-def]
    running = supervise(background, tmp_path, {"one": service("one"), "two": service("two")})
    running.wait_for_line("hello from one")
    running.wait_for_line("hello from two")
    assert len(processes_in(tmp_path)) == 5  # the supervisor, 2 services, 2 grandchildren
    running.process.send_signal(signum)
    assert running.finish() == 0
    assert any("stopping one, two" in line for line in running.lines)
    assert_no_process_left(tmp_path)


def test_a_service_that_ignores_sigterm_is_killed(background, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    running = supervise(
        background,
        tmp_path,
        {"calm": service("calm"), "stubborn": [sys.executable, "-c", STUBBORN]},
    )
    running.wait_for_line("stubborn")
    running.wait_for_line("hello from calm")
    started = time.monotonic()
    running.process.send_signal(signal.SIGTERM)
    assert running.finish() == 0
    # Killed after the stop timeout instead of waited for (it sleeps 600 s); slack for a slow machine.
    assert time.monotonic() - started < STOP_TIMEOUT + 30
    assert_no_process_left(tmp_path)


def test_one_failing_service_stops_the_rest(background, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    failing = [
        sys.executable,
        "-c",
        "import sys, time; time.sleep(1); print('giving up'); sys.exit(3)",
    ]
    running = supervise(background, tmp_path, {"api": service("api"), "bad": failing})
    assert running.finish() == 1
    assert "bad | giving up" in running.lines
    assert running.errors == ["error: bad exited with code 3; stopped api."]
    assert_no_process_left(tmp_path)


def test_dev_api_refuses_a_port_in_use(tmp_path: Path) -> None:
    write_project(tmp_path, {"app": "fakeapp:create_app"})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = contribkit("dev", "api", "--port", str(port), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: port {port} on 127.0.0.1 is already in use (Address already in use): "
        "stop what uses it or pass --port.\n"
    )


@pytest.mark.parametrize("port", ["abc", "0", "70000", "²"])
def test_dev_api_rejects_a_bad_port_in_one_line_on_every_frontend(port: str, capsys) -> None:  # type: ignore[no-untyped-def]
    from contribkit.frontends.cli import main

    expected = f"error: --port must be a number from 1 to 65535, not '{port}'.\n"
    invoke = Path(sys.executable).parent / "invoke"
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [invoke, "dev.api", "--port", port], cwd=root, capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stderr) == (2, expected)
    assert main(["dev", "api", "--port", port]) == 2
    assert capsys.readouterr().err == expected


def get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read().decode()
    except OSError:
        return None


def test_dev_api_reloads_when_a_source_changes(background, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    write_project(tmp_path, {"app": "fakeapp:create_app", "api_port": port, "watch": ["."]})
    (tmp_path / "fakeapp.py").write_text(FAKE_APP.format(message="v1"))
    running = background([sys.executable, "-m", "contribkit", "dev", "api"], tmp_path)
    url = f"http://127.0.0.1:{port}/"
    running.wait_for(lambda: get(url) == "v1", "the app answering v1")

    def edited_and_reloaded() -> bool:
        # uvicorn's reloader starts watching a moment after the app answers: edit until seen.
        if get(url) == "v2":
            return True
        # Once a change is seen, only wait: another edit would restart the reload again.
        if not any("WatchFiles detected changes" in line for line in running.errors):
            (tmp_path / "fakeapp.py").write_text(FAKE_APP.format(message="v2"))
        time.sleep(1)
        return False

    running.wait_for(edited_and_reloaded, "the reloaded app answering v2")
    assert any("WatchFiles detected changes in 'fakeapp.py'" in line for line in running.errors)
    running.process.send_signal(signal.SIGTERM)
    assert running.finish() == 0
    assert_no_process_left(tmp_path)


def test_dev_worker_restarts_on_change_and_waits_after_a_crash(background, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    write_project(tmp_path, {"worker": [sys.executable, "worker.py"], "watch": ["."]})
    (tmp_path / "worker.py").write_text(WORKER)
    (tmp_path / "crash").touch()
    running = background([sys.executable, "-m", "contribkit", "dev", "worker"], tmp_path)
    running.wait_for_line("ready")
    running.wait_for_line("exited with code 4; waiting for a change to restart it.")
    (tmp_path / "crash").unlink()
    (tmp_path / "worker.py").write_text(WORKER + "\n# edited\n")
    running.wait_for_line("ready", count=2)
    running.wait_for_line("file(s) changed: restarting")
    assert running.process.poll() is None
    running.process.send_signal(signal.SIGTERM)
    assert running.finish() == 0
    assert_no_process_left(tmp_path)


def test_dev_start_runs_api_ui_and_worker_together(background, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    write_project(
        tmp_path,
        {
            "app": "fakeapp:create_app",
            "api_port": port,
            "worker": [sys.executable, "worker.py"],
            "ui": "ui",
            "static": "build",
            "watch": ["."],
        },
    )
    (tmp_path / "fakeapp.py").write_text(FAKE_APP.format(message="api here"))
    (tmp_path / "worker.py").write_text(WORKER)
    (tmp_path / ".nvmrc").write_text(NODE_MAJOR)
    write_ui(tmp_path / "ui")
    running = background([sys.executable, "-m", "contribkit", "dev", "start"], tmp_path)
    running.wait_for_line(f"ui     | dev server ready, /api goes to http://127.0.0.1:{port}")
    running.wait_for(
        lambda: any(line.startswith("worker | worker ") for line in running.lines), "worker"
    )
    running.wait_for(lambda: get(f"http://127.0.0.1:{port}/") == "api here", "the api")
    assert any(line.startswith("api    | ") for line in running.lines)
    running.process.send_signal(signal.SIGTERM)
    assert running.finish() == 0
    assert_no_process_left(tmp_path)
