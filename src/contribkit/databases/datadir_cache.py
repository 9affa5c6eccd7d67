"""A per-user cache of freshly initialised data folders of throw-away database servers.

Initialising a data folder is most of a throw-away server's start-up (PostgreSQL's ``initdb``:
0.5 to 1.3 s on a 2-core machine; ``mariadb-install-db``: about 0.4 s), while copying its output
takes well under 0.1 s. So the first start publishes its new folder here, before a server has
ever run on it, and later starts copy that instead.

An entry is keyed by everything that shapes the folder (the server binary, the initialisation
arguments, the owner), appears atomically (copied under a partial name, then renamed), and is
only used from a cache folder that nobody else can write to: a planted data folder could
configure its server to run any command.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from contribkit.core.ownership import temporary_folder

PARTIAL_STALE_AFTER_SECONDS = 600


def cache_root() -> Path:
    import platformdirs

    return platformdirs.user_cache_path("contribkit")


def cache_key(kind: str, server: Path, init_args: Sequence[str], owner_uid: int) -> str:
    """Changes whenever a cached folder would differ from what initialisation makes now.

    ``kind`` names the server family (``pgdata``, ``mysqldata``): it prefixes the entry's name.
    """
    binary = server.stat()
    parts = [
        str(server.resolve()),
        str(binary.st_size),
        str(binary.st_mtime_ns),
        str(owner_uid),
        *init_args,
    ]
    return f"{kind}-{hashlib.sha256(chr(0).join(parts).encode()).hexdigest()[:16]}"


def _entry(key: str) -> Path:
    return cache_root() / key


def _trusted(root: Path) -> bool:
    """Ours alone: owned by us, a real folder, writable by nobody else."""
    try:
        info = root.lstat()
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.geteuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def find(key: str, marker: str) -> Path | None:
    """The cached data folder for ``key``, or None when there is none we can trust.

    ``marker``: a file, relative to the data folder, that every complete one holds.
    """
    data = _entry(key) / "data"
    if _trusted(cache_root()) and (data / marker).is_file():
        return data
    return None


def copy_command(source: Path, target: Path) -> list[str]:
    """Copies a data folder with its modes and (as root) its owner; ``target`` must not exist."""
    return ["cp", "-a", str(source), str(target)]


def publish(data: Path, key: str) -> None:
    """Copy ``data``, which was just initialised, into the cache unless it is there already.

    Best effort: a cache that cannot be written only costs the next start its ``initdb``.
    """
    root = cache_root()
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _trusted(root) or _entry(key).exists():
            return
        _sweep_partial(root)
        # Removed on the way out unless published.
        with temporary_folder(f"{key}.partial-", root) as partial:
            subprocess.run(copy_command(data, partial / "data"), check=True, capture_output=True)
            # Fails when another run published first: theirs is as good as ours.
            partial.rename(_entry(key))
    except (OSError, subprocess.CalledProcessError):
        pass


def discard(key: str) -> None:
    """Remove a cached data folder that failed to start, so that the next start makes a new one."""
    entry = _entry(key)
    # Renamed first, so that no run starts copying a folder that is being deleted.
    doomed = entry.with_name(f"{entry.name}.partial-discarded-{os.getpid()}")
    try:
        entry.rename(doomed)
    except OSError:
        return
    shutil.rmtree(doomed, ignore_errors=True)


def _sweep_partial(root: Path) -> None:
    """Remove partial copies left by runs that were killed while publishing."""
    for folder in root.glob("*.partial-*"):
        try:
            if time.time() - folder.stat().st_mtime > PARTIAL_STALE_AFTER_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue
