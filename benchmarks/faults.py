"""Fault trials for `contribkit migrate`: `nox -s faults`.

Each trial runs the real CLI in a subprocess on a fresh copy of the sample project, with a
private TMPDIR so that every temporary file and server folder it makes can be accounted for:

* interrupts - SIGINT or SIGTERM at random points of a run;
* concurrency - two runs of one change at once;
* server killed - the embedded PostgreSQL SIGKILLed while the run uses it;
* the same interrupts and killed server on a project whose second dialect is MySQL (the
  throw-away MariaDB server);
* bad input - every bad input the migrations issue lists;
* cache states damaged (emptied, garbage, a byte flipped, descriptions broken) or a good
  history's state copied over a broken one's: one line, a replay, the true verdict;
* a run SIGKILLed, then another in the same TMPDIR: it finishes and sweeps what the dead left;
* SIGTERM to `db upgrade` of a real MariaDB database between two ALTERs: the kept one is named.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from benchmarks.projects import Workspace, prepare, replace_in
from benchmarks.report import machine, write_section

INTERRUPTS = 20
MYSQL_INTERRUPTS = 10
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


def interrupts(
    pristine: Path, rng: random.Random, name: str = "interrupt", trials: int = INTERRUPTS
) -> Category:
    category = Category(name)
    duration = full_run_seconds(pristine)
    print(f"  an uninterrupted run takes {duration:.2f} s; interrupting within that", flush=True)
    for n in range(trials):
        signum = signal.SIGINT if n % 2 == 0 else signal.SIGTERM
        delay = rng.uniform(0.05, duration)
        with Workspace(pristine) as ws:
            process = ws.start("migrate", "-m", "widen_city")
            time.sleep(delay)
            process.send_signal(signum)
            outcome = _after_the_signal(ws, process, signum, ws.complete)
            label = f"{signal.Signals(signum).name} at {delay:.2f} s ({'finished' if process.returncode == 0 else 'interrupted'})"
            category.record(label, outcome)
    return category


def _after_the_signal(
    ws: Workspace, process: subprocess.Popen[str], signum: int, complete: Callable[[], str | None]
) -> str | None:
    """What is wrong once a signalled run ended: a run that finished must be ``complete``, one
    that stopped must have the expected code and leave the project as it was; neither may
    leave anything behind."""
    _, err = process.communicate(timeout=120)
    if process.returncode == 0:
        return first(complete(), ws.debris())
    # -signum: killed during interpreter start-up, before any handler existed.
    return first(
        None
        if process.returncode in (130, -signum)
        else f"exit {process.returncode}: {err.strip()[-200:]}",
        ws.unchanged(),
        ws.debris(),
    )


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


def server_killed(
    pristine: Path, rng: random.Random, dialect: str = "postgresql", trials: int = 3
) -> Category:
    """SIGKILL the throw-away server of ``dialect`` once it is ready, while the run uses it."""
    category = Category("server killed" if dialect == "postgresql" else f"{dialect} server killed")
    ready = _wait_for_postmaster if dialect == "postgresql" else _wait_for_mysqld
    for n in range(trials):
        with Workspace(pristine) as ws:
            process = ws.start("migrate", "-m", "widen_city", "--dialect", dialect)
            server = ready(ws.tmp, process)
            time.sleep(rng.uniform(0.0, 0.4))
            if server is not None:
                os.kill(server, signal.SIGKILL)
            _, err = process.communicate(timeout=120)
            lines = err.strip().splitlines()
            outcome = first(
                None if server else "the server never became ready",
                None if process.returncode in (1, 2) else f"exit {process.returncode}",
                None
                if lines and lines[-1].startswith(f"error: {dialect}:")
                else f"unclear error: {lines[-1:]}",
                ws.unchanged(),
                ws.debris(),
            )
            category.record(f"server SIGKILLed #{n + 1}: {lines[-1] if lines else ''}", outcome)
    return category


CITY = 'sa.Column("city", sa.String(120), nullable=True)'
ROWS = (
    "INSERT INTO warehouse (id, code, city) VALUES (1, 'north', 'Oslo'), (2, 'south', NULL)",
    "INSERT INTO item (warehouse_id, sku, kind, quantity)"
    " VALUES (1, 'a', 'part', 1), (2, 'b', 'tool', 2), (2, 'c', 'kit', 3)",
)


def _sqlite(path: Path, *statements: str) -> list[tuple]:
    import sqlite3

    connection = sqlite3.connect(path, isolation_level=None)
    try:
        return [row for statement in statements for row in connection.execute(statement)]
    finally:
        connection.close()


def _database_state(path: Path) -> tuple:
    """What must survive a failed upgrade: version, leftover tables, rows, foreign keys."""
    tables = _sqlite(path, "SELECT name FROM sqlite_master WHERE type = 'table'")
    return (
        _sqlite(path, "SELECT version_num FROM alembic_version"),
        sorted(name for (name,) in tables if name.startswith("_alembic_tmp")),
        _sqlite(path, "SELECT id, code, city FROM warehouse ORDER BY id"),
        _sqlite(path, "SELECT sku, warehouse_id FROM item ORDER BY sku"),
        _sqlite(path, "PRAGMA foreign_key_check"),
    )


def _finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    _, err = process.communicate(timeout=180)
    return process.returncode, err


def upgrades(pristine: Path, trials: int = 3) -> Category:
    """`db upgrade` of a SQLite database that holds rows: a revision that rebuilds the parent
    table and fails on its data, retried; then two upgrades of one database at once."""
    category = Category("real-database upgrade")
    for n in range(trials):
        with Workspace(pristine) as ws:
            path = ws.base / "real.db"
            url = {"INVENTORY_DATABASE_URL": f"sqlite:///{path}"}
            code, err = _finish(ws.start("db", "upgrade", **url))
            _sqlite(path, *ROWS)
            replace_in(ws.project / "inventory" / "models.py", CITY, CITY.replace("True", "False"))
            code += _finish(ws.start("migrate", "-m", "require_city", "--dialect", "sqlite"))[0]
            before = _database_state(path)
            attempts = [_finish(ws.start("db", "upgrade", **url)) for _ in range(2)]
            after_failures = _database_state(path)
            _sqlite(path, "UPDATE warehouse SET city = 'Bergen' WHERE id = 2")
            fixed = _finish(ws.start("db", "upgrade", **url))
            final = _database_state(path)
            outcome = first(
                None if code == 0 else f"set-up failed: {err[-200:]}",
                None
                if all(c == 1 and "NOT NULL constraint failed" in e for c, e in attempts)
                else f"failed upgrades: {[(c, e[-150:]) for c, e in attempts]}",
                None
                if after_failures == before
                else f"changed by a failed upgrade: {after_failures}",
                None if fixed[0] == 0 else f"upgrade after the fix: {fixed[1][-200:]}",
                None
                if final[1:] == ([], [*before[2][:1], (2, "south", "Bergen")], before[3], [])
                else f"after the fix: {final}",
                ws.debris(),
            )
            category.record(f"failed upgrade, retried, fixed #{n + 1}", outcome)
    for n in range(trials):
        with Workspace(pristine) as ws:
            path = ws.base / "real.db"
            url = {"INVENTORY_DATABASE_URL": f"sqlite:///{path}"}
            code, err = _finish(ws.start("migrate", "-m", "widen_city", "--dialect", "sqlite"))
            head = sorted(ws.project.glob("migrations/versions/sqlite/*_widen_city.py"))
            results = [_finish(run) for run in [ws.start("db", "upgrade", **url) for _ in range(2)]]
            codes = sorted(c for c, _ in results)
            state = _database_state(path) if path.exists() else None
            outcome = first(
                None if code == 0 and head else f"set-up failed: {err[-200:]}",
                None if codes in ([0, 0], [0, 1]) else f"exit codes {codes}",
                None if all("Traceback" not in e for _, e in results) else "traceback shown",
                None
                if state and head and state[0] == [(head[0].name.split("_")[4],)] and not state[1]
                else f"database left as {state}",
                ws.debris(),
            )
            category.record(f"two upgrades at once #{n + 1}: exit codes {codes}", outcome)
    return category


PAUSE = {"seconds": 0.3}  # long enough that the runs span every window of held lock


def workers_under_contention(runs: int = 60, workers: int = 3) -> Category:
    """flowdesk workers on SQLite while another writer holds the write lock past the driver's
    5 s wait, three times: every run must still end COMPLETED, and every worker exit 0."""
    import sqlite3

    from sqlalchemy import insert as sa_insert

    from flowdesk.server.database.engine import make_engine
    from flowdesk.server.database.orm_models import Flow, FlowRun
    from flowdesk.server.database.timestamps import utcnow

    category = Category("workers under lock contention")
    base = Path(tempfile.mkdtemp(prefix="ckw-", dir="/tmp"))
    started: list[subprocess.Popen[str]] = []
    try:
        path = base / "flowdesk.db"
        env = {**os.environ, "FLOWDESK_DATABASE_URL": f"sqlite:///{path}"}
        flowdesk = [str(Path(sys.executable).parent / "flowdesk")]
        subprocess.run([*flowdesk, "server", "database", "upgrade", "-y"], env=env, check=True)
        engine = make_engine(f"sqlite:///{path}")
        with engine.begin() as connection:
            flow_id = connection.execute(
                sa_insert(Flow).values(name="sleep").returning(Flow.id)
            ).scalar_one()
            connection.execute(
                sa_insert(FlowRun),
                [
                    {"flow_id": flow_id, "expected_start_time": utcnow(), "parameters": PAUSE}
                    for _ in range(runs)
                ],
            )
        engine.dispose()
        argv = [*flowdesk, "worker", "start", "--import", "flowdesk.example_flows"]
        started += [
            subprocess.Popen(
                [*argv, "--poll-interval", "0.2"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(workers)
        ]
        time.sleep(1.0)
        for _ in range(3):  # another writer outlasts the driver's 5 s lock wait
            holder = sqlite3.connect(path, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
            time.sleep(6.0)
            holder.execute("COMMIT")
            holder.close()
            time.sleep(0.5)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            left = _sqlite(path, "SELECT count(*) FROM flow_run WHERE state != 'COMPLETED'")
            if left == [(0,)]:
                break
            time.sleep(0.5)
        for process in started:
            process.send_signal(signal.SIGINT)
        results = [_finish(process) for process in started]
        states = dict(_sqlite(path, "SELECT state, count(*) FROM flow_run GROUP BY state"))
        outcome = first(
            None if states == {"COMPLETED": runs} else f"runs by state: {states}",
            None
            if all(code == 0 for code, _ in results)
            else f"worker exits {[(c, e.strip()[-150:]) for c, e in results]}",
        )
        category.record(f"{runs} runs, {workers} workers, the lock held 3 x 6 s: {states}", outcome)
    finally:
        for process in started:  # a set-up step failed: no worker may poll on forever
            if process.poll() is None:
                process.kill()
                process.wait()
        shutil.rmtree(base, ignore_errors=True)
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


def _wait_for_mysqld(tmp: Path, process: subprocess.Popen[str], timeout: float = 60) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        for folder in tmp.glob("ckmy-*"):
            try:
                log = (folder / "server.log").read_text(errors="replace")
                pid = int((folder / "mysqld.pid").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            if "ready for connections" in log:
                return pid
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


def _states(project: Path) -> list[tuple[Path, Path]]:
    """Each saved state's (database file, description) in the project's cache."""
    cache = project / ".contribkit" / "cache"
    return [
        (data, data.with_suffix(".json"))
        for data in sorted(cache.rglob("*"))
        if data.is_file() and data.suffix in (".sqlite", ".dump")
    ]


def _flip_a_byte(path: Path) -> None:
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))


STATE_DAMAGE = {
    "emptied": lambda data, meta: data.write_bytes(b""),
    "garbage": lambda data, meta: data.write_bytes(random.Random(7).randbytes(4096)),
    "one byte flipped": lambda data, meta: _flip_a_byte(data),
    "description not JSON": lambda data, meta: meta.write_text("{"),
    "description of another shape": lambda data, meta: meta.write_text("[]"),
}
REFUSED = "a state in the cache could not be used"
REUSED = "by an earlier run"


def _checked(ws: Workspace) -> tuple[int, str]:
    process = ws.start("check")
    out, err = process.communicate(timeout=300)
    return process.returncode, out + err


def damaged_states(pristine: Path, name: str) -> Category:
    """Every saved state damaged one way: the next check replays (one line per state it
    refuses, no traceback, the same verdict), and the one after reuses the states it saved."""
    category = Category(name)
    for label, damage in STATE_DAMAGE.items():
        with Workspace(pristine) as ws:
            warm = _checked(ws)
            states = _states(ws.project)
            for data, meta in states:
                damage(data, meta)
            damaged = _checked(ws)
            again = _checked(ws)
            dialects = len({data.parent for data, _ in states})
            outcome = first(
                None if warm[0] == 0 and states else f"warm-up: {warm[1][-300:]}",
                None if damaged[0] == 0 else f"exit {damaged[0]}: {damaged[1][-300:]}",
                None if "Traceback" not in damaged[1] else "traceback shown",
                None
                if damaged[1].count(REFUSED) >= dialects and REUSED not in damaged[1]
                else f"a damaged state was used: {damaged[1][-300:]}",
                None
                if again[0] == 0 and again[1].count(REUSED) == dialects
                else f"not reused afterwards: {again[1][-300:]}",
                ws.debris(),
            )
            category.record(f"{len(states)} states {label}", outcome)
    return category


def _break_newest_downgrade(project: Path) -> None:
    """The newest SQLite revision's downgrade does nothing: the round trip must fail."""
    newest = sorted((project / "migrations" / "versions" / "sqlite").glob("*.py"))[-1]
    text = newest.read_text()
    body = text.split("def downgrade()")[1]
    replace_in(newest, body, " -> None:\n    pass\n")


