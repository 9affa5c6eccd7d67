"""Adoption proofs on real projects: `nox -s adopt` (Prefect, MLflow, Optuna, Open WebUI,
Langflow, from PyPI).

Prefect ships its ORM and a history per dialect (an async env.py, aiosqlite and asyncpg, years
of revisions that already drift from the models); MLflow ships its tracking store's models and
one history every dialect runs, which starts from tables its own set-up creates with
`create_all` and whose downgrades are mostly `pass`; Optuna's RDB storage has Alembic's
template env.py, one history for SQLite, PostgreSQL and MySQL, and makes new databases with
`create_all` and a stamp at the head (so its own upgrade runs on a database it created before
the change, and on MySQL, where its early revisions fail, contribkit's databases start at the
head from a frozen copy of the models); Open WebUI's env.py makes an engine of its own from
its settings, its history (in Alembic's default file names) serves SQLite and PostgreSQL, and
its models' MetaData fills only as each model module is imported; Langflow's async env.py
has a ``process_revision_directives`` of its own that rebuilds the downgrade, its revision
template starts both functions with a statement, and its PostgreSQL history makes trigger
functions (which no cached state may hold). Each is adopted exactly as docs/adopting.md's
"Adopting contribkit in an existing project" says, through the real CLI:

    check (fails: the history's known problems) → baseline → check (passes; again with --no-cache)
    → add a nullable column to one model → migrate → check → the project's own upgrade command
      applies the new files on SQLite and PostgreSQL (and MySQL where the project runs there)

The files it edits inside the installed package (env.py: docs/adopting.md's lines; the models: the new
column) and the files migrate writes are put back as they were afterwards, so the session can
run again. The figures go to BENCHMARKS.md, one section per project; a failed step fails the
session. Usage: ``python -m benchmarks.adopt prefect|mlflow|optuna|open-webui|langflow``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from benchmarks.projects import replace_in
from benchmarks.report import machine, write_section
from contribkit.databases.engines import with_driver
from contribkit.databases.throwaway import ephemeral_database


@dataclass(frozen=True)
class Adoption:
    """One real project, as installed from PyPI, and what the proof does to it."""

    title: str
    package: str
    #: The installed package's folders that hold models and migrations (restored afterwards).
    folders: tuple[str, ...]
    migrations: str
    #: ``[tool.contribkit]``, with ``{migrations}`` and ``{project}`` to fill in.
    pyproject: str
    #: docs/adopting.md's env.py lines, as (old, new) edits of the project's env.py.
    env_edits: tuple[tuple[str, str], ...]
    models: str
    #: The new column goes after this line, which must occur once.
    anchor: str
    new_column: str
    table: str
    #: Revision files one migrate writes (one per dialect, or one shared).
    files: int
    #: Its own upgrade, for a URL: argv and extra environment.
    upgrade: str
    #: The variable its upgrade reads the URL from (``None``: ``{url}`` in ``upgrade``).
    url_env: str | None
    drivers: tuple[tuple[str, str], ...]
    summary: str
    #: For a project whose own upgrade only upgrades existing databases: its command that
    #: creates one (``{url}`` filled in), run on each dialect before the model change.
    create: str | None = None
    #: Files of the installed package copied into the project before any edit, as
    #: (package-relative source, project file): a frozen schema for ``start``, say.
    frozen: tuple[tuple[str, str], ...] = ()
    #: Files the adopting project writes itself, as (project file, text).
    written: tuple[tuple[str, str], ...] = ()
    #: Folders (in the project) and variables every command of the project needs; values
    #: may name ``{project}``.
    project_folders: tuple[str, ...] = ()
    environment: tuple[tuple[str, str], ...] = ()


PREFECT = Adoption(
    title="Prefect",
    package="prefect",
    folders=("server/database",),
    migrations="server/database/_migrations",
    pyproject="""[tool.contribkit]
models = "prefect.server.database.orm_models:Base.metadata"
migrations = "{migrations}"
notes = "{migrations}/MIGRATION-NOTES.md"
dialects = ["sqlite", "postgresql"]
database_url_env = "PREFECT_API_DATABASE_CONNECTION_URL"
drivers = {{ sqlite = "aiosqlite", postgresql = "asyncpg" }}
sqlite_transactional_ddl = true
""",
    env_edits=(
        (
            "dialect = get_dialect(db_interface.database_config.connection_url)",
            """connection = config.attributes.get("connection")  # passed in by contribkit
dialect = (
    connection.dialect
    if connection is not None
    else get_dialect(db_interface.database_config.connection_url)
)""",
        ),
        (
            """if context.is_offline_mode():
    dry_run_migrations()
