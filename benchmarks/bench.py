"""Performance figures: `nox -s bench` measures them and writes BENCHMARKS.md.

Every figure is wall-clock time of the real command (a subprocess, start-up included) unless
it says otherwise; ratios compare figures measured in this same run.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest.mock import patch

from history_support import models_source, write_project

from benchmarks.projects import Workspace, prepare
from benchmarks.report import ROOT, machine, write_section
from contribkit.databases.mysql.embedded import ThrowawayMySQL
from contribkit.databases.postgresql.embedded import EmbeddedPostgres

#: The dialects flowdesk's test sessions run on 3.11 (P4).
DIALECTS = ("sqlite", "postgresql", "mysql")

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
GROWTH = [int(n) for n in os.environ.get("BENCH_GROWTH", "10,100,300").split(",")]
BIN = Path(sys.executable).parent


def sample(action: Callable[[], float | None], runs: int = RUNS) -> list[float]:
    """``runs`` timings of ``action`` (which may return its own figure instead of being timed)."""
    figures = []
    for _ in range(runs):
        started = time.perf_counter()
        own = action()
        figures.append(own if own is not None else time.perf_counter() - started)
    return figures


def cell(figures: list[float]) -> str:
    return f"{statistics.median(figures):.2f} ({min(figures):.2f}-{max(figures):.2f})"


def run(argv: list[str], cwd: Path, **env: str) -> None:
    result = subprocess.run(
        argv, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(
            f"benchmark command failed: {' '.join(argv)}\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )


def contribkit(project: Path, *args: str) -> None:
    run([sys.executable, "-m", "contribkit", *args], project, PYTHONPATH=str(project))


def migrate_end_to_end(pending: Path) -> list[float]:
    def once() -> float:
        with Workspace(pending) as ws:
            started = time.perf_counter()
            contribkit(ws.project, "migrate", "-m", "widen_city")
            return time.perf_counter() - started

    return sample(once)


def autogenerate_floor(pending: Path) -> list[float]:
    """Plain Alembic autogenerate for both dialects, against databases already at head: the
    least any per-dialect generator must do. Provisioning and upgrading are not timed."""
    from alembic import command

    from contribkit.core.config import load_config
    from contribkit.databases.engines import create_engine
    from contribkit.databases.throwaway import ephemeral_database
    from contribkit.workflows.migrations.project import project_migrations

    sys.path.insert(0, str(pending))
    config = load_config(pending)
    figures = []
    for _ in range(RUNS):
        elapsed = 0.0
        for dialect in config.dialects:
            stage = Path(tempfile.mkdtemp(prefix="ckb-"))
            shutil.copytree(config.migrations, stage / "migrations")
            migrations = project_migrations(config, config.dialects)
            migrations = type(migrations)(
                stage / "migrations", migrations.metadata, migrations.exclude_tables
            )
            with ephemeral_database(dialect) as url:
                engine = create_engine(url)
                with engine.connect() as connection:
                    cfg = migrations.alembic_config(dialect, connection=connection)
                    command.upgrade(cfg, "heads")
                    connection.commit()
                    started = time.perf_counter()
                    command.revision(cfg, message="widen_city", autogenerate=True)
                    elapsed += time.perf_counter() - started
                engine.dispose()
            shutil.rmtree(stage, ignore_errors=True)
        figures.append(elapsed)
    return figures


def check_all(settled: Path) -> list[float]:
    # Cold: a warm re-check reuses the states the first run saved (benchmarks/peer.py has it).
    return sample(lambda: contribkit(settled, "check", "--no-cache"))


def nox_versus_pytest() -> tuple[list[float], list[float]]:
    """Warm `nox -R` against the same pytest command in the session's own venv."""
    session = "tests(python='3.11', dialect='sqlite')"
    venv = ROOT / ".nox" / "tests-python-3-11-dialect-sqlite"
    target = ["tests/flowdesk", "-q", "-n", "2"]
    run([sys.executable, "-m", "nox", "-s", session, "--", *target], ROOT)  # warm the venv
    env = {"CONTRIBKIT_TEST_DIALECT": "sqlite"}
    noxed = sample(
        lambda: run([sys.executable, "-m", "nox", "-R", "-s", session, "--", *target], ROOT)
    )
    plain = sample(lambda: run([str(venv / "bin" / "pytest"), *target], ROOT, **env))
    return noxed, plain


