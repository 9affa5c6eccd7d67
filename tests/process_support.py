"""Processes, ports and signals, for tests that start servers or interrupt work and check that
nothing outlives it."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

#: Where test clients say they send requests: the app answers only loopback names by default.
LOOPBACK = "http://127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def live_processes() -> Iterator[tuple[str, str, str]]:
    """(pid, working directory, command line) of every live process; zombies are dead."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cwd = os.readlink(proc / "cwd")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if state != "Z":
            yield proc.name, cwd, cmdline


class Interrupted(Exception):
    """Raised by SIGINT and SIGTERM under :func:`raise_on_signals`."""


def raise_on_signals() -> None:
    """SIGINT and SIGTERM raise :class:`Interrupted`, which pytest reports as one failed test,
    where a stray KeyboardInterrupt would end the whole run. The conftest puts the old
    handlers back after each test."""

    def handler(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handler)


def waiting_on_sqlite(pid: int, database: Path) -> bool:
    """Whether process ``pid`` has ``database`` open and sleeps: SQLite's busy handler, waiting
    for another connection's lock (``/proc``, Linux)."""
    proc = Path(f"/proc/{pid}")
    try:
        wchan = (proc / "wchan").read_text()
        opened = {os.readlink(fd) for fd in (proc / "fd").iterdir()}
    except OSError:  # gone, or a descriptor closed while it was listed
        return False
    return wchan.endswith("nanosleep") and str(database.resolve()) in opened
