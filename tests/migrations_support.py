"""Helpers for tests that run contribkit's workflows on a throw-away copy of a project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from contribkit.core import reporting
from contribkit.core.config import normalize_dialect
from contribkit.frontends.cli import main
from contribkit.workflows.quality import TEST_DIALECT_ENV

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def session_dialect() -> str:
    """The dialect this session tests beside SQLite: ``$CONTRIBKIT_TEST_DIALECT``."""
    return normalize_dialect(os.environ.get(TEST_DIALECT_ENV, "sqlite"))


#: The sample project's second dialect: the session's server (see the ``sample`` fixture).
SAMPLE_SERVER = "mysql" if session_dialect() == "mysql" else "postgresql"


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    #: What the run reported (in-process runs only; a subprocess has its text alone).
    events: list[reporting.Event] = field(default_factory=list)

    def said(self, level: reporting.Level, dialect: str | None = None) -> list[str]:
        """The messages of the ``level`` events (about ``dialect``, when given), in order."""
        return [
            e.message
            for e in self.events
            if e.level == level and (dialect is None or e.dialect == dialect)
        ]


@dataclass
class Project:
    """A copy of a project in a temporary folder, driven through the real ``contribkit`` CLI."""

    root: Path
    package: str
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]
    in_process: bool = True

    def forget_modules(self) -> None:
        """Drop the project's modules so the next import sees edited model files."""
        for name in [
            m for m in sys.modules if m == self.package or m.startswith(self.package + ".")
        ]:
            del sys.modules[name]

    def cli(self, *args: str) -> Outcome:
        """``contribkit ARGS`` in this project: in-process, or in a subprocess for a project
        whose package is also imported by the test process itself (flowdesk)."""
        if not self.in_process:
            return self.command(sys.executable, "-m", "contribkit", *args)
        self.forget_modules()
        self.monkeypatch.chdir(self.root)
        self.capsys.readouterr()
        with reporting.recorded(rendered=True) as events:
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse refused the arguments
                code = int(exc.code or 0)
        captured = self.capsys.readouterr()
        return Outcome(code, captured.out, captured.err, events)

    def command(self, *argv: str) -> Outcome:
        env = {**os.environ, "PYTHONPATH": str(self.root / "src")}
        result = subprocess.run(argv, cwd=self.root, env=env, capture_output=True, text=True)
        return Outcome(result.returncode, result.stdout, result.stderr)

    def invoke(self, *args: str) -> Outcome:
        return self.command(str(Path(sys.executable).parent / "invoke"), *args)

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.root / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1))

    def versions(self, dialect: str) -> list[Path]:
        folder = self.migrations / "versions" / dialect
        return sorted(folder.glob("*.py"))

    @property
    def migrations(self) -> Path:
        from contribkit.core.config import load_config

        config = load_config(self.root)
        assert config.migrations is not None
        return config.migrations

    def snapshot(self) -> dict[str, bytes]:
        """Every file under the project, for 'nothing was written' assertions."""
        return {
            str(p.relative_to(self.root)): p.read_bytes()
            for p in sorted(self.root.rglob("*"))
            # .contribkit holds the migrate lock: run-time state, not project content
            if p.is_file() and "__pycache__" not in p.parts and ".contribkit" not in p.parts
        }


def copy_project(
    folder: str, package: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> Project:  # type: ignore[no-untyped-def]
    """A copy of ``tests/<folder>`` whose ``package`` the test process imports from the copy."""
    root = tmp_path / f"{package}-project"
    shutil.copytree(TESTS / folder, root, ignore=shutil.ignore_patterns("__pycache__"))
    return project_at(root, package, monkeypatch, capsys)


def project_at(root: Path, package: str, monkeypatch: pytest.MonkeyPatch, capsys) -> Project:  # type: ignore[no-untyped-def]
    """The project at ``root``, its ``package`` imported from there by the test process."""
    monkeypatch.syspath_prepend(str(root))
    project = Project(root, package, monkeypatch, capsys)
    project.forget_modules()
    return project


def copy_flowdesk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Project:  # type: ignore[no-untyped-def]
    """This repository's pyproject, notes and flowdesk package (models and migrations)."""
    root = tmp_path / "flowdesk-project"
    (root / "src").mkdir(parents=True)
    shutil.copytree(
        ROOT / "src" / "flowdesk",
        root / "src" / "flowdesk",
        ignore=shutil.ignore_patterns("__pycache__", "ui_build"),
    )
    for name in ("pyproject.toml", "MIGRATION-NOTES.md", "tasks.py"):
        shutil.copy(ROOT / name, root / name)
    return Project(root, "flowdesk", monkeypatch, capsys, in_process=False)


PLAIN_ENV = '''\
"""A bare env.py: plain Alembic, no contribkit, foreign keys on for SQLite."""
import sqlalchemy as sa
from alembic import context

engine = sa.create_engine(context.config.get_main_option("sqlalchemy.url"))
if engine.dialect.name == "sqlite":
    sa.event.listen(engine, "connect", lambda c, _r: c.execute("PRAGMA foreign_keys=ON"))
ONE_TRANSACTION = {one_transaction}
with engine.begin() if ONE_TRANSACTION else engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
'''


def plain_alembic(
    versions: Path, url: str, tmp_path: Path, *, one_transaction: bool = False
) -> object:
    """An Alembic ``Config`` that runs ``versions`` on ``url`` through a bare env.py: Alembic's
    default form (a connection, a commit per revision on SQLite), or with ``one_transaction``
    the cookbook's ``engine.begin()`` (every revision in one transaction)."""
    from alembic.config import Config

    folder = tmp_path / ("plain-one-transaction" if one_transaction else "plain")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "env.py").write_text(PLAIN_ENV.format(one_transaction=one_transaction))
    config = Config()
    config.set_main_option("script_location", str(folder))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(versions))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config
