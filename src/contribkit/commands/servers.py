"""``ui build|dev`` and ``dev api|worker|start|k8s-manifest``: the UI and development servers.

Each command imports its workflow when it runs: ``contribkit --help`` and ``invoke --list``
load this module, and must not pay for SQLAlchemy and Alembic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contribkit.commands.spec import Result, shown

if TYPE_CHECKING:
    from contribkit.core.config import ProjectConfig


def ui_build(config: ProjectConfig, force: bool) -> Result:
    from contribkit.workflows.ui import build

    built = build(config, force=force)
    where = shown(config, built.static_dir)
    if built.built:
        return Result().ok(f"built the UI into {where} in {built.seconds:.1f} s")
    return Result().ok(f"UI unchanged since the last build: {where} (use --force to rebuild)")


def ui_dev(config: ProjectConfig) -> Result:
    from contribkit.workflows.devserver import serve_ui

    serve_ui(config)
    return Result()


def api(config: ProjectConfig, host: str, port: int | None) -> Result:
    from contribkit.workflows.devserver import serve_api

    serve_api(config, host, port)
    return Result()


def worker(config: ProjectConfig) -> Result:
    from contribkit.workflows.devserver import reload_worker

    reload_worker(config)
    return Result()


def start(config: ProjectConfig) -> Result:
    from contribkit.workflows.devserver import serve_all

    serve_all(config)
    return Result()


def k8s_manifest(config: ProjectConfig, image: str | None, namespace: str | None) -> Result:
    from contribkit.workflows.k8s import render

    return Result().out(render(config, image=image, namespace=namespace))