def cold_clone_to_green(runs: int) -> list[float]:
    def once() -> None:
        clone = Path(tempfile.mkdtemp(prefix="ckb-clone-"))
        try:
            run(["git", "clone", "-q", str(ROOT), str(clone / "repo")], ROOT)
            run(
                [
                    sys.executable,
                    "-m",
                    "nox",
                    "-s",
                    *(f"tests(python='3.11', dialect='{d}')" for d in DIALECTS),
                ],
                clone / "repo",
            )
        finally:
            shutil.rmtree(clone, ignore_errors=True)

    return sample(once, runs)


def server_ready(server_class: Any, *, cached: bool) -> list[float]:
    """Start to ready; ``cached=False`` gives each start an empty data-folder cache (so it
    initialises one and fills the cache, as a machine's very first start does)."""

    def once() -> float:
        with tempfile.TemporaryDirectory(prefix="ckb-cache-") as empty_cache:
            cache = {} if cached else {"XDG_CACHE_HOME": empty_cache}
            with patch.dict(os.environ, cache):
                started = time.perf_counter()
                server = server_class().start()
                elapsed = time.perf_counter() - started
                server.stop()
        return elapsed

    return sample(once)


def noop_ui_build() -> list[float]:
    run([str(BIN / "invoke"), "ui.build"], ROOT)  # make sure the next ones have nothing to do
    return sample(lambda: run([str(BIN / "invoke"), "ui.build"], ROOT))


def startup(argv: list[str]) -> list[float]:
    return sample(lambda: run(argv, ROOT))


def growth(base: Path) -> list[tuple[int, list[float], list[float]]]:
    rows = []
    for revisions in GROWTH:
        project = write_project(base / f"grown-{revisions}", revisions)
        checks = sample(lambda p=project: contribkit(p, "check", "--no-cache"))

        def migrate_once(p: Path = project, n: int = revisions) -> float:
            with Workspace(p) as ws:
                (ws.project / "grown" / "models.py").write_text(models_source(n, extra_column=True))
                started = time.perf_counter()
                contribkit(ws.project, "migrate", "-m", "add_pending")
                return time.perf_counter() - started

        rows.append((revisions, sample(migrate_once), checks))
        print(
            f"  {revisions} revisions: migrate {cell(rows[-1][1])}, check {cell(checks)}",
            flush=True,
        )
    return rows


