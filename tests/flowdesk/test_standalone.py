"""flowdesk runs without contribkit: contribkit is a development tool, not a run-time dependency.

Each check runs a real entry point in a fresh interpreter with ``-X importtime``, which lists
every module the process imported, and fails on any ``contribkit`` module among them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from process_support import free_port

FLOWDESK = str(Path(sys.executable).parent / "flowdesk")
PACKAGE = Path(__file__).resolve().parents[2] / "src" / "flowdesk"


def imported_modules(stderr: str) -> set[str]:
    """The module names of ``-X importtime``'s report (``import time: self | total | name``)."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def assert_no_contribkit(stderr: str) -> None:
    modules = imported_modules(stderr)
    assert modules, "no -X importtime report: " + stderr[-2000:]
    leaked = sorted(m for m in modules if m.split(".")[0] == "contribkit")
    assert not leaked, f"contribkit imported at run time: {leaked}"


def errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("import time:")]


def flowdesk(url: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLOWDESK_DATABASE_URL": url}
    command = [sys.executable, "-X", "importtime", FLOWDESK, *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    assert_no_contribkit(result.stderr)
    return result


def serve_until_sigterm(url: str, args: list[str], ready) -> str:  # type: ignore[no-untyped-def]
    """Start ``flowdesk *args``, wait until ``ready(lines)`` (``lines``: its stdout so far),
    stop it with SIGTERM; its stderr."""
    env = {**os.environ, "FLOWDESK_DATABASE_URL": url}
    command = [sys.executable, "-X", "importtime", FLOWDESK, *args]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    stderr: list[str] = []
    # Both pipes drained as they fill: -X importtime writes its report while the process runs.
    readers = [
        threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True),
        threading.Thread(target=lambda: stderr.extend(process.stderr or ()), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        deadline = time.monotonic() + 60
        while not ready(lines):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        for reader in readers:
            reader.join(timeout=60)
    err = "".join(stderr)
    assert process.returncode == 0, "\n".join(errors(err))
    return err


def test_the_database_commands_server_and_worker_import_no_contribkit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'flowdesk.db'}"
    upgraded = flowdesk(url, "server", "database", "upgrade", "-y")
    assert upgraded.returncode == 0, upgraded.stderr
    current = flowdesk(url, "server", "database", "current")
    assert current.returncode == 0 and "(up to date)" in current.stdout, current.stderr

    assert flowdesk(url, "server", "database", "downgrade", "-y").returncode == 0
    for command in ("server", "worker"):
        refused = flowdesk(url, command, "start")
        assert refused.returncode == 2
        assert "flowdesk server database upgrade -y" in errors(refused.stderr)[-1]
    assert flowdesk(url, "server", "database", "upgrade", "-y").returncode == 0

    port = free_port()

    def healthy(_lines: list[str]) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5) as r:
                return r.read() == b'{"status":"ok","database":"ok"}'
        except OSError:
            return False

    assert_no_contribkit(
        serve_until_sigterm(url, ["server", "start", "--port", str(port)], healthy)
    )

    worker = ["worker", "start", "--poll-interval", "0.1", "--import", "flowdesk.example_flows"]
    polling_since: list[float] = []

    def polled(lines: list[str]) -> bool:
        """Its 'polling' line came (it started: a SIGTERM before would test the start-up), and
        it has polled for a second since, importing whatever a poll imports."""
        if not polling_since and any(" polling " in line for line in lines):
            polling_since.append(time.monotonic())
        return bool(polling_since) and time.monotonic() > polling_since[0] + 1

    assert_no_contribkit(serve_until_sigterm(url, worker, polled))


def test_migrating_the_test_database_imports_no_contribkit(database_url: str) -> None:
    """On the run's dialect (PostgreSQL too): down a revision and back to head."""
    for args in (("downgrade", "-y"), ("upgrade", "-y"), ("current",)):
        result = flowdesk(database_url, "server", "database", *args)
        assert result.returncode == 0, result.stderr
    assert "(up to date)" in result.stdout


def test_every_module_imports_without_contribkit() -> None:
    """All but the migrations folder: Alembic runs env.py and the revisions (above)."""
    modules = sorted(
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.relative_to(PACKAGE).parts
    )
    assert "flowdesk.cli" in modules and "flowdesk.server.api.app" in modules
    probe = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", probe, *modules],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert_no_contribkit(result.stderr)


@pytest.mark.parametrize("blocked", ["contribkit", "contribkit.commands"])
def test_revision_without_contribkit_is_one_line(blocked: str) -> None:
    """The contributor command says what to install when contribkit is not there."""
    probe = (
        "import sys\n"
        f"sys.modules[{blocked!r}] = None  # as if it were not installed\n"
        "from flowdesk.cli import main\n"
        "sys.exit(main(['server', 'database', 'revision', '-m', 'x']))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and "uv sync" in line
