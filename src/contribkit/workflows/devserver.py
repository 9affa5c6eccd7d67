"""Development servers: the API with hot reload, the worker restarted on changes, and all of them
(with the UI's dev server) at once under one supervisor.

What runs comes from ``[tool.contribkit]``: ``app`` (an ASGI app factory, ``module:function``,
served by uvicorn), ``worker`` (the worker's argv), ``api_port``, and ``watch`` (the folders
whose changes reload, default ``["src"]``).

Every service runs in its own process group, so stopping one stops whatever it started (npm's
node, uvicorn's reloaded worker): Ctrl-C or SIGTERM stops them all, and the first service to
exit stops the others and says why.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO

from contribkit.core.config import ProjectConfig
from contribkit.core.errors import CheckFailed, UsageError
from contribkit.core.ownership import start_recorded, uninterrupted

#: How long a service gets to stop after SIGTERM before its group is killed.
STOP_TIMEOUT = 5.0
COLORS = ("36", "35", "33", "32", "34", "31")


@dataclass(frozen=True)
class Service:
    """One long-running command, named for the prefix of its output lines."""

    name: str
    argv: list[str]
    cwd: Path | None = None
    env: dict[str, str] = field(default_factory=dict)


def check_port_free(host: str, port: int) -> None:
    """Bind ``host:port`` for a moment: a port in use is one line now, not a traceback later."""
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise UsageError(f"cannot resolve host {host!r}: {exc.strerror}.") from exc
    with socket.socket(info[0], info[1]) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(info[4])
        except OSError as exc:
            raise UsageError(
                f"port {port} on {host} is already in use ({exc.strerror}): "
                "stop what uses it or pass --port."
            ) from exc


def watch_paths(config: ProjectConfig) -> list[Path]:
    """The existing folders of ``[tool.contribkit] watch`` (default ``src``), else the root."""
    folders = [config.root / name for name in config.watch]
    return [folder for folder in folders if folder.is_dir()] or [config.root]


def api_url(config: ProjectConfig) -> str:
    """Where the dev API listens: what the UI's dev server forwards ``/api`` to."""
    return f"http://127.0.0.1:{config.api_port}"


def api_service(config: ProjectConfig, host: str, port: int) -> Service:
    """uvicorn serving the ``app`` factory, reloading when a watched file changes."""
    app = config.require("app")
    reload_dirs = [f"--reload-dir={path}" for path in watch_paths(config)]
    argv = [sys.executable, "-m", "uvicorn", app, "--factory", "--reload", *reload_dirs]
    return Service("api", [*argv, "--host", host, "--port", str(port)], cwd=config.root)


def worker_service(config: ProjectConfig) -> Service:
    """``contribkit dev worker``: the configured worker, restarted when a watched file changes."""
    config.require("worker")
    return Service("worker", [sys.executable, "-m", "contribkit", "dev", "worker"], cwd=config.root)


def ui_service(config: ProjectConfig) -> Service:
    from contribkit.workflows import ui

    argv, ui_dir, env = ui.dev_command(config, api_url(config))
    return Service("ui", argv, cwd=ui_dir, env=env)


def describe_exit(code: int) -> str:
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def start(service: Service, stdout: int | IO[bytes] | None = None) -> subprocess.Popen[bytes]:
    """Start ``service`` in a new process group (and session: the terminal's Ctrl-C is ours)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **service.env}
    return subprocess.Popen(
        service.argv,
        cwd=service.cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.STDOUT if stdout is not None else None,
        start_new_session=True,
    )


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
        os.killpg(process.pid, signum)


def stop(processes: Sequence[subprocess.Popen[bytes]], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM each process group, wait up to ``timeout``, then SIGKILL what is left."""
    for process in processes:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(max(0.0, deadline - time.monotonic()))
    # SIGKILL also reaches descendants that outlived their service's main process.
    for process in processes:
        _signal_group(process, signal.SIGKILL)
        process.wait()


def _pump(name: str, stream: IO[bytes], out: IO[str], lock: threading.Lock) -> None:
    """Copy a service's output to ``out`` line by line, each line prefixed by its name."""
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace").rstrip("\r\n")
        with lock:
            out.write(f"{name}{line}\n")
            out.flush()


