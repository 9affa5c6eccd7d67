"""``flowdesk``: the application's command line (the server, its database, the worker).

This module parses arguments and prints; each command imports what it needs when it runs, so
``flowdesk --help`` stays fast. Failures end as one line and exit code 2 through
:func:`contribkit.frontend.run`; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import socket

    from contribkit.config import ProjectConfig
    from contribkit.realdb import Target
    from flowdesk.worker import Worker

UPGRADE_HINT = "flowdesk server database upgrade -y"


def require_database_at_head(config: ProjectConfig) -> Target:
    """The database's target, if it is reachable and fully migrated; else a one-line error."""
    from contribkit import realdb
    from contribkit.errors import UsageError

    target, current, head = realdb.status(config, missing_ok=True)
    if current != head:
        raise UsageError(
            f"the database {target.shown} is at revision {current or 'base (empty)'}, "
            f"not at head {head}: run '{UPGRADE_HINT}' first."
        )
    return target


def listening_socket(host: str, port: int) -> socket.socket:
    """Bind ``host:port`` now, so a port in use is a one-line error rather than a server log."""
    import socket

    from contribkit.errors import UsageError

    try:
        family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise UsageError(f"cannot resolve --host {host!r}: {exc.strerror}.") from exc
    sock = socket.socket(family, kind)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port} ({exc.strerror}): stop what uses it "
            "or choose another --port."
        ) from exc
    return sock


def cmd_server_start(args: argparse.Namespace) -> int:
    from contribkit import console
    from flowdesk.settings import runtime_config

    target = require_database_at_head(runtime_config())
    sock = listening_socket(args.host, args.port)

    import uvicorn

    from flowdesk.server.api import create_app

    console.info(f"flowdesk on http://{args.host}:{args.port} (API docs: /api/docs)")
    console.info(f"database: {target.shown}")
    server = uvicorn.Server(uvicorn.Config(create_app(target.url), log_level="info"))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn shuts down gracefully, then re-raises the signal that stopped it.
        pass
    finally:
        sock.close()
    return 0


def cmd_database(args: argparse.Namespace) -> int:
    from contribkit.cli import run_db_command
    from flowdesk.settings import runtime_config

    return run_db_command(runtime_config(), args)


def cmd_revision(args: argparse.Namespace) -> int:
    """For contributors: generate the migrations from the checkout's pyproject.toml."""
    from contribkit.config import load_config
    from contribkit.console import report_written
    from contribkit.migrations.migrate import migrate

    config = load_config()
    result = migrate(config, args.message)
    report_written(config.root, result.written, result.notes)
    return 0


def import_flow_modules(modules: Sequence[str]) -> None:
    """Import the modules that register flows, from the current directory too (as uvicorn)."""
    import importlib
    import os

    from contribkit.errors import UsageError

    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as exc:  # the module's own code may raise anything while it loads
            reason = (str(exc).strip().splitlines() or [""])[0]
            raise UsageError(
                f"cannot import --import {module}: {type(exc).__name__}: {reason} "
                "(--debug shows the traceback)."
            ) from exc


def cmd_worker_start(args: argparse.Namespace) -> int:
    from contribkit import console
    from contribkit.frontend import INTERRUPTED
    from flowdesk.registry import default_registry
    from flowdesk.settings import runtime_config
    from flowdesk.worker import Worker

    target = require_database_at_head(runtime_config())
    import_flow_modules(args.imports)
    flows = list(default_registry)
    if not flows:
        console.warn(
            "no flows are registered, so every due run will fail: "
            "pass --import MODULE for each module that defines flows."
        )
    with Worker(target.url) as worker:
        console.info(
            f"worker {worker.name}: polling {target.shown} every {args.poll_interval:g} s "
            f"for flows: {', '.join(flows) or 'none'}"
        )
        console.info("Ctrl-C stops after the run in progress; a second Ctrl-C interrupts it")
        try:
            worker.run_forever(args.poll_interval)
        except KeyboardInterrupt:
            console.error(f"worker {worker.name} interrupted: {left_behind(worker)}")
            return INTERRUPTED
        if worker.unrecorded:
            runs = ", ".join(str(run_id) for run_id in worker.unrecorded)
            console.error(
                f"worker {worker.name} stopped; it could not record the state of run(s) {runs}: "
                "fail them through POST /api/flow_runs/{id}/set_state."
            )
            return 1
    console.info(f"worker {worker.name} stopped")
    return 0


def left_behind(worker: Worker) -> str:
    """What an interrupted worker leaves for a person to do, from the database's own record."""
    import sqlalchemy as sa

    from contribkit.errors import one_line

    try:
        unfinished = worker.unfinished_runs()
    except (sa.exc.SQLAlchemyError, KeyboardInterrupt) as exc:  # database gone, or a 3rd Ctrl-C
        reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else one_line(exc)
        return (
            f"cannot tell which of its runs are unfinished ({reason}): "
            f"look for PENDING or RUNNING runs of worker {worker.name}."
        )
    if unfinished:
        runs = ", ".join(f"run {run_id} is left {state.value}" for run_id, state in unfinished)
        them = "it" if len(unfinished) == 1 else "them"
        return f"{runs}: fail {them} through POST /api/flow_runs/{{id}}/set_state."
    if worker.stopped_run is not None:
        return f"the flow of run {worker.stopped_run} was stopped; no run is left unfinished."
    return "no run was in progress."


MAX_POLL_INTERVAL = 86400.0


def poll_seconds(text: str) -> float:
    """A finite number of seconds in (0, a day]: NaN would poll in a hot loop, inf never."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0  # out of range, so it is reported below
    if not 0 < value <= MAX_POLL_INTERVAL:
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds above 0 and at most {MAX_POLL_INTERVAL:g}, not {text!r}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    from contribkit.cli import add_db_commands, port_number

    parser = argparse.ArgumentParser(prog="flowdesk", description="Track and run flows.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    server = commands.add_parser("server", help="the API server and its database")
    server_commands = server.add_subparsers(dest="server_command", required=True, metavar="COMMAND")
    start = server_commands.add_parser("start", help="serve the API and the UI")
    start.add_argument("--host", default="127.0.0.1", help="address to listen on")
    start.add_argument("--port", type=port_number, default=4200, help="port to listen on")
    start.set_defaults(func=cmd_server_start)

    database = server_commands.add_parser(
        "database", help="migrate the database named by $FLOWDESK_DATABASE_URL"
    )
    database_commands = add_db_commands(database)
    revision = database_commands.add_parser(
        "revision", help="contributors: generate a migration per dialect from the models"
    )
    # Generation always compares the models with the database; the flag is accepted because
    # Alembic users type it out of habit.
    revision.add_argument("--autogenerate", action="store_true", help="the default (always on)")
    revision.add_argument("-m", "--message", required=True, help="snake_case, e.g. add_flow_tags")
    revision.set_defaults(func=cmd_revision)  # a subcommand's default wins over its parent's
    database.set_defaults(func=cmd_database)

    worker = commands.add_parser("worker", help="run due flow runs")
    worker_commands = worker.add_subparsers(dest="worker_command", required=True, metavar="COMMAND")
    worker_start = worker_commands.add_parser("start", help="poll for due runs until stopped")
    worker_start.add_argument(
        "--poll-interval", type=poll_seconds, default=2.0, help="seconds between polls"
    )
    worker_start.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="module that registers flows (repeatable)",
    )
    worker_start.set_defaults(func=cmd_worker_start)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from contribkit.frontend import run

    args = build_parser().parse_args(argv)
    return run(lambda: args.func(args), debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
