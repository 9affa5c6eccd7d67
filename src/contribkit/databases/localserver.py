"""What every throw-away database server contribkit runs shares: where its folder goes, how it
dies with us, how its folder is removed, and its life from start to stop (:class:`ThrowawayServer`).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from contribkit.core.errors import UsageError
from contribkit.core.ownership import owner_is_gone, owner_tag, uninterrupted
from contribkit.core.signals import deferred_signals
from contribkit.databases import datadir_cache

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

    A folder named with its run's owner tag is stale as soon as that run has ended. One without
    (made by an older contribkit) is stale when no process runs under the pid its ``pid_file``
    names and it is older than ``STALE_AFTER_SECONDS``: it may belong to a run still
    initialising its server.
    """
    removed = []
    for folder in parent.glob(f"{prefix}*"):
        if owner_is_gone(folder.name, prefix):
            remove_folder(folder)
            removed.append(folder)
            continue
        if _TAGGED.match(folder.name, len(prefix)):
            continue  # its run is alive
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


_TAGGED = re.compile(r"\d+x\d+-")


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


class ThrowawayServer:
    """The life every throw-away server shares, from ``begin()`` to ``stop()``.

    A private folder (removed on stop, swept when a killed run left it), a data folder made by
    the server's own initialisation or copied from the cache of fresh ones (``datadir_cache``),
    then the server itself, whose start a subclass makes in :meth:`_launch`. A cached data folder
    that cannot be copied or started is discarded and made afresh: a damaged cache costs one
    slow start, never a failed one. ``begin()`` only launches the data folder's making, so the
    caller can do other work meanwhile; ``finish()`` waits and starts the server.
    """

    #: The folder's name prefix; its pid file, relative to it; the cache entries' kind; a file
    #: every complete data folder holds; what messages call the server.
    prefix = ""
    pid_file = ""
    cache_kind = ""
    cache_marker = ""
    label = ""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        # The initialisation, or the copy of a cached data folder.
        self._preparing: subprocess.Popen[bytes] | None = None
        self._cache_key = ""
        #: The cached data folder this server's is copied from, if any.
        self.template: Path | None = None

    # What a subclass says -------------------------------------------------------------------

    def _locate(self) -> None:
        """Find the server's binaries, or raise a one-line UsageError saying how to get them."""
        raise NotImplementedError

    def _server_binary(self) -> Path:
        raise NotImplementedError

    def _init_args(self) -> list[str]:
        """The arguments that shape a fresh data folder (part of its cache key)."""
        raise NotImplementedError

    def _init_command(self) -> list[str]:
        raise NotImplementedError

    def _launch(self) -> None:
        """Start the server on the data folder and wait until it is ready (``self.process``)."""
        raise NotImplementedError

    def _shutdown(self, process: subprocess.Popen[bytes]) -> None:
        process.kill()
        process.wait()

    def _take_folder(self) -> int:
        """Make the new folder usable by the server; returns the data folder's owner."""
        return os.geteuid()

    def _credentials(self) -> dict[str, object]:
        """``subprocess`` arguments that run a command as the server's user."""
        return {}

    # The shared life ------------------------------------------------------------------------

    @property
    def _data(self) -> Path:
        assert self.folder is not None, "server not started"
        return self.folder / "data"

    def start(self) -> ThrowawayServer:
        """Start the server and wait until it accepts connections."""
        return self.begin().finish()

    def begin(self) -> ThrowawayServer:
        """Create the folder and launch the data folder's making without waiting for it."""
        self._locate()
        # From here on, whatever interrupts us, the server and its folder go at exit at the latest.
        atexit.register(self.stop)
        parent = server_parent()
        sweep_stale_folders(parent, self.prefix, self.pid_file)
        with deferred_signals():  # the folder is ours to remove from the moment it exists
            self.folder = Path(tempfile.mkdtemp(prefix=f"{self.prefix}{owner_tag()}-", dir=parent))
        try:
            owner = self._take_folder()
            self._cache_key = datadir_cache.cache_key(
                self.cache_kind, self._server_binary(), self._init_args(), owner
            )
            self.template = datadir_cache.find(self._cache_key, self.cache_marker)
            if self.template is None:
                self._start_preparing(self._init_command(), self._credentials())
            else:
                # Run as us, who can read the cache; the copy keeps the data folder's owner.
                self._start_preparing(datadir_cache.copy_command(self.template, self._data), {})
        except BaseException:
            self.stop()
            raise
        return self

    def _start_preparing(self, argv: list[str], credentials: dict[str, object]) -> None:
        assert self.folder is not None
        # Launched and recorded together, so that stop() can always find and kill it.
        with deferred_signals(), open(self.folder / "prepare.log", "wb") as log:
            self._preparing = subprocess.Popen(
                argv,
                **credentials,  # type: ignore[arg-type]
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # an initialisation may run servers of its own: stopped, the whole group goes.
                start_new_session=True,
            )

    def _finish_preparing(self) -> bool:
        """Wait for the data folder; False when the copy of a cached one failed."""
        assert self.folder is not None and self._preparing is not None, "call begin() first"
        code = self._preparing.wait()
        self._preparing = None
        if code == 0:
            if self.template is None:  # fresh: cache it before a server changes it
                datadir_cache.publish(self._data, self._cache_key)
            return True
        if self.template is not None:
            return False
        tail = (self.folder / "prepare.log").read_text(errors="replace").strip()[-300:]
        raise UsageError(f"the {self.label} server failed to initialise: {tail}")

    def _without_template(self) -> None:
        """Drop the cached data folder that failed us and make a fresh one."""
        datadir_cache.discard(self._cache_key)
        self.template = None
        self._stop_server()
        remove_folder(self._data)
        self._start_preparing(self._init_command(), self._credentials())
        self._finish_preparing()

    def finish(self) -> ThrowawayServer:
        """Wait for the data folder, then start the server and wait until it is ready."""
        try:
            if not self._finish_preparing():
                self._without_template()
            try:
                self._launch()
            except UsageError:
                if self.template is None:
                    raise
                self._without_template()
                self._launch()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (see :meth:`_shutdown`); always removes its folder."""
        uninterrupted(self._stop)
        atexit.unregister(self.stop)

    def _stop(self) -> None:
        preparing, self._preparing = self._preparing, None
        if preparing is not None and preparing.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # it may have just finished
                os.killpg(preparing.pid, signal.SIGKILL)
            preparing.wait()
        self._stop_server()
        folder, self.folder = self.folder, None
        if folder is not None:
            remove_folder(folder)

    def _stop_server(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            self._shutdown(process)

    def __enter__(self) -> ThrowawayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
