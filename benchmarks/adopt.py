"""Adoption proof on a real project: `nox -s adopt` (Prefect, installed from PyPI).

Prefect ships its ORM and its per-dialect Alembic history (an async env.py, aiosqlite and
asyncpg, years of revisions that already drift from the models). This scenario adopts it exactly
as the README's "Adopting contribkit in an existing project" says, through the real CLI:

    check (fails: the history's known problems) → baseline → check (passes; again with --no-cache)
    → add FlowRun.new_column → migrate → check → Prefect's own `prefect server database upgrade -y`
      applies the new files on SQLite (aiosqlite) and PostgreSQL (asyncpg)

The files it edits inside the installed package (env.py: the README's lines; orm_models.py: the
new column) and the files migrate writes are put back as they were afterwards, so the session can
run again. The figures go to BENCHMARKS.md's "Adoption" section; a failed step fails the session.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from benchmarks.projects import replace_in
from benchmarks.report import machine, write_section
from contribkit.databases.engines import with_driver
from contribkit.databases.throwaway import ephemeral_database

# The README's env.py change, as it applies to Prefect's env.py.
ENV_DIALECT = "dialect = get_dialect(db_interface.database_config.connection_url)"
ENV_DIALECT_NEW = """connection = config.attributes.get("connection")  # passed in by contribkit
dialect = (
    connection.dialect
    if connection is not None
    else get_dialect(db_interface.database_config.connection_url)
)"""
ENV_RUN = """if context.is_offline_mode():
    dry_run_migrations()
else:"""
ENV_RUN_NEW = """if context.is_offline_mode():
    dry_run_migrations()
elif connection is not None:
    do_run_migrations(connection)
else:"""
# FlowRun's lines (Deployment has a work_queue_name line of the same text).
MODEL_ANCHOR = (
    "    deployment_id: Mapped[Optional[uuid.UUID]] = mapped_column(index=True)\n"
    "    work_queue_name: Mapped[Optional[str]] = mapped_column(index=True)\n"
)
NEW_COLUMN = "    new_column: Mapped[Optional[str]] = mapped_column(sa.String, nullable=True)\n"
PYPROJECT = """[tool.contribkit]
models = "prefect.server.database.orm_models:Base.metadata"
migrations = "{migrations}"
notes = "{migrations}/MIGRATION-NOTES.md"
dialects = ["sqlite", "postgresql"]
database_url_env = "PREFECT_API_DATABASE_CONNECTION_URL"
drivers = {{ sqlite = "aiosqlite", postgresql = "asyncpg" }}
sqlite_transactional_ddl = true
"""


def main() -> None:
    import prefect

    package = Path(prefect.__file__).parent / "server" / "database"
    migrations = package / "_migrations"
    with tempfile.TemporaryDirectory(prefix="ck-adopt-") as tmp, _restored(package):
        project = Path(tmp)
        (project / "pyproject.toml").write_text(PYPROJECT.format(migrations=migrations))
        env = {**os.environ, "PREFECT_HOME": str(project / "prefect-home")}
        replace_in(migrations / "env.py", ENV_DIALECT, ENV_DIALECT_NEW)
        replace_in(migrations / "env.py", ENV_RUN, ENV_RUN_NEW)
        rows = _scenario(project, package, env)
    body = [
        "## Adoption: Prefect",
        "",
        f"`nox -s adopt` on {machine()}; Prefect {prefect.__version__}, "
        "its own env.py (with the README's lines), aiosqlite and asyncpg, both dialects.",
        "",
        "| step | result | seconds |",
        "|---|---|---|",
        *(f"| {step} | {result} | {seconds:.1f} |" for step, result, seconds in rows),
        "",
        "Each step runs as a user would, one after the other in one project: `check` after "
        "`baseline` and `migrate` start from the database states the steps before them saved "
        "(README: Reuse between runs); the `--no-cache` row replays both histories in full.",
    ]
    print("\n".join(body))
    write_section("adopt", "\n".join(body))


def _scenario(project: Path, package: Path, env: dict[str, str]) -> list[tuple[str, str, float]]:
    rows = []

    def step(label: str, *args: str, expect: int = 0) -> str:
        print(f"→ contribkit {' '.join(args)}", flush=True)
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "contribkit", *args],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        output = result.stdout + result.stderr
        print(output, flush=True)
        if result.returncode != expect:
            raise SystemExit(f"adopt: {label}: exit {result.returncode}, expected {expect}")
        found = sum(1 for line in output.splitlines() if line.startswith("! "))
        rows.append((label, f"exit {result.returncode}, {found} `!` line(s)", seconds))
        return output

    step("check before adopting", "check", expect=1)
    step("baseline", "baseline")
    step("check after baseline", "check")
    step("check after baseline, --no-cache (everything replayed)", "check", "--no-cache")
    replace_in(package / "orm_models.py", MODEL_ANCHOR, MODEL_ANCHOR + NEW_COLUMN)
    migrated = step(
        "migrate -m add_flow_run_new_column", "migrate", "-m", "add_flow_run_new_column"
    )
    written = re.findall(r"wrote (\S+\.py)", migrated)
    if len(written) != 2:
        raise SystemExit(f"adopt: migrate wrote {written}, expected one file per dialect")
    for path in written:
        text = (project / path).read_text()
        upgrade = text.split("def upgrade")[1].split("def downgrade")[0]
        if upgrade.count("new_column") != 1 or "drop_table" in text:
            raise SystemExit(f"adopt: {path} holds more than the new column:\n{upgrade}")
    step("check after migrate", "check")
    for dialect, driver in (("sqlite", "aiosqlite"), ("postgresql", "asyncpg")):
        rows.append(_prefect_upgrade(dialect, driver, env))
    return rows


def _prefect_upgrade(dialect: str, driver: str, env: dict[str, str]) -> tuple[str, str, float]:
    """Prefect's own command applies the whole history, new revision included."""
    with ephemeral_database(dialect, driver) as url:
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"],
            env={**env, "PREFECT_API_DATABASE_CONNECTION_URL": url},
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(f"adopt: prefect upgrade on {dialect}: {result.stderr[-2000:]}")
        sync = "psycopg" if dialect == "postgresql" else "pysqlite"
        engine = sa.create_engine(with_driver(url, sync))
        try:
            with engine.connect() as connection:
                columns = {c["name"] for c in sa.inspect(connection).get_columns("flow_run")}
        finally:
            engine.dispose()
        if "new_column" not in columns:
            raise SystemExit(f"adopt: prefect upgrade on {dialect} did not add flow_run.new_column")
    label = f"`prefect server database upgrade -y` ({dialect}+{driver})"
    return label, "flow_run.new_column present", seconds


@contextmanager
def _restored(package: Path) -> Iterator[None]:
    """Put the installed package back as it was: edited files restored, new files removed."""
    files = {
        p: p.read_bytes()
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    try:
        yield
    finally:
        for path in package.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path not in files:
                path.unlink()
        for path, data in files.items():
            if path.read_bytes() != data:
                path.write_bytes(data)
        for cache in package.rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
