"""Build a project's web UI into the folder its server serves, and run the UI's dev server.

``[tool.contribkit] ui`` is an npm project whose ``npm run build`` writes ``dist/`` (Vite's
default); ``static`` is where the server looks for the result. A build is swapped in whole: it is
made next to ``static`` and renamed into place, so a failed build leaves the previous one served.
The hash of the UI's sources and lockfile is stored with the build, and an unchanged UI is not
rebuilt; checking that must stay fast, so this module imports nothing heavy.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from contribkit.core.config import ProjectConfig
from contribkit.core.errors import CheckFailed, UsageError
from contribkit.core.ownership import temporary_folder
from contribkit.core.signals import deferred_signals

#: Stored in the static folder: the hash of the sources that build came from.
HASH_FILE = ".build-hash"
#: Where ``npm run build`` writes, relative to the UI folder.
OUTPUT = "dist"
#: Folders inside the UI that are installed, built or written by tests: never sources.
NOT_SOURCES = frozenset({"node_modules", OUTPUT, "test-results", "coverage"})
#: Installs exactly what the lockfile says, without the network's audit and funding chatter.
NPM_CI = ["ci", "--no-audit", "--no-fund"]
#: How much of npm's output a failure shows.
TAIL_LINES = 25


@dataclass(frozen=True)
class BuildResult:
    static_dir: Path
    built: bool
    seconds: float


def ui_folders(config: ProjectConfig) -> tuple[Path, Path]:
    """The UI's npm project and the folder its build is served from."""
    if config.ui_dir is None or config.static_dir is None:
        raise UsageError(
            "no UI configured: set [tool.contribkit] ui = 'ui' and static = 'path/served/by/app'."
        )
    if not (config.ui_dir / "package.json").is_file():
        raise UsageError(f"{config.ui_dir} has no package.json: [tool.contribkit] ui must name it.")
    return config.ui_dir, config.static_dir


