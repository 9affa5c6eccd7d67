# /// script
# dependencies = ["nox>=2025.2.9", "pyyaml>=6.0", "tomli>=2.0; python_version < '3.11'"]
# ///
"""Sessions for contributors and CI: `nox -l` lists them; CI runs the ones tagged `ci`.

Declarations only: the axes are data, each session is one call into `contribkit.nox`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
sys.path.insert(0, str(ROOT / "src"))  # this repository develops contribkit itself

from contribkit import nox as nox_sessions  # noqa: E402

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
# A Python that is not installed is skipped locally and by .ci/run (which finds what pyenv has);
# GitHub Actions installs every one, so there a missing interpreter is an error, not a green skip.
nox.options.error_on_missing_interpreters = os.environ.get("GITHUB_ACTIONS") == "true"
nox_sessions.find_interpreters()

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
DIALECTS = ["sqlite", "postgresql", "mysql"]
#: Each dialect runs on some Pythons only: what differs between Pythons is the project's own
#: code, which every Python runs the suite for once: SQLite on all but the default, whose
#: MySQL session (the throw-away MariaDB server) runs every test but the SQLite-only ones;
#: PostgreSQL on the oldest and newest (its driver's range). Every session on every Python
#: would not fit in CI's 30 minutes.
DIALECT_PYTHONS = {
    "sqlite": ["3.10", "3.12", "3.13"],
    "postgresql": ["3.10", "3.13"],
    "mysql": ["3.11"],
}
TEST_MATRIX = [(py, d) for d in DIALECTS for py in DIALECT_PYTHONS.get(d, PYTHONS)]
TEST_ARGS = ["-n", "2", "-q"]


@nox.session(python=False, default=False)
def dev(session: nox.Session) -> None:
    """Create .venv with the project (editable) and every dev tool, and install git hooks."""
    from contribkit.workflows.quality import setup_commands

    for argv in setup_commands():
        session.run(*argv, external=True)


@nox.session(python="3.11", tags=["ci"])
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check and actionlint, at the pre-commit pinned versions."""
    nox_sessions.run_lint(session, ROOT)


@nox.session(python="3.11", name="format", default=False)
def format_(session: nox.Session) -> None:
    """Fix lint findings and format every file."""
    nox_sessions.run_lint(session, ROOT, fix=True)


@nox.session(tags=["ci"])
@nox.parametrize(("python", "dialect"), [nox.param(py, d, tags=[d]) for py, d in TEST_MATRIX])
def tests(session: nox.Session, dialect: str) -> None:
    """pytest on one Python x dialect; `nox -s tests -- -k tasks` passes arguments to pytest."""
    nox_sessions.run_tests(session, dialect, TEST_ARGS)


@nox.session(python="3.11", tags=["ci"])
def docs(session: nox.Session) -> None:
    """The documentation site (docs/, mkdocs.yml), built strictly: links and anchors checked."""
    nox_sessions.run_docs(session)


@nox.session(python="3.11", tags=["ci"])
def migrations(session: nox.Session) -> None:
    """Every dialect: single head, base→head upgrade, round trips, zero drift, notes ⇔ files."""
    nox_sessions.run_contribkit(session, "check", *session.posargs)


@nox.session(python="3.11", tags=["ci"], default=False)
def ui(session: nox.Session) -> None:
    """Build the UI into the server, run its unit tests, then the browser test (Chromium)."""
    nox_sessions.run_ui(session, ROOT)


@nox.session(python="3.11", tags=["ci"], default=False)
def faults(session: nox.Session) -> None:
    """Fault trials for migrate (interrupts, concurrency, killed server, bad input) -> BENCHMARKS.md."""
    nox_sessions.run_module(session, "benchmarks.faults")


@nox.session(python="3.11", default=False)
def load(session: nox.Session) -> None:
    """flowdesk server start under 500 concurrent clients for 30 s, on SQLite and PostgreSQL:
    5xx, latency, /api/health's -> BENCHMARKS.md."""
    nox_sessions.run_module(session, "benchmarks.load")


#: Real projects the adopt session proves contribkit on, as PyPI ships them: a history per
#: dialect (Prefect), one every dialect runs (MLflow's tracking store; -skinny holds it all),
#: one whose new databases are made by create_all and stamped (Optuna's RDB storage), one
#: whose env.py makes its own engine (Open WebUI), and one with a revision hook of its own
#: (Langflow; -base holds its server and history).
ADOPTED = {
    "prefect": "prefect>=3.9,<3.10",
    "mlflow": "mlflow-skinny>=3.17,<3.18",
    "optuna": "optuna>=5.0,<5.1",
    "open-webui": "open-webui>=0.12.4,<0.13",
    "langflow": "langflow-base>=1.13,<1.14",
}


@nox.session(python="3.11", default=False)
@nox.parametrize("project", list(ADOPTED))
def adopt(session: nox.Session, project: str) -> None:
    """Adopt a real project from PyPI: check, baseline, migrate, its own upgrade ->
    BENCHMARKS.md."""
    nox_sessions.run_module(session, "benchmarks.adopt", pip=[ADOPTED[project]], args=[project])


@nox.session(python="3.11", default=False)
def bench(session: nox.Session) -> None:
    """Performance figures (P1-P7, growth with history, check against pytest-alembic) ->
    BENCHMARKS.md; takes about 20 minutes."""
    # The peer, pinned (0.13.1 fails to collect on pytest 9.2); only this session's venv has it.
    peer = ["pytest-alembic==0.13.1", "pytest<9.2"]
    nox_sessions.run_module(session, "benchmarks.bench", "bench", pip=peer)
