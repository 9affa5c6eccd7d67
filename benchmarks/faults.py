"""Fault trials for `contribkit migrate`: `nox -s faults`.

Each trial runs the real CLI in a subprocess on a fresh copy of the sample project, with a
private TMPDIR so that every temporary file and server folder it makes can be accounted for:

* interrupts - SIGINT or SIGTERM at random points of a run;
* concurrency - two runs of one change at once;
* server killed - the embedded PostgreSQL SIGKILLed while the run uses it;
* bad input - every bad input the migrations issue lists.

Afterwards: the project's migrations and notes are byte-identical (or, for a run that finished,
complete), nothing is left in TMPDIR, and no process uses it. The counts go to BENCHMARKS.md;
any failed trial makes the session fail.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.projects import Workspace, prepare, replace_in
from benchmarks.report import machine, write_section

INTERRUPTS = 20
SEED = int(os.environ.get("FAULTS_SEED", "20261121"))


@dataclass
class Category:
    name: str
    trials: int = 0
    failures: list[str] = field(default_factory=list)

    def record(self, label: str, problem: str | None) -> None:
        self.trials += 1
        status = "ok" if problem is None else f"FAILED: {problem}"
        print(f"  {self.name}: {label}: {status}", flush=True)
        if problem is not None:
            self.failures.append(f"{label}: {problem}")


def first(*problems: str | None) -> str | None:
    return next((p for p in problems if p), None)


def full_run_seconds(pristine: Path) -> float:
    with Workspace(pristine) as ws:
        started = time.perf_counter()
        ws.start("migrate", "-m", "widen_city").communicate()
        return time.perf_counter() - started


def interrupts(pristine: Path, rng: random.Random) -> Category:
    category = Category("interrupt")
    duration = full_run_seconds(pristine)
    print(f"  an uninterrupted run takes {duration:.2f} s; interrupting within that", flush=True)
    for n in range(INTERRUPTS):
        signum = signal.SIGINT if n % 2 == 0 else signal.SIGTERM
        delay = rng.uniform(0.05, duration)
        with Workspace(pristine) as ws:
            process = ws.start("migrate", "-m", "widen_city")
            time.sleep(delay)
            process.send_signal(signum)
            _, err = process.communicate(timeout=120)
            if process.returncode == 0:
                outcome = first(ws.complete(), ws.debris())
            else:
                # -signum: killed during interpreter start-up, before any handler existed.
                expected = (130, -signum)
                outcome = first(
                    None
                    if process.returncode in expected
                    else f"exit {process.returncode}: {err.strip()[-200:]}",
                    ws.unchanged(),
                    ws.debris(),
                )
            label = f"{signal.Signals(signum).name} at {delay:.2f} s ({'finished' if process.returncode == 0 else 'interrupted'})"
            category.record(label, outcome)
    return category


def concurrency(pristine: Path, trials: int = 3) -> Category:
    category = Category("concurrent")
    for n in range(trials):
        with Workspace(pristine) as ws:
            runs = [ws.start("migrate", "-m", "widen_city") for _ in range(2)]
            results = [run.communicate(timeout=180) for run in runs]
            codes = [run.returncode for run in runs]
            outcome = first(
                None
                if codes == [0, 0]
                else f"exit codes {codes}: {[e[-200:] for _, e in results]}",
                ws.complete(),
                ws.debris(),
            )
            category.record(f"two runs at once #{n + 1}", outcome)
    return category


def server_killed(pristine: Path, rng: random.Random, trials: int = 3) -> Category:
    category = Category("server killed")
    for n in range(trials):
        with Workspace(pristine) as ws:
            process = ws.start("migrate", "-m", "widen_city", "--dialect", "postgres")
            postmaster = _wait_for_postmaster(ws.tmp, process)
            time.sleep(rng.uniform(0.0, 0.4))
            if postmaster is not None:
                os.kill(postmaster, signal.SIGKILL)
            _, err = process.communicate(timeout=120)
            lines = err.strip().splitlines()
            outcome = first(
                None if postmaster else "the server never became ready",
                None if process.returncode in (1, 2) else f"exit {process.returncode}",
                None
                if lines and lines[-1].startswith("error: postgresql:")
                else f"unclear error: {lines[-1:]}",
                ws.unchanged(),
                ws.debris(),
            )
            category.record(f"postmaster SIGKILLed #{n + 1}: {lines[-1] if lines else ''}", outcome)
    return category


def _wait_for_postmaster(
    tmp: Path, process: subprocess.Popen[str], timeout: float = 60
) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        for pidfile in tmp.glob("ckpg-*/data/postmaster.pid"):
            try:
                lines = pidfile.read_text().splitlines()
            except OSError:
                continue
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return int(lines[0])
        time.sleep(0.01)
    return None


def _two_heads(project: Path) -> None:
    versions = project / "migrations" / "versions" / "sqlite"
    first_file = next(versions.glob("*.py"))
    rev = first_file.name.split("_")[4]
    for branch in ("b0b0b0b0b0b0", "c0c0c0c0c0c0"):
        text = first_file.read_text().replace(
            f'revision: str = "{rev}"', f'revision: str = "{branch}"'
        )
        text = text.replace(
            "down_revision: str | Sequence[str] | None = None",
            f'down_revision: str | Sequence[str] | None = "{rev}"',
        )
        first_file.with_name(first_file.name.replace(rev, branch)).write_text(text)


def _edit(relative: str, old: str, new: str):  # type: ignore[no-untyped-def]
    def apply(project: Path) -> None:
        replace_in(project / relative, old, new)

    return apply


# (label, set-up of the copy, argv, extra environment)
BAD_INPUTS = [
    ("unknown dialect", None, ["migrate", "-m", "x", "--dialect", "oracle"], {}),
    (
        "dialect not configured",
        _edit("pyproject.toml", '["sqlite", "postgres"]', '["sqlite"]'),
        ["migrate", "-m", "x", "--dialect", "postgres"],
        {},
    ),
    ("message with path separators and dots", None, ["migrate", "-m", "../../etc/x.py"], {}),
    ("message with shell metacharacters", None, ["migrate", "-m", "x; rm -rf ~ && $(id)"], {}),
    ("empty message", None, ["migrate", "-m", "  "], {}),
    ("over-long message", None, ["migrate", "-m", "a" * 61], {}),
    (
        "models fail to import",
        _edit(
            "inventory/models.py",
            "import sqlalchemy as sa",
            "import sqlalchemy as sa\nimport no_such_module",
        ),
        ["migrate", "-m", "x"],
        {},
    ),
    (
        "missing migrations folder",
        lambda p: shutil.rmtree(p / "migrations"),
        ["migrate", "-m", "x"],
        {},
    ),
    ("multiple heads", _two_heads, ["migrate", "-m", "x", "--dialect", "sqlite"], {}),
    (
        "unreachable CONTRIBKIT_POSTGRESQL_URL",
        None,
        ["migrate", "-m", "x", "--dialect", "postgres"],
        {"CONTRIBKIT_POSTGRESQL_URL": "postgresql://bob:s3cret@127.0.0.1:9/postgres"},
    ),
    (
        "missing driver",
        None,
        ["migrate", "-m", "x", "--dialect", "postgres"],
        {"CONTRIBKIT_POSTGRESQL_URL": "postgresql+pg8000://bob:s3cret@127.0.0.1/postgres"},
    ),
]


def bad_inputs(pristine: Path) -> Category:
    category = Category("bad input")
    for label, set_up, argv, extra in BAD_INPUTS:
        with Workspace(pristine) as ws:
            if set_up is not None:
                set_up(ws.project)
                ws.before = ws.snapshot()
            process = ws.start(*argv, **extra)
            _, err = process.communicate(timeout=120)
            lines = err.strip().splitlines()
            outcome = first(
                None if process.returncode == 2 else f"exit {process.returncode}",
                None
                if len(lines) == 1 and lines[0].startswith("error: ")
                else f"not one line: {lines}",
                None if "Traceback" not in err else "traceback shown",
                None if "s3cret" not in err else "password shown",
                ws.unchanged(),
                ws.debris(),
            )
            category.record(f"{label}: {lines[-1] if lines else ''}", outcome)
    return category


def main() -> int:
    rng = random.Random(SEED)
    base = Path(tempfile.mkdtemp(prefix="ckf-", dir="/tmp"))
    try:
        pristine = prepare(base)
        started = time.perf_counter()
        categories = [
            interrupts(pristine, rng),
            concurrency(pristine),
            server_killed(pristine, rng),
            bad_inputs(pristine),
        ]
        elapsed = time.perf_counter() - started
    finally:
        shutil.rmtree(base, ignore_errors=True)
    rows = "\n".join(
        f"| {c.name} | {c.trials} | {c.trials - len(c.failures)} | {len(c.failures)} |"
        for c in categories
    )
    failures = [f"- {c.name}: {f}" for c in categories for f in c.failures]
    body = f"""## Reliability

{machine()}; random seed {SEED}; {elapsed:.0f} s in all.

| trial | runs | passed | failed |
|---|---|---|---|
{rows}

A trial passes when the run either finished completely (both revision files and one notes
entry) or exited with the expected code leaving the migrations and MIGRATION-NOTES.md
byte-identical, with nothing left in its private TMPDIR and no process using it; bad input must
also give one `error:` line, no traceback and no password. Interrupts: SIGINT and SIGTERM
alternately, at uniformly random points of an uninterrupted run's duration. Server killed:
SIGKILL to the embedded postmaster once it is ready.
{chr(10).join(["", "Failures:", *failures]) if failures else ""}"""
    print(f"wrote {write_section('faults', body)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