def source_hash(ui_dir: Path) -> str:
    """SHA-256 over every source file's path and content (lockfile included)."""
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(ui_dir):
        dirs[:] = sorted(d for d in dirs if d not in NOT_SOURCES)
        for name in sorted(files):
            path = Path(folder, name)
            digest.update(path.relative_to(ui_dir).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def built_hash(static_dir: Path) -> str | None:
    """The hash stored with the build being served, if there is a complete one."""
    try:
        if (static_dir / "index.html").is_file():
            return (static_dir / HASH_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        pass
    return None


def wanted_node_major(config: ProjectConfig) -> int | None:
    """The major version ``.nvmrc`` asks for (UI folder first, then the project root)."""
    for folder in (config.ui_dir, config.root):
        nvmrc = folder / ".nvmrc" if folder else None
        if nvmrc and nvmrc.is_file():
            text = nvmrc.read_text(encoding="utf-8").strip()
            major = text.removeprefix("v").split(".")[0]
            if not major.isdigit():
                raise UsageError(f"{nvmrc} says {text!r}: write a version number such as 20.")
            return int(major)
    return None


def check_node(config: ProjectConfig) -> str:
    """``node`` and ``npm`` are on PATH and Node is the major ``.nvmrc`` names; its version."""
    wanted = wanted_node_major(config)
    hint = f"install Node {wanted} (see .nvmrc)" if wanted else "install Node.js"
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise UsageError(f"{tool} is not on PATH: {hint}, e.g. with 'nvm install'.")
    version = subprocess.run(
        ["node", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    major = version.removeprefix("v").split(".")[0]
    if wanted is not None and major != str(wanted):
        raise UsageError(
            f"Node {version or '(unknown version)'} is on PATH but .nvmrc asks for {wanted}: "
            "run 'nvm use' or put that version first on PATH."
        )
    return version


def npm(args: Sequence[str], ui_dir: Path) -> None:
    """Run npm quietly; on failure, raise with the tail of what it printed."""
    from contribkit.core import reporting

    reporting.step(f"npm {' '.join(args)}")
    result = subprocess.run(
        ["npm", *args],
        cwd=ui_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        tail = "\n".join(result.stdout.rstrip().splitlines()[-TAIL_LINES:])
        raise CheckFailed(
            f"npm {' '.join(args)} failed (exit {result.returncode}) in {ui_dir}; "
            "its last lines are above.",
            details=tail,
        )


def ensure_dependencies(ui_dir: Path, *, always: bool = False) -> None:
    """``npm ci``, unless ``node_modules`` is newer than the lockfile (``always``: regardless)."""
    if not (ui_dir / "package-lock.json").is_file():
        raise UsageError(
            f"{ui_dir} has no package-lock.json: run 'npm install' there and commit the lockfile."
        )
    if always or dependencies_stale(ui_dir):
        npm(NPM_CI, ui_dir)


def dependencies_stale(ui_dir: Path) -> bool:
    """True when ``node_modules`` is missing or older than the lockfile."""
    installed = ui_dir / "node_modules" / ".package-lock.json"
    lockfile = ui_dir / "package-lock.json"
    return not installed.is_file() or installed.stat().st_mtime < lockfile.stat().st_mtime


def swap_in(output: Path, static_dir: Path, digest: str) -> None:
    """Copy ``output`` next to ``static_dir`` and rename it into place.

    The old build is renamed aside and the new one renamed in, microseconds apart and with
    Ctrl-C held; if the second rename fails the old build is put back, so the server always has
    a complete build to serve. The old build is removed only once the new one is in place.
    """
    static_dir.parent.mkdir(parents=True, exist_ok=True)
    # Removed on the way out unless renamed into place.
    with temporary_folder(f".{static_dir.name}-new-", static_dir.parent) as staging:
        shutil.copytree(output, staging, dirs_exist_ok=True)
        (staging / HASH_FILE).write_text(digest + "\n", encoding="utf-8")
        # mkdtemp's 0700 would hide the build from a server run as another user.
        staging.chmod(0o755)
        retired = staging.with_name(staging.name.replace("-new-", "-old-"))
        with deferred_signals() as deferral:
            if static_dir.exists():
                static_dir.rename(retired)
            try:
                staging.rename(static_dir)
            except OSError as exc:
                if retired.exists():
                    _put_back(retired, static_dir, exc)
                raise
            deferral.finish_work()  # the new build is served: a Ctrl-C held meanwhile undoes nothing
            shutil.rmtree(retired, ignore_errors=True)


def _put_back(retired: Path, static_dir: Path, failure: OSError) -> None:
    try:
        retired.rename(static_dir)
    except OSError:
        raise CheckFailed(
            f"could not move the new UI build into {static_dir} ({failure.strerror}), nor the "
            f"previous one back: it is in {retired}; rename it to {static_dir.name}."
        ) from failure


def build(config: ProjectConfig, *, force: bool = False) -> BuildResult:
    """``npm ci`` and ``npm run build``, then swap the output in; skipped when nothing changed."""
    started = time.perf_counter()
    ui_dir, static_dir = ui_folders(config)
    digest = source_hash(ui_dir)
    if not force and built_hash(static_dir) == digest:
        return BuildResult(static_dir, built=False, seconds=time.perf_counter() - started)
    check_node(config)
    ensure_dependencies(ui_dir, always=True)
    npm(["run", "build"], ui_dir)
    output = ui_dir / OUTPUT
    if not (output / "index.html").is_file():
        raise CheckFailed(f"npm run build wrote no {OUTPUT}/index.html in {ui_dir}.")
    swap_in(output, static_dir, digest)
    return BuildResult(static_dir, built=True, seconds=time.perf_counter() - started)


def checks(config: ProjectConfig) -> list[str]:
    """The npm scripts that test the UI (``[tool.contribkit] ui_checks``, default ``test``)."""
    return list(config.ui_checks)


def dev_command(config: ProjectConfig, api_url: str) -> tuple[list[str], Path, dict[str, str]]:
    """argv, folder and environment of the UI's dev server, with its dependencies installed.

    The UI's dev server forwards ``/api`` to ``api_url``, read from ``API_PROXY_TARGET``.
    """
    ui_dir, _ = ui_folders(config)
    check_node(config)
    ensure_dependencies(ui_dir)
    return ["npm", "run", "dev"], ui_dir, {"API_PROXY_TARGET": api_url}
