"""Shared fixtures: the dialect under test and a fresh, migrated database per test.

The dialect comes from ``CONTRIBKIT_TEST_DIALECT`` (set by ``nox -s tests`` and ``invoke test``),
defaulting to SQLite, so a bare ``pytest`` works too.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from migrations_support import SAMPLE_SERVER, session_dialect

from contribkit.core.config import KNOWN_DIALECTS, load_config
from contribkit.core.signals import forget_interrupts
from contribkit.testing import MigratedDatabases

ROOT = Path(__file__).resolve().parents[1]


#: Fixtures of projects whose history is for SQLite and PostgreSQL (the legacy project's is
#: committed, in its own style): their tests run in those two sessions. The sample project's
#: second dialect is the session's server, so its tests run in every session.
PROJECTS_OF_TWO_DIALECTS = {"legacy"}


def pytest_collection_modifyitems(config, items) -> None:  # type: ignore[no-untyped-def]
    """``@pytest.mark.dialects("postgresql")``: a test that exists only for those dialects is
    deselected (not skipped) in another dialect's session."""
    current = session_dialect()
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker("dialects")
        allowed = marker.args if marker else None
        if allowed is not None:
            _require_dialect_names(item, allowed)
        if allowed is None and PROJECTS_OF_TWO_DIALECTS & set(getattr(item, "fixturenames", ())):
            allowed = ("sqlite", "postgresql")
        (drop if allowed and current not in allowed else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _require_dialect_names(item, names: tuple[object, ...]) -> None:  # type: ignore[no-untyped-def]
    """A misspelt or aliased name (``"postgres"``) would deselect the test in every session
    without a word: only the canonical names are accepted."""
    wrong = [name for name in names if name not in KNOWN_DIALECTS]
    if wrong or not names:
        raise pytest.UsageError(
            f"{item.nodeid}: @pytest.mark.dialects{names!r} must name one or more of "
            f"{', '.join(KNOWN_DIALECTS)}"
        )


@pytest.fixture(autouse=True)
def _restore_signal_handlers() -> Iterator[None]:
    """Frontends called in-process install SIGINT/SIGTERM handlers: give the test process its own
    handlers back."""
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in handlers.items():
        signal.signal(signum, handler)
    forget_interrupts()  # and the next test's in-process run starts with none received


@pytest.fixture(scope="session", autouse=True)
def _stop_embedded_postgres() -> Iterator[None]:
    """pytest-xdist workers exit without running atexit handlers: stop the server here."""
    yield
    from contribkit.databases.throwaway import shutdown_servers

    shutdown_servers()


@pytest.fixture(scope="session")
def dialect() -> str:
    return session_dialect()


@pytest.fixture(scope="session")
def project_config():  # type: ignore[no-untyped-def]
    return load_config(ROOT)


@pytest.fixture(scope="session")
def migrated_databases(project_config, dialect) -> Iterator[MigratedDatabases]:  # type: ignore[no-untyped-def]
    databases = MigratedDatabases(project_config, dialect)
    yield databases
    databases.close()


@pytest.fixture
def database_url(migrated_databases: MigratedDatabases) -> Iterator[str]:
    """A database at head, private to this test."""
    with migrated_databases.clone() as url:
        yield url


@pytest.fixture
def sample(tmp_path, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    """A fresh copy of tests/sample_project, an independent project adopting contribkit."""
    from migrations_support import copy_project

    project = copy_project("sample_project", "inventory", tmp_path, monkeypatch, capsys)
    if SAMPLE_SERVER != "postgresql":
        project.edit("pyproject.toml", '"postgres"]', f'"{SAMPLE_SERVER}"]')
    yield project
    project.forget_modules()


@pytest.fixture
def legacy(tmp_path, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    """A fresh copy of tests/legacy_project, an existing project adopting contribkit."""
    from migrations_support import copy_project

    project = copy_project("legacy_project", "ledger", tmp_path, monkeypatch, capsys)
    yield project
    project.forget_modules()


@pytest.fixture
def template(tmp_path, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    """A fresh copy of tests/template_project, a project ``alembic init`` set up, adopting
    contribkit for SQLite and the session's server."""
    from migrations_support import copy_project

    project = copy_project("template_project", "shop", tmp_path, monkeypatch, capsys)
    project.edit(
        "pyproject.toml", '["sqlite", "postgresql", "mysql"]', f'["sqlite", "{SAMPLE_SERVER}"]'
    )
    yield project
    project.forget_modules()


@pytest.fixture
def flowdesk_copy(tmp_path, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    """A copy of this repository's flowdesk models, migrations and notes."""
    from migrations_support import copy_flowdesk

    return copy_flowdesk(tmp_path, monkeypatch, capsys)


@pytest.fixture
def grown(tmp_path, monkeypatch, capsys, dialect):  # type: ignore[no-untyped-def]
    """A project with a generated history of 6 revisions per dialect (SQLite and the session's
    other one), models at head."""
    from history_support import write_project
    from migrations_support import project_at

    dialects = ("sqlite", "mysql") if dialect == "mysql" else ("sqlite", "postgresql")
    root = write_project(tmp_path / "grown-project", 6, dialects)
    project = project_at(root, "grown", monkeypatch, capsys)
    yield project
    project.forget_modules()