else:""",
            """if context.is_offline_mode():
    dry_run_migrations()
elif connection is not None:
    do_run_migrations(connection)
else:""",
        ),
    ),
    models="server/database/orm_models.py",
    # FlowRun's lines (Deployment has a work_queue_name line of the same text).
    anchor=(
        "    deployment_id: Mapped[Optional[uuid.UUID]] = mapped_column(index=True)\n"
        "    work_queue_name: Mapped[Optional[str]] = mapped_column(index=True)\n"
    ),
    new_column="    new_column: Mapped[Optional[str]] = mapped_column(sa.String, nullable=True)\n",
    table="flow_run",
    files=2,
    upgrade="prefect server database upgrade -y",
    url_env="PREFECT_API_DATABASE_CONNECTION_URL",
    drivers=(("sqlite", "aiosqlite"), ("postgresql", "asyncpg")),
    summary="its own env.py (with docs/adopting.md's lines), aiosqlite and asyncpg, a history per "
    "dialect",
)

MLFLOW = Adoption(
    title="MLflow",
    package="mlflow",
    folders=("store",),
    migrations="store/db_migrations",
    # utils imports every model module; the history starts from initial_models' create_all.
    pyproject="""[tool.contribkit]
models = "mlflow.store.db.utils:Base.metadata"
base_schema = "mlflow.store.tracking.dbmodels.initial_models:Base.metadata"
migrations = "{migrations}"
layout = "shared"
notes = "{project}/MIGRATION-NOTES.md"
dialects = ["sqlite", "postgresql", "mysql"]
drivers = {{ sqlite = "pysqlite", postgresql = "psycopg", mysql = "pymysql" }}
""",
    env_edits=(
        (
            """    else:
        engine = connection.engine

    with engine.connect() as connection:
""",
            """    else:
        engine = None  # passed in by contribkit: migrate on that very connection

    with engine.connect() if engine is not None else nullcontext(connection) as connection:
""",
        ),
        (
            "from alembic import context\n",
            "from contextlib import nullcontext\n\nfrom alembic import context\n",
        ),
    ),
    models="store/tracking/dbmodels/models.py",
    anchor="    artifact_location = Column(String(256), nullable=True)\n",
    new_column="    new_column = Column(String(256), nullable=True)\n",
    table="experiments",
    files=1,
    upgrade="mlflow db upgrade {url}",
    url_env=None,
    drivers=(("sqlite", "pysqlite"), ("postgresql", "psycopg"), ("mysql", "pymysql")),
    summary="its own env.py (with docs/adopting.md's lines), one history for three dialects "
    '(layout = "shared") that starts from `create_all` (base_schema)',
)

OPTUNA = Adoption(
    title="Optuna",
    package="optuna",
    folders=("storages/_rdb",),
    migrations="storages/_rdb/alembic",
    # New databases: create_all of today's models, stamped at the head; so on MySQL, where
    # the early revisions fail, the databases start at the head, from a frozen copy.
    pyproject="""[tool.contribkit]
models = "optuna.storages._rdb.models:BaseModel.metadata"
migrations = "{migrations}"
layout = "shared"
notes = "{project}/MIGRATION-NOTES.md"
dialects = ["sqlite", "postgresql", "mysql"]
alembic_ini = "{migrations}/../alembic.ini"
start = {{ mysql = {{ revision = "v3.2.0.a", schema = "optuna_frozen_models:BaseModel.metadata" }} }}
""",
    env_edits=(
        (
            """    connectable = engine_from_config(
        config.get_section(config.config_ini_section),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )

    with connectable.connect() as connection:""",
            """    passed = config.attributes.get("connection")  # passed in by contribkit
    connectable = passed or engine_from_config(
        config.get_section(config.config_ini_section),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )

    with connectable.connect() if passed is None else nullcontext(passed) as connection:""",
        ),
        ("import logging\n", "import logging\nfrom contextlib import nullcontext\n"),
    ),
    models="storages/_rdb/models.py",
    anchor="""    study_name = _Column(
        String(MAX_INDEXED_STRING_LENGTH), index=True, unique=True, nullable=False
    )
