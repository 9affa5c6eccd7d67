"""Throw-away copies of the sample project for benchmarks and fault trials."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.report import ROOT
from tests.process_support import live_processes

SAMPLE = ROOT / "tests" / "sample_project"


def prepare(base: Path, *, pending_change: bool = True, second: str = "postgres") -> Path:
    """The sample project, adopted and migrated; with ``pending_change``, its models also widen
    a column, so ``migrate -m widen_city`` has one change to write. ``second``: its dialect
    besides SQLite."""
    pristine = base / f"{'pristine' if pending_change else 'settled'}-{second}"
    shutil.copytree(SAMPLE, pristine, ignore=shutil.ignore_patterns("__pycache__"))
    replace_in(pristine / "pyproject.toml", '"postgres"]', f'"{second}"]')
    env = {**os.environ, "PYTHONPATH": str(pristine)}
    for args in (["init"], ["migrate", "-m", "initial"]):
        subprocess.run(
            [sys.executable, "-m", "contribkit", *args],
            cwd=pristine,
            env=env,
            check=True,
            capture_output=True,
        )
    if not pending_change:
        return pristine
    replace_in(pristine / "inventory" / "models.py", "sa.String(80)", "sa.String(120)")
    return pristine


def replace_in(path: Path, old: str, new: str) -> None:
    """Edit ``path``, failing loudly if ``old`` is not there: a silent no-op would time (or
    trial) a run with nothing to do."""
    text = path.read_text()
    if old not in text:
        raise SystemExit(f"benchmark set-up: {old!r} not found in {path}")
    path.write_text(text.replace(old, new))


class Workspace:
    """A fresh project copy and a private TMPDIR for one trial."""

    def __init__(self, pristine: Path) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="ckf-", dir="/tmp"))  # short: sockets live below
        self.project = self.base / "project"
        self.tmp = self.base / "tmp"
        shutil.copytree(pristine, self.project)
        self.tmp.mkdir()
        self.before = self.snapshot()

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(self.project), "TMPDIR": str(self.tmp), **extra}

    def start(self, *args: str, **extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "contribkit", *args],
            cwd=self.project,
            env=self.env(**extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def snapshot(self) -> dict[str, bytes]:
        files = [*self.project.joinpath("migrations").rglob("*.py"), self.project / "NOTES.md"]
        return {
            str(p.relative_to(self.project)): p.read_bytes()
            for p in files
            if "__pycache__" not in p.parts
        }

    def new_revisions(self) -> int:
        return len(set(self.snapshot()) - set(self.before))

    def debris(self) -> str | None:
        left = [name for name in os.listdir(self.tmp) if not name.endswith(".lock")]
        users = [pid for pid, _, cmdline in live_processes() if str(self.tmp) in cmdline]
        if left or users:
            return f"left behind: files {left}, processes {users}"
        return None

    def unchanged(self) -> str | None:
        return None if self.snapshot() == self.before else "the project changed"

    def complete(self) -> str | None:
        notes = (self.project / "NOTES.md").read_text()
        if self.new_revisions() == 2 and notes.count("## Widen city") == 1:
            return None
        return f"incomplete: {self.new_revisions()} new revisions"

    def close(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