def swapped_states(pristine: Path, trials: int = 2) -> Category:
    """The head state of a good history copied over the key of a broken one (its digest still
    true of its file): check must still fail, on the broken round trip."""
    category = Category("swapped states")
    for n in range(trials):
        with Workspace(pristine) as ws:
            warm = _checked(ws)
            good = {
                data: (data.read_bytes(), meta.read_text()) for data, meta in _states(ws.project)
            }
            _break_newest_downgrade(ws.project)
            broken = _checked(ws)
            new = [pair for pair in _states(ws.project) if pair[0] not in good]
            head = max((d for d in good if d.parent.name == "sqlite"), key=os.path.getmtime)
            for data, meta in new:  # copied over each key the broken history saved
                data.write_bytes(good[head][0])
                meta.write_text(good[head][1])
            swapped = _checked(ws)
            outcome = first(
                None if warm[0] == 0 else f"warm-up: {warm[1][-300:]}",
                None if broken[0] == 1 and new else f"broken history: exit {broken[0]}",
                None if swapped[0] == 1 else f"swapped state passed: {swapped[1][-300:]}",
                None if REFUSED in swapped[1] else f"not refused: {swapped[1][-300:]}",
                None if "Traceback" not in swapped[1] else "traceback shown",
                ws.debris(),
            )
            category.record(f"good head state over a broken one #{n + 1}", outcome)
    return category


def killed_runs(pristine: Path, rng: random.Random, trials: int = 6) -> Category:
    """SIGKILL the run (no handler can clean up): the next run in the same TMPDIR finishes the
    change and leaves nothing behind, the dead run's folders included."""
    category = Category("SIGKILLed run, then a run")
    duration = full_run_seconds(pristine)
    for _ in range(trials):
        delay = rng.uniform(0.3, duration)
        with Workspace(pristine) as ws:
            process = ws.start("migrate", "-m", "widen_city")
            time.sleep(delay)
            process.kill()
            process.communicate(timeout=60)
            time.sleep(1.0)  # its servers die with it (PR_SET_PDEATHSIG) and stop
            left = sorted(os.listdir(ws.tmp))
            second = ws.start("migrate", "-m", "widen_city")
            _, err = second.communicate(timeout=300)
            outcome = first(
                None if second.returncode == 0 else f"exit {second.returncode}: {err[-300:]}",
                ws.complete(),
                ws.debris(),
            )
            category.record(f"SIGKILL at {delay:.2f} s, {len(left)} left, then swept", outcome)
    return category


MYSQL_HALF_WAY = '''"""two columns, a pause between"""
import time
import sqlalchemy as sa
from alembic import op

revision = "f1f1f1f1f1f1"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("warehouse", sa.Column("region", sa.String(20), nullable=True))
    time.sleep(30)
    op.add_column("warehouse", sa.Column("zone", sa.String(20), nullable=True))


def downgrade():
    op.drop_column("warehouse", "zone")
    op.drop_column("warehouse", "region")
'''