""",
    new_column="    new_column = _Column(String(256), nullable=True)\n",
    table="studies",
    files=1,
    upgrade="optuna storage upgrade --storage {url}",
    url_env=None,
    drivers=(("sqlite", "pysqlite"), ("postgresql", "psycopg"), ("mysql", "pymysql")),
    summary="Alembic's template env.py (a guarded fileConfig, its own engine: docs/adopting.md's "
    "lines), one history for three dialects whose new databases are made by `create_all` and "
    "stamped, on MySQL from a frozen copy of the models (`start`)",
    create="optuna create-study --storage {url}",
    frozen=(("storages/_rdb/models.py", "optuna_frozen_models.py"),),
)

OPEN_WEBUI_MODELS = '''"""Every Open WebUI model module imported: their one MetaData then holds every table."""

import importlib
import pkgutil

import open_webui.models
from open_webui.internal.db import Base

for _module in pkgutil.iter_modules(open_webui.models.__path__):
    importlib.import_module(f"open_webui.models.{_module.name}")
'''

OPEN_WEBUI = Adoption(
    title="Open WebUI",
    package="open_webui",
    folders=("migrations", "models"),
    migrations="migrations",
    # Its alembic.ini sets no file_template: new files get Alembic's <rev>_<slug>.py, as its own.
    pyproject="""[tool.contribkit]
models = "openwebui_models:Base.metadata"
migrations = "{migrations}"
layout = "shared"
notes = "{project}/MIGRATION-NOTES.md"
dialects = ["sqlite", "postgresql"]
alembic_ini = "{package}/alembic.ini"
""",
    env_edits=(
        (
            """    live_connectable = _get_engine_connectable()
    enable_iam_token_auth(live_connectable)
    with live_connectable.connect() as live_connection:""",
            """    passed = alembic_config.attributes.get('connection')  # passed in by contribkit
    live_connectable = passed or _get_engine_connectable()
    if passed is None:
        enable_iam_token_auth(live_connectable)
    with live_connectable.connect() if passed is None else nullcontext(passed) as live_connection:""",
        ),
        ("import logging\n", "import logging\nfrom contextlib import nullcontext\n"),
    ),
    models="models/chats.py",
    anchor="    timer_at = Column(BigInteger, nullable=True)  # ns due time, set only while a "
    "timer chat waits to be claimed\n",
    new_column="    new_column = Column(Text, nullable=True)\n",
    table="chat",
    files=1,
    # What `open-webui serve` does first: importing its config runs its migrations.
    upgrade='ENABLE_DB_MIGRATIONS=true python -c "import open_webui.config"',
    url_env="DATABASE_URL",
    # A plain sqlite:// URL: it derives its async engine's (aiosqlite) from that form only.
    drivers=(("sqlite", ""), ("postgresql", "psycopg")),
    summary="its own env.py (its own engine from DATABASE_URL: docs/adopting.md's lines), one "
    "history for both dialects in Alembic's default file names, a models package whose "
    "MetaData fills as its modules are imported (a models module of the project's own)",
    written=(("openwebui_models.py", OPEN_WEBUI_MODELS),),
    # Importing it needs a data folder, a secret, a built front end; migrating at import
    # is what contribkit must not have it do.
    project_folders=("data", "frontend/static"),
    environment=(
        ("DATA_DIR", "{project}/data"),
        ("FRONTEND_BUILD_DIR", "{project}/frontend"),
        ("WEBUI_SECRET_KEY", "adopt-proof"),
        ("ENABLE_DB_MIGRATIONS", "false"),
    ),
)

LANGFLOW = Adoption(
    title="Langflow",
    package="langflow",
    folders=("alembic", "services/database/models/folder"),
    migrations="alembic",
    # Its env.py runs every revision in one transaction: SQLite's DDL is left to pysqlite
    # (not sqlite_transactional_ddl), so the PRAGMA lines take effect.
    pyproject="""[tool.contribkit]
models = "langflow.services.database.service:SQLModel.metadata"
migrations = "{migrations}"
layout = "shared"
notes = "{project}/MIGRATION-NOTES.md"
dialects = ["sqlite", "postgresql"]
alembic_ini = "{package}/alembic.ini"
drivers = {{ sqlite = "aiosqlite", postgresql = "psycopg" }}
guarded = true
""",
    env_edits=(
        (
            "    asyncio.run(_run_async_migrations())\n",
            """    connection = config.attributes.get("connection")  # passed in by contribkit
    if connection is not None:
        _do_run_migrations(connection)
        return
    asyncio.run(_run_async_migrations())
