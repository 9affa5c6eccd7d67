"""What every throw-away database server contribkit runs shares: where its folder goes, how it
dies with us, how its folder is removed.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from contribkit.core.ownership import uninterrupted

RAM_FOLDER = Path("/dev/shm")
RAM_FOLDER_MIN_FREE = 1 << 30


def _ram_folder_has_room() -> bool:
    try:
        usage = os.statvfs(RAM_FOLDER)
    except OSError:
        return False
    free = usage.f_bavail * usage.f_frsize
    return free >= RAM_FOLDER_MIN_FREE and os.access(RAM_FOLDER, os.W_OK | os.X_OK)


def server_parent() -> Path:
    """Where server folders go.

    A RAM-backed folder when the system has a roomy one and ``TMPDIR`` does not name another
    place: a cluster is about 1,000 files, and creating them (the copy, each CREATE DATABASE)
    took up to a second on this machine's disk against 0.08 s in RAM. Otherwise the temp
    folder, unless its path would push the socket past the 107-byte Unix limit.
    """
    if "TMPDIR" not in os.environ and _ram_folder_has_room():
        return RAM_FOLDER
    # The first call probes the folder with a file of its own, created and removed.
    default = uninterrupted(tempfile.gettempdir)
    return Path(default if len(default) <= 48 or os.name != "posix" else "/tmp")


STALE_AFTER_SECONDS = 600


def sweep_stale_folders(parent: Path, prefix: str, pid_file: str) -> list[Path]:
    """Remove server folders (``prefix*``) left by runs that were SIGKILLed: their server died
    with them.

    A folder is stale when no process runs under the pid that its ``pid_file`` (relative to
    the folder) names, and it is older than ``STALE_AFTER_SECONDS``: a younger one may belong
    to a run still initialising its server.
    """
    removed = []
    for folder in parent.glob(f"{prefix}*"):
        try:
            if time.time() - folder.stat().st_mtime < STALE_AFTER_SECONDS:
                continue
            pid_lines = (folder / pid_file).read_text().splitlines()
        except FileNotFoundError:
            pid_lines = []
        except OSError:
            continue
        if pid_lines and Path(f"/proc/{pid_lines[0].strip()}").exists():
            continue
        remove_folder(folder)
        removed.append(folder)
    return removed


def remove_folder(folder: Path, attempts: int = 50) -> None:
    """Remove ``folder``, retrying while processes that just died may still be writing to it."""
    for _ in range(attempts):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return
        time.sleep(0.02)


def die_with_parent_hook(signum: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the child sent ``signum`` (its fast shutdown) when we die.

    libc is loaded here, in the parent: loading a library in the forked child of a process
    with threads can deadlock on a lock another thread held at the fork.
    """
    if sys.platform != "linux":
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def die_with_parent() -> None:  # pragma: no cover - runs in the forked child
        prctl(1, signum)  # PR_SET_PDEATHSIG

    return die_with_parent