def mysql_upgrade_terminated(on_mysql: Path, trials: int = 3) -> Category:
    """SIGTERM to `db upgrade` of a real MariaDB database between a revision's two ALTERs:
    exit 130 and one line naming the column MySQL kept; the database holds exactly that."""
    import sqlalchemy as sa

    from contribkit.databases.engines import create_engine
    from contribkit.databases.throwaway import ephemeral_database

    category = Category("mysql upgrade terminated")
    for n in range(trials):
        with Workspace(on_mysql) as ws, ephemeral_database("mysql") as url:
            env = {"INVENTORY_DATABASE_URL": url}
            [first_file] = (ws.project / "migrations" / "versions" / "mysql").glob("*.py")
            head = first_file.name.split("_")[4]
            set_up = _finish(ws.start("db", "upgrade", **env))
            first_file.with_name("2030_01_01_000000_f1f1f1f1f1f1_half.py").write_text(
                MYSQL_HALF_WAY.format(head=head)
            )
            process = ws.start("db", "upgrade", **env)
            engine = create_engine(url, poolclass=sa.pool.NullPool)
            try:
                columns: list[str] = []
                deadline = time.monotonic() + 60
                while "region" not in columns and time.monotonic() < deadline:
                    time.sleep(0.05)
                    columns = [c["name"] for c in sa.inspect(engine).get_columns("warehouse")]
                process.send_signal(signal.SIGTERM)
                code, err = _finish(process)
                with engine.connect() as conn:
                    version = conn.execute(sa.text("SELECT version_num FROM alembic_version"))
                    versions = [row[0] for row in version]
                columns = [c["name"] for c in sa.inspect(engine).get_columns("warehouse")]
            finally:
                engine.dispose()
            lines = [line for line in err.splitlines() if line.startswith("error:")]
            outcome = first(
                None if set_up[0] == 0 else f"set-up: {set_up[1][-200:]}",
                None if code == 130 else f"exit {code}: {err[-300:]}",
                None
                if len(lines) == 1
                and "interrupted: mysql database" in lines[0]
                and "kept: ALTER TABLE warehouse ADD COLUMN region" in lines[0]
                else f"message: {err.strip()[-300:]}",
                None
                if "region" in columns and "zone" not in columns and versions == [head]
                else f"database holds {columns}, version {versions}",
                ws.debris(),
            )
            category.record(f"SIGTERM after the first ALTER #{n + 1}", outcome)
    return category