""",
        ),
    ),
    models="services/database/models/folder/model.py",
    anchor="    workspace_id: UUID | None = Field(default=None, nullable=True, index=True)\n",
    new_column="    new_column: str | None = Field(default=None, nullable=True)\n",
    table="folder",
    files=1,
    upgrade="langflow migration --no-test",
    url_env="LANGFLOW_DATABASE_URL",
    # Its new databases are made by create_all of today's models, then every (guarded)
    # revision: its own upgrade runs on one made before the change, as its users' are.
    create="langflow migration --no-test",
    drivers=(("sqlite", "aiosqlite"), ("postgresql", "psycopg")),
    summary="its own async env.py (docs/adopting.md's lines) with a process_revision_directives "
    "that rebuilds the downgrade, a template that starts both functions with a statement, "
    "one history for both dialects, trigger functions on PostgreSQL (never cached), and new "
    "databases made by `create_all` of today's models before its guarded revisions run "
    "(`guarded = true`: its own command applies the new file to a database it made before "
    "the change and to a new one)",
    project_folders=("langflow-config",),
    environment=(
        ("LANGFLOW_CONFIG_DIR", "{project}/langflow-config"),
        ("LANGFLOW_SUPERUSER", "adopt"),
        ("LANGFLOW_SUPERUSER_PASSWORD", "adopt-proof-0"),
        ("LANGFLOW_AUTO_LOGIN", "false"),
    ),
)

PROJECTS = {
    "prefect": PREFECT,
    "mlflow": MLFLOW,
    "optuna": OPTUNA,
    "open-webui": OPEN_WEBUI,
    "langflow": LANGFLOW,
}


def main(name: str) -> None:
    adoption = PROJECTS[name]
    module = importlib.import_module(adoption.package)
    root = Path(module.__file__).parent  # type: ignore[arg-type]
    migrations = root / adoption.migrations
    folders = [root / folder for folder in adoption.folders]
    with tempfile.TemporaryDirectory(prefix="ck-adopt-") as tmp, _restored(folders):
        project = Path(tmp)
        pyproject = adoption.pyproject.format(migrations=migrations, project=project, package=root)
        (project / "pyproject.toml").write_text(pyproject)
        env = {
            **os.environ,
            "PREFECT_HOME": str(project / "prefect-home"),
            **{key: value.format(project=project) for key, value in adoption.environment},
        }
        for folder in adoption.project_folders:
            (project / folder).mkdir(parents=True)
        for source, copy in adoption.frozen:
            shutil.copy(root / source, project / copy)
        for written, text in adoption.written:
            (project / written).write_text(text)
        for old, new in adoption.env_edits:
            replace_in(migrations / "env.py", old, new)
        with ExitStack() as databases:
            created = {
                dialect: _created(adoption, dialect, driver, env, databases)
                for dialect, driver in adoption.drivers
                if adoption.create
            }
            rows = _scenario(adoption, project, root, env, created)
    distributions = importlib.metadata.packages_distributions().get(adoption.package)
    version = importlib.metadata.version(distributions[0]) if distributions else "?"
    body = [
        f"## Adoption: {adoption.title}",
        "",
        f"`nox -s adopt` on {machine()}; {adoption.title} {version}, {adoption.summary}.",
        "",
        "| step | result | seconds |",
        "|---|---|---|",
        *(f"| {step} | {result} | {seconds:.1f} |" for step, result, seconds in rows),
        "",
        "Each step runs as a user would, one after the other in one project: `check` after "
        "`baseline` and `migrate` start from the database states the steps before them saved "
        "(docs/caching.md); the `--no-cache` row replays the history in full.",
    ]
    print("\n".join(body))
    write_section("adopt" if name == "prefect" else f"adopt-{name}", "\n".join(body))


def _created(
    adoption: Adoption, dialect: str, driver: str, env: dict[str, str], stack: ExitStack
) -> tuple[str, tuple[str, str, float]]:
    """A database of ``dialect`` made by the project's own ``create`` command, before any
    change: the database its own upgrade later brings to the new head. Returns its URL and
    the step's row."""
    url = stack.enter_context(ephemeral_database(dialect, driver))
    start = time.perf_counter()
    _run_own(adoption, adoption.create or "", url, env)
    label = f"`{adoption.create.replace(' {url}', ' URL')}` ({_reached(dialect, driver)}), before the change"
    return url, (label, "created", time.perf_counter() - start)


def _run_own(adoption: Adoption, command: str, url: str, env: dict[str, str]) -> None:
    """One of the project's own commands, on the database at ``url``: as a shell reads it
    (leading ``NAME=value`` words set variables), ``python`` being this venv's, and another
    first word its console script (else ``python -m`` that word)."""
    words = shlex.split(command.format(url=url))
    variables = {}
    while "=" in words[0]:
        name, _, value = words.pop(0).partition("=")
        variables[name] = value
    script = Path(sys.executable).with_name(words[0])
    if words[0] == "python":
        argv = [sys.executable, *words[1:]]
    else:
        argv = [str(script), *words[1:]] if script.exists() else [sys.executable, "-m", *words]
    result = subprocess.run(
        argv,
        env={**env, **variables, **({adoption.url_env: url} if adoption.url_env else {})},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"adopt: {' '.join(words[:3])}: {result.stderr[-2000:]}")