def run_services(services: Sequence[Service], out: IO[str] | None = None) -> None:
    """Run ``services`` until Ctrl-C/SIGTERM, or until one exits, which stops the others.

    With more than one service each output line starts with ``name |``. A service that exits on
    its own is a failure (:class:`CheckFailed` naming it and how it ended): dev servers run until
    stopped.
    """
    from contribkit.core import reporting

    out = out or sys.stdout
    width = max(len(service.name) for service in services)
    lock = threading.Lock()
    running: dict[str, subprocess.Popen[bytes]] = {}
    pumps: list[threading.Thread] = []
    try:
        for index, service in enumerate(services):
            if len(services) == 1:  # nothing to tell apart: keep the terminal (and its colours)
                start_recorded(running, service.name, partial(start, service))
                continue
            label = f"{service.name:<{width}} | "
            if out.isatty():
                label = f"\033[{COLORS[index % len(COLORS)]}m{label}\033[0m"
            process = start_recorded(
                running, service.name, partial(start, service, stdout=subprocess.PIPE)
            )
            assert process.stdout is not None
            pump = threading.Thread(
                target=_pump, args=(label, process.stdout, out, lock), daemon=True
            )
            pump.start()
            pumps.append(pump)
        while True:
            for name, process in running.items():
                code = process.poll()
                if code is not None:
                    others = [other for other in running if other != name]
                    stopping = f"; stopped {', '.join(others)}" if others else ""
                    raise CheckFailed(f"{name} {describe_exit(code)}{stopping}.")
            time.sleep(0.1)
    except KeyboardInterrupt:
        reporting.step(f"stopping {', '.join(running)}")
    finally:
        uninterrupted(stop, list(running.values()))
        for pump in pumps:
            pump.join(timeout=1.0)  # a grandchild killed with the group closes the pipe


def serve_api(config: ProjectConfig, host: str, port: int | None = None) -> None:
    """``dev.api``: the API with hot reload, after checking that its port is free."""
    port = port or config.api_port
    check_port_free(host, port)
    run_services([api_service(config, host, port)])


def serve_ui(config: ProjectConfig) -> None:
    """``ui.dev``: the UI's dev server alone, forwarding ``/api`` to the dev API."""
    run_services([ui_service(config)])


def serve_all(config: ProjectConfig, host: str = "127.0.0.1") -> None:
    """``dev.start``: API, UI dev server and worker, under one supervisor."""
    port = config.api_port
    check_port_free(host, port)
    run_services([api_service(config, host, port), ui_service(config), worker_service(config)])


def run_with_reload(argv: Sequence[str], paths: Sequence[Path], cwd: Path | None = None) -> None:
    """Run ``argv`` and restart it whenever a Python file under ``paths`` changes.

    When the command exits by itself (a crash, a configuration error) this waits for the next
    change, as uvicorn's reloader does, rather than ending: the fix is usually one save away.
    """
    from watchfiles import PythonFilter, watch

    from contribkit.core import reporting

    service = Service(argv[0], list(argv), cwd=cwd)
    running: dict[str, subprocess.Popen[bytes]] = {}
    reported = False
    changes_or_timeouts = watch(
        *paths, watch_filter=PythonFilter(), yield_on_timeout=True, rust_timeout=500
    )

    def restart() -> subprocess.Popen[bytes]:
        """Stopped, started and recorded as one step: the record never names a dead process."""
        stop([running[service.name]])
        running[service.name] = started = start(service)
        return started

    try:
        process = start_recorded(running, service.name, partial(start, service))
        for changes in changes_or_timeouts:
            if changes:
                reporting.step(f"{len(changes)} file(s) changed: restarting {' '.join(argv)}")
                process = uninterrupted(restart)
                reported = False
            elif process.poll() is not None and not reported:
                reporting.warn(
                    f"{' '.join(argv)} {describe_exit(process.returncode)}; "
                    "waiting for a change to restart it."
                )
                reported = True
    except KeyboardInterrupt:
        reporting.step(f"stopping {' '.join(argv)}")
    finally:
        uninterrupted(stop, list(running.values()))


def reload_worker(config: ProjectConfig) -> None:
    """``dev.worker``: the configured worker, restarted when a watched file changes."""
    from contribkit.core.tools import resolve_tool

    program, *args = config.require("worker")
    # The venv's own script first, so an unactivated `.venv/bin/invoke dev.worker` finds it.
    run_with_reload([resolve_tool(program), *args], watch_paths(config), cwd=config.root)
