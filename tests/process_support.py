"""Processes and ports, for tests that start servers and check that nothing outlives them."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path


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
