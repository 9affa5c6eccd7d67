"""Helpers for a project's ``noxfile.py`` (a public module): the sessions stay declarations,
the logic lives here::

    from contribkit import nox as contribkit_nox

Installs go through ``session.run_install`` so ``nox -R`` skips them, and come from ``uv.lock``
(``uv sync --frozen`` into the session's virtualenv), so local runs and CI get the same versions.
This module imports nothing heavy: nox loads it for ``nox -l``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = [
    "find_interpreters",
    "install_locked",
    "install_server_packages",
    "run_contribkit",
    "run_docs",
    "run_lint",
    "run_module",
    "run_tests",
    "run_ui",
]


def find_interpreters() -> None:
    """Let nox and uv see every pyenv-installed Python, not just the selected one.

    pyenv keeps unselected versions off PATH; appending their bin folders (after everything
    else) lets ``python=["3.10", ...]`` find them without shadowing the user's choice.
    """
    root = Path(os.environ.get("PYENV_ROOT", "~/.pyenv")).expanduser()
    extra = [
        str(p)
        for p in sorted(root.glob("versions/*/bin"))
        if str(p) not in os.environ.get("PATH", "")
    ]
    if extra:
        os.environ["PATH"] = os.pathsep.join([os.environ.get("PATH", ""), *extra])
    # A sandbox or CI without internet must fail fast on a missing interpreter, not download one.
    os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")


def install_locked(session: Any, *groups: str) -> None:
    """Install the project, its ``dev`` dependency group (contribkit and the contributor tools:
    uv's default) and ``groups`` into the session's venv, exactly as locked."""
    from contribkit.workflows.quality import UV_SYNC

    flags = [arg for group in groups for arg in ("--group", group)]
    session.run_install(
        *UV_SYNC,
        "--inexact",
        *flags,
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
        silent=True,
    )
    install_server_packages(session, Path.cwd())


def install_server_packages(session: Any, root: Path) -> None:
    """On CI (``CI`` set), install with apt what the configured dialects' throw-away servers
    need and the machine lacks: a fresh CI machine has no MariaDB. Here rather than in CI's
    own files, so that ``.ci/run`` and every workflow job get it from the same place.

    Never on a contributor's machine, where a package manager is the user's to run (docs/ci.md).
    """
    if not os.environ.get("CI"):
        return
    from contribkit.core.config import load_config
    from contribkit.databases.throwaway import missing_debian_packages

    missing = missing_debian_packages(load_config(root).dialects)
    if not missing:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    session.log(f"installing {' '.join(missing)}, which the configured dialects need")
    session.run(*sudo, "apt-get", "update", "-qq", external=True)
    session.run(
        *sudo,
        "env",
        "DEBIAN_FRONTEND=noninteractive",
        "apt-get",
        "install",
        "-y",
        "-qq",
        "--no-install-recommends",
        *missing,
        external=True,
    )


def run_tests(session: Any, dialect: str, default_args: list[str]) -> None:
    """pytest on ``dialect``; ``nox -s tests -- -k tasks`` passes its args straight to pytest."""
    from contribkit.workflows.quality import pytest_command, test_environment

    install_locked(session)
    session.run(
        *pytest_command(extra=session.posargs or default_args), env=test_environment(dialect)
    )


def run_contribkit(session: Any, *args: str) -> None:
    """``contribkit ARGS`` in a venv with the project installed from the lock."""
    install_locked(session)
    session.run("contribkit", *args)


def run_ui(session: Any, root: Path) -> None:
    """Build the UI as ``invoke ui.build`` does, then run its npm checks (``ui_checks``).

    The checks run with the session's venv first on PATH, so a browser test can start the
    application's own CLI, and get ``UI_TEST_OUTPUT``: a folder in the session for screenshots.
    """
    from contribkit.core.config import load_config
    from contribkit.workflows.ui import NPM_CI, checks, dependencies_stale, ui_folders

    config = load_config(root)
    ui_dir, _ = ui_folders(config)
    run_contribkit(session, "ui", "build")
    output = Path(session.virtualenv.location) / "screenshots"
    with session.chdir(ui_dir):
        if dependencies_stale(ui_dir):  # the build was skipped, yet node_modules is not there
            session.run("npm", *NPM_CI, external=True)
        for script in checks(config):
            session.run("npm", "run", script, external=True, env={"UI_TEST_OUTPUT": str(output)})
    session.log(f"screenshots in {output}")


def run_module(
    session: Any,
    module: str,
    *groups: str,
    pip: list[str] | tuple[str, ...] = (),
    args: list[str] | tuple[str, ...] = (),
) -> None:
    """``python -m MODULE ARGS`` from the project root, in a venv installed from the lock, plus
    ``pip`` requirements the lock does not hold (a real project to try contribkit on)."""
    install_locked(session, *groups)
    if pip:
        session.install(*pip)
    session.run("python", "-m", module, *args, *session.posargs)


def run_docs(session: Any) -> None:
    """Build the project's documentation site (``mkdocs.yml``) from its locked ``docs`` group,
    strictly: a link to a missing page or anchor is an error, so the docs cannot rot."""
    install_locked(session, "docs")
    session.run("mkdocs", "build", "--strict", *session.posargs)


def run_lint(session: Any, root: Path, fix: bool = False) -> None:
    """Lint with exactly the versions ``.pre-commit-config.yaml`` pins."""
    from contribkit.workflows.lintversions import pinned_requirements
    from contribkit.workflows.quality import lint_commands

    session.install(*pinned_requirements(root))
    for argv in lint_commands(fix=fix):
        session.run(*argv)
