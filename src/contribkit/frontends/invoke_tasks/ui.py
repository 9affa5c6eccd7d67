"""``invoke ui.*``: build the web UI into the folder the server serves, or run its dev server."""

from __future__ import annotations

from invoke import task

from contribkit.frontends.invoke_tasks._runner import contribkit_errors, project


@task(help={"force": "rebuild even if the UI sources and lockfile are unchanged"})
@contribkit_errors
def build(c, force=False):  # type: ignore[no-untyped-def]
    """npm ci and npm run build, then swap the output into [tool.contribkit] static."""
    from contribkit.core.console import report_ui_build
    from contribkit.workflows.ui import build as build_ui

    config = project()
    report_ui_build(config.root, build_ui(config, force=force))


@task
@contribkit_errors
def dev(c):  # type: ignore[no-untyped-def]
    """The UI's dev server (hot reload), forwarding /api to the dev API (invoke dev.api)."""
    from contribkit.workflows.devserver import serve_ui

    serve_ui(project())