def _scenario(
    adoption: Adoption,
    project: Path,
    root: Path,
    env: dict[str, str],
    created: dict[str, tuple[str, tuple[str, str, float]]],
) -> list[tuple[str, str, float]]:
    rows = [row for _url, row in created.values()]

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
    replace_in(root / adoption.models, adoption.anchor, adoption.anchor + adoption.new_column)
    message = f"add_{adoption.table}_new_column"
    migrated = step(f"migrate -m {message}", "migrate", "-m", message)
    written = re.findall(r"wrote (\S+\.py)", migrated)
    if len(written) != adoption.files:
        raise SystemExit(f"adopt: migrate wrote {written}, expected {adoption.files} file(s)")
    for path in written:
        text = (project / path).read_text()
        upgrade = text.split("def upgrade")[1].split("def downgrade")[0]
        if _changes(upgrade) != ["add_column"] or "new_column" not in upgrade:
            raise SystemExit(f"adopt: {path} holds more than the new column:\n{upgrade}")
    step("check after migrate", "check")
    for dialect, driver in adoption.drivers:
        url = created[dialect][0] if dialect in created else None
        rows.append(_own_command(adoption, adoption.upgrade, dialect, driver, env, url))
    for dialect, driver in adoption.drivers if adoption.create else ():
        # A database made after the change: create_all of the new models, and then (Langflow)
        # every revision, the new one included.
        rows.append(_own_command(adoption, adoption.create or "", dialect, driver, env, None))
    return rows


#: What a revision calls that changes nothing: its guards, the PRAGMA lines, batch blocks.
_NOT_CHANGES = frozenset({"get_bind", "get_context", "execute", "f", "batch_alter_table"})


def _changes(function: str) -> list[str]:
    """The operations ``function`` (a revision function's text) calls: ``add_column``…"""
    called = re.findall(r"\b(?:batch_)?op\.(\w+)\(", function)
    return [name for name in called if name not in _NOT_CHANGES]


def _own_command(
    adoption: Adoption,
    command: str,
    dialect: str,
    driver: str,
    env: dict[str, str],
    url: str | None,
) -> tuple[str, str, float]:
    """The project's own ``command`` applies the history, new revision included: to an empty
    database, or (``url``) to the one its own ``create`` made before the change."""
    with ExitStack() as stack:
        new = url is None
        url = url or stack.enter_context(ephemeral_database(dialect, driver))
        start = time.perf_counter()
        _run_own(adoption, command, url, env)
        seconds = time.perf_counter() - start
        sync = {"postgresql": "psycopg", "mysql": "pymysql"}.get(dialect, "pysqlite")
        engine = sa.create_engine(with_driver(url, sync))
        try:
            with engine.connect() as connection:
                columns = {c["name"] for c in sa.inspect(connection).get_columns(adoption.table)}
        finally:
            engine.dispose()
        if "new_column" not in columns:
            raise SystemExit(
                f"adopt: the {dialect} upgrade did not add {adoption.table}.new_column"
            )
    label = f"`{command.replace(' {url}', ' URL')}` ({_reached(dialect, driver)})"
    if new and command == adoption.create:
        label += ", a new database after the change"
    return label, f"{adoption.table}.new_column present", seconds


def _reached(dialect: str, driver: str) -> str:
    """How the project's own command reached the database: ``postgresql+psycopg``, or the plain
    URL (``sqlite``), whose driver the project picks itself."""
    return f"{dialect}+{driver}" if driver else f"{dialect}, a plain URL"


@contextmanager
def _restored(folders: list[Path]) -> Iterator[None]:
    """Put the installed package's ``folders`` back as they were: edited files restored, new
    files removed.

    uv installs files as hard links to its cache: each is first made a file of its own, so
    that editing it cannot change the cache, and every venv installed from it, too."""
    files = {
        p: p.read_bytes()
        for folder in folders
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    for path in files:
        if path.stat().st_nlink > 1:
            own = path.with_name(f".{path.name}.own")
            shutil.copy2(path, own)
            os.replace(own, path)
    try:
        yield
    finally:
        for folder in folders:
            for path in folder.rglob("*"):
                if path.is_file() and "__pycache__" not in path.parts and path not in files:
                    path.unlink()
        for path, data in files.items():
            if path.read_bytes() != data:
                path.write_bytes(data)
        for folder in folders:
            for cache in folder.rglob("__pycache__"):
                shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "prefect")