def two_branches(base: Path) -> Path:
    """The sample project in git: branch ``a`` widened a column and was merged into main,
    branch ``b`` added a column and has just merged main (its notes file in conflict): two
    heads per dialect, for ``rebase``."""
    holder = base / "two-branches"  # prepare() names its copy as the other trials' own
    holder.mkdir()
    root = prepare(holder, pending_change=False)
    env = {**os.environ, "PYTHONPATH": str(root)}

    def run(*argv: str) -> None:
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"] if argv[0] == "git" else []
        command = [*git, *argv[1:]] if git else [sys.executable, "-m", "contribkit", *argv]
        result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
        if result.returncode != 0 and argv[:2] != ("git", "merge"):
            raise SystemExit(f"faults set-up: {' '.join(argv)}: {result.stderr.strip()[-300:]}")

    (root / ".gitignore").write_text("__pycache__/\n.contribkit/\n")
    run("git", "init", "-q", "-b", "main")
    run("git", "add", "-A")
    run("git", "commit", "-q", "-m", "initial")
    models = root / "inventory" / "models.py"
    for branch, old, new in (
        ("a", "sa.String(80)", "sa.String(120)"),
        (
            "b",
            '    sa.Column("sku"',
            '    sa.Column("note", sa.String(20), nullable=True),\n    sa.Column("sku"',
        ),
    ):
        run("git", "checkout", "-q", "-b", branch, "main")
        replace_in(models, old, new)
        run("migrate", "-m", f"change_{branch}")
        run("git", "add", "-A")
        run("git", "commit", "-q", "-m", branch)
        if branch == "a":
            run("git", "checkout", "-q", "main")
            run("git", "merge", "-q", "a")
    run("git", "merge", "-q", "main")
    return root


def _one_head_each(ws: Workspace) -> str | None:
    """A finished rebase: one head per dialect, and notes without conflict markers."""
    notes = (ws.project / "NOTES.md").read_text()
    if "<<<<<<<" in notes:
        return "the notes still hold a conflict"
    for folder in (ws.project / "migrations" / "versions").iterdir():
        ids, parents = set(), set()
        for path in folder.glob("*.py"):
            for line in path.read_text().splitlines():
                if line.startswith(("revision", "down_revision")):
                    value = line.split("=", 1)[1].strip().strip("'\"")
                    (ids if line.startswith("revision") else parents).add(value)
        if len(ids - parents) != 1:
            return f"{folder.name}: {len(ids - parents)} heads after the rebase"
    return None