def plot(rows: list[tuple[int, list[float], list[float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    revisions = [r for r, _, _ in rows]
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=120)
    for index, label in (
        (1, "invoke migrate (one column, both dialects)"),
        (2, "check --no-cache (both dialects)"),
    ):
        medians = [statistics.median(r[index]) for r in rows]
        ax.plot(revisions, medians, marker="o", label=label)
    ax.set_xlabel("revisions per dialect")
    ax.set_ylabel("seconds (median)")
    ax.set_title("Growth with the length of the migration history")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)


def main() -> int:
    base = Path(tempfile.mkdtemp(prefix="ckb-", dir="/tmp"))
    try:
        print("P1/P2: migrate and check on the sample project", flush=True)
        pending, settled = prepare(base), prepare(base, pending_change=False)
        p1, floor, p2 = migrate_end_to_end(pending), autogenerate_floor(pending), check_all(settled)
        print("P5-P7: server, no-op UI build, start-up", flush=True)
        p5, p5_cold = (
            server_ready(EmbeddedPostgres, cached=True),
            server_ready(EmbeddedPostgres, cached=False),
        )
        p5_mysql, p5_mysql_cold = (
            server_ready(ThrowawayMySQL, cached=True),
            server_ready(ThrowawayMySQL, cached=False),
        )
        p6 = noop_ui_build()
        p7_invoke, p7_cli = (
            startup([str(BIN / "invoke"), "--list"]),
            startup([str(BIN / "contribkit"), "--help"]),
        )
        print("growth", flush=True)
        grown = growth(base)
        print("P3: nox -R against pytest", flush=True)
        p3_nox, p3_pytest = nox_versus_pytest()
        print("P4: fresh clone to green", flush=True)
        clone_runs = int(os.environ.get("BENCH_CLONE_RUNS", "3"))
        p4 = cold_clone_to_green(clone_runs)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    png = ROOT / "benchmarks" / "growth.png"
    plot(grown, png)
    ratio = statistics.median(p1) / statistics.median(floor)
    p3_ratio = statistics.median(p3_nox) / statistics.median(p3_pytest)

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    growth_rows = "\n".join(f"| {n} | {cell(m)} | {cell(c)} |" for n, m, c in grown)
    body = f"""## Performance

{machine()}; {RUNS} runs per figure unless stated.

| | figure | seconds: median (min-max) | target | |
|---|---|---|---|---|
| P1 | `contribkit migrate -m widen_city`, one-column change, both dialects, end to end | {cell(p1)} | ≤ 3 s | {verdict(statistics.median(p1) <= 3)} |
| P1 floor | plain Alembic autogenerate, both dialects, databases already at head (in-process) | {cell(floor)} | | |
| P1 ratio | migrate ÷ floor | {ratio:.1f}x | ≤ 3x | {verdict(ratio <= 3)} |
| P2 | `contribkit check --no-cache`, both dialects | {cell(p2)} | ≤ 2 s | {verdict(statistics.median(p2) <= 2)} |
| P3 | warm `nox -R -s "tests(python='3.11', dialect='sqlite')" -- tests/flowdesk` | {cell(p3_nox)} | | |
| P3 | the same pytest command in that session's venv | {cell(p3_pytest)} | | |
| P3 ratio | nox ÷ pytest | {p3_ratio:.2f}x | ≤ 1.10x | {verdict(p3_ratio <= 1.10)} |
| P4 | fresh clone → `nox -s` the three dialects' tests on 3.11, green ({clone_runs} runs, uv cache warm) | {cell(p4)} | | |
| P5 | embedded PostgreSQL: copy of the cached cluster + start until ready (in-process) | {cell(p5)} | ≤ 1 s | {verdict(statistics.median(p5) <= 1)} |
| P5 | the same, first start on a machine: initdb + caching its cluster + start | {cell(p5_cold)} | ≤ 1 s | {verdict(statistics.median(p5_cold) <= 1)} |
| P5 | throw-away MariaDB: copy of the cached data folder + start until ready (in-process) | {cell(p5_mysql)} | ≤ 1 s | {verdict(statistics.median(p5_mysql) <= 1)} |
| P5 | the same, first start on a machine: mariadb-install-db + caching + start | {cell(p5_mysql_cold)} | ≤ 1 s | {verdict(statistics.median(p5_mysql_cold) <= 1)} |
| P6 | no-op `invoke ui.build` | {cell(p6)} | ≤ 0.5 s | {verdict(statistics.median(p6) <= 0.5)} |
| P7 | `invoke --list` | {cell(p7_invoke)} | ≤ 0.3 s | {verdict(statistics.median(p7_invoke) <= 0.3)} |
| P7 | `contribkit --help` | {cell(p7_cli)} | ≤ 0.3 s | {verdict(statistics.median(p7_cli) <= 0.3)} |

P1/P2 run on the sample project (`tests/sample_project`: 2 tables, one revision per dialect).
P3 uses the flowdesk tests so the session's fixed cost weighs more than on the full suite: a
stricter ratio.

### Growth with the migration history

Projects with 5 tables and N revisions per dialect (1 creates the tables, each later one adds a
column), generated by `tests/history_support.py`:

| revisions per dialect | `migrate` one column, both dialects | `check --no-cache`, both dialects |
|---|---|---|
{growth_rows}

![growth](benchmarks/growth.png)
"""
    print(f"wrote {write_section('bench', body)}")
    from benchmarks import peer

    return peer.main()


if __name__ == "__main__":
    sys.exit(main())
