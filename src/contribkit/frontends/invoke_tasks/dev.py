"""``invoke dev.*``: development servers with hot reload, and a Kubernetes dev manifest."""

from __future__ import annotations

from invoke import task

from contribkit.frontends.invoke_tasks._runner import contribkit_errors, project


@task(
    help={
        "host": "address to listen on (default: 127.0.0.1)",
        "port": "port to listen on (default: [tool.contribkit] api_port)",
    }
)
@contribkit_errors
def api(c, host="127.0.0.1", port=None):  # type: ignore[no-untyped-def]
    """The API under uvicorn, reloaded when a source file changes."""
    from contribkit.core.errors import UsageError
    from contribkit.workflows.devserver import parse_port, serve_api

    number = parse_port(str(port)) if port else None
    if port and number is None:
        raise UsageError(f"--port must be a number from 1 to 65535, not {port!r}.")
    serve_api(project(), host, number)


@task
@contribkit_errors
def worker(c):  # type: ignore[no-untyped-def]
    """The worker ([tool.contribkit] worker), restarted when a source file changes."""
    from contribkit.workflows.devserver import reload_worker

    reload_worker(project())


@task
@contribkit_errors
def start(c):  # type: ignore[no-untyped-def]
    """API, UI dev server and worker together; Ctrl-C stops them all."""
    from contribkit.workflows.devserver import serve_all

    serve_all(project())


@task(
    name="k8s-manifest",
    help={
        "image": "container image (default: <name>:dev)",
        "namespace": "namespace for the objects (default: kubectl's current one)",
    },
)
@contribkit_errors
def k8s_manifest(c, image=None, namespace=None):  # type: ignore[no-untyped-def]
    """Print a Deployment <name>-dev and its Service, for 'kubectl apply -f -'."""
    from contribkit.workflows.k8s import render

    print(render(project(), image=image, namespace=namespace), end="")