def rebase_interrupts(pristine: Path, rng: random.Random, trials: int = 10) -> Category:
    category = Category("rebase interrupt")
    with Workspace(pristine) as ws:
        started = time.perf_counter()
        process = ws.start("rebase")
        _, err = process.communicate(timeout=300)
        duration = time.perf_counter() - started
        failed = f"exit {process.returncode}: {err.strip()[-200:]}" if process.returncode else None
        category.record(
            f"uninterrupted, {duration:.2f} s", first(failed, _one_head_each(ws), ws.debris())
        )
    for n in range(trials):
        signum = signal.SIGINT if n % 2 == 0 else signal.SIGTERM
        delay = rng.uniform(0.05, duration)
        with Workspace(pristine) as ws:
            process = ws.start("rebase")
            time.sleep(delay)
            process.send_signal(signum)
            outcome = _after_the_signal(ws, process, signum, partial(_one_head_each, ws))
            label = f"{signal.Signals(signum).name} at {delay:.2f} s ({'finished' if process.returncode == 0 else 'interrupted'})"
            category.record(label, outcome)
    return category


def main() -> int:
    rng = random.Random(SEED)
    base = Path(tempfile.mkdtemp(prefix="ckf-", dir="/tmp"))
    try:
        pristine = prepare(base)
        on_mysql = prepare(base, second="mysql")
        settled = prepare(base, pending_change=False)
        settled_mysql = prepare(base, pending_change=False, second="mysql")
        branches = two_branches(base)
        started = time.perf_counter()
        categories = [
            interrupts(pristine, rng),
            concurrency(pristine),
            server_killed(pristine, rng),
            interrupts(on_mysql, rng, "mysql interrupt", MYSQL_INTERRUPTS),
            server_killed(on_mysql, rng, "mysql"),
            bad_inputs(pristine),
            upgrades(pristine),
            damaged_states(settled, "damaged states"),
            damaged_states(settled_mysql, "mysql damaged states"),
            swapped_states(settled),
            killed_runs(pristine, rng),
            mysql_upgrade_terminated(on_mysql),
            workers_under_contention(),
            rebase_interrupts(branches, rng),
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
SIGKILL to the embedded postmaster once it is ready. The MySQL rows do the same on the sample
project with `dialects = ["sqlite", "mysql"]`: the throw-away MariaDB server's folder lives in
the trial's TMPDIR, so a server or folder left behind fails the trial. Real-database upgrade: `db upgrade` of a
SQLite file with rows, where the new revision rebuilds the parent table and fails on a NULL; it
must fail the same way twice leaving the version, rows and tables as they were (no
`_alembic_tmp_` table), then apply once the data is fixed without losing a child row; and two
`db upgrade` of one database at once must leave it at head and whole. Workers under lock
contention: flowdesk workers on SQLite while another connection holds the write lock for 6 s
(past the driver's 5 s wait), three times; every run must end COMPLETED and every worker exit 0
on Ctrl-C. Damaged states: a `check` saves states, every one is then damaged one way (emptied,
4 KiB of garbage, one byte flipped, its description not JSON or a JSON list); the next `check`
must pass with a "could not be used" line per dialect and reuse nothing, and the one after must
reuse what it saved; on SQLite + PostgreSQL and on SQLite + MariaDB. Swapped: the head state of
a good history copied over the state a broken round trip saved; `check` must still fail.
SIGKILLed run: `migrate` killed at a random point, then run again in the same TMPDIR; it must
finish the change and leave the TMPDIR empty. MySQL upgrade terminated: a revision adds a
column, pauses, adds another; SIGTERM once the first exists must exit 130 with one line naming
the kept `ALTER`, and the database must hold that column only, at the old version. Rebase
interrupt: `contribkit rebase` after two branches each added a revision (the notes in conflict),
SIGINT and SIGTERM alternately at random points of an uninterrupted rebase's duration; the
project must be byte-identical, or rebased whole (one head per dialect, no conflict markers).
{chr(10).join(["", "Failures:", *failures]) if failures else ""}"""
    print(f"wrote {write_section('faults', body)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
