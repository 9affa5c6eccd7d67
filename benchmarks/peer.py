"""`check` side by side with pytest-alembic, the peer most projects would pick instead.

Both run on the same generated history (``tests/history_support.py``), the same project and env.py,
one dialect per run, interleaved (peer, check, peer, check, ...) so that the machine's drift hits
both alike. pytest-alembic runs its four default tests (single head, upgrade, model match,
up/down consistency); ``check --no-cache`` runs everything it checks. The warm figure is a
re-check after one more revision, with the states the previous check saved.

``nox -s bench`` installs the pinned peer and runs this last; ``python -m benchmarks.peer`` in a
venv with the project and the peer runs it alone. The figures go to BENCHMARKS.md's "peer"
section.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from history_support import append_revision, write_project

from benchmarks.bench import cell, contribkit, run
from benchmarks.report import machine, write_section

RUNS = int(os.environ.get("BENCH_PEER_RUNS", "3"))
SIZES = [int(n) for n in os.environ.get("BENCH_PEER_SIZES", "10,100,300").split(",")]
DIALECTS = ("sqlite", "postgresql")

CONFTEST = """
import pytest

from contribkit.core.config import load_config
from contribkit.databases.engines import create_engine
from contribkit.databases.throwaway import ephemeral_database
from contribkit.workflows.migrations.project import project_migrations

DIALECT = "{dialect}"


@pytest.fixture
def alembic_config():
    config = load_config()
    return project_migrations(config, (DIALECT,)).alembic_config(DIALECT)


@pytest.fixture
def alembic_engine():
    with ephemeral_database(DIALECT) as url:
        engine = create_engine(url)
        yield engine
        engine.dispose()
"""

TESTS = """
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
"""


def _peer_tests(project: Path, dialect: str) -> Path:
    folder = project / f"peer_{dialect}"
    folder.mkdir(exist_ok=True)
    (folder / "conftest.py").write_text(CONFTEST.format(dialect=dialect))
    (folder / "test_migrations.py").write_text(TESTS)
    return folder


def _timed(action: Callable[..., object], *args: object, **env: str) -> float:
    started = time.perf_counter()
    action(*args, **env)
    return time.perf_counter() - started


def side_by_side(base: Path) -> list[tuple[int, str, list[float], list[float]]]:
    rows = []
    for revisions in SIZES:
        project = write_project(base / f"peer-{revisions}", revisions)
        for dialect in DIALECTS:
            tests = _peer_tests(project, dialect)
            peer_argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)]
            peer, ours = [], []
            for _ in range(RUNS):
                peer.append(_timed(run, peer_argv, project, PYTHONPATH=str(project)))
                ours.append(
                    _timed(contribkit, project, "check", "--dialect", dialect, "--no-cache")
                )
            rows.append((revisions, dialect, ours, peer))
            ratio = statistics.median(ours) / statistics.median(peer)
            print(f"  {revisions} {dialect}: check {cell(ours)}, peer {cell(peer)}, {ratio:.2f}x")
    return rows


def warm_recheck(base: Path, revisions: int) -> list[float]:
    """Both dialects: a check after one more revision, the previous check's states kept."""
    figures = []
    for run_number in range(RUNS):
        project = write_project(base / f"warm-{run_number}", revisions)
        contribkit(project, "check")
        append_revision(project, revisions + 1)
        figures.append(_timed(contribkit, project, "check"))
    return figures


def main() -> int:
    base = Path(tempfile.mkdtemp(prefix="ckp-", dir="/tmp"))
    try:
        print("check against pytest-alembic", flush=True)
        rows = side_by_side(base)
        largest = max(SIZES)
        print(f"warm re-check at {largest} + 1 revisions", flush=True)
        warm = warm_recheck(base, largest)
    finally:
        shutil.rmtree(base, ignore_errors=True)

    def ratio(ours: list[float], peer: list[float]) -> float:
        return statistics.median(ours) / statistics.median(peer)

    table = "\n".join(
        f"| {n} | {d} | {cell(ours)} | {cell(peer)} | {ratio(ours, peer):.2f}x |"
        f" {'met' if n < 100 or ratio(ours, peer) <= 1.0 else '**missed**'} |"
        for n, d, ours, peer in rows
    )
    warm_verdict = "met" if statistics.median(warm) <= 3 else "**missed**"
    peer_version = importlib.metadata.version("pytest-alembic")
    body = f"""## check against pytest-alembic

{machine()}; {RUNS} interleaved runs per figure, seconds: median (min-max). Same generated
history (`tests/history_support.py`: 5 tables, revision 1 creates them, each later one adds a
column), same project and env.py, one dialect per run, embedded PostgreSQL started by each run.
The peer is pytest-alembic {peer_version} with its four default tests (single head, upgrade,
model match, up/down consistency). `check --no-cache` does everything it checks: rows in every
table, row counts after each step, SQLite's foreign keys on and scanned for dangling rows after
each step (PostgreSQL enforces them at every statement), a round trip per revision, drift,
PRAGMA bracket, notes and file names. Target: ≤ 1.0x at 100 and 300 revisions.

| revisions | dialect | `check --no-cache` | pytest-alembic | ratio | |
|---|---|---|---|---|---|
{table}

Re-check after adding one revision to a {largest}-revision history, both dialects, with the states
the previous `check` saved (`.contribkit/cache`): {cell(warm)}; target ≤ 3 s: {warm_verdict}.
"""
    print(f"wrote {write_section('peer', body)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
