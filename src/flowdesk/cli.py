"""``flowdesk``: the application's command line (the server, its database, the worker).

This module parses arguments and prints; each command imports what it needs when it runs, so
``flowdesk --help`` stays fast. A :class:`~flowdesk.errors.FlowdeskError` ends as one line and
its exit code, Ctrl-C and SIGTERM as one line and exit code 130; ``--debug`` shows the traceback
instead. Nothing here needs contribkit, except ``server database revision``, the contributors'
command that generates migrations.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import socket

    from flowdesk.worker import Worker


#: How long SIGTERM waits for requests in flight: a client trickling its body kept the server
#: up for as long as it liked.
GRACEFUL_SECONDS = 10


def say(message: str) -> None:
    print(message, flush=True)  # flushed: the server's and worker's lines go to logs as they come


def warn(message: str) -> None:
    say(f"! {message}")


def error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)


def listening_socket(host: str, port: int) -> socket.socket:
    """Bind ``host:port`` now, so a port in use is a one-line error rather than a server log."""
    import socket

    from flowdesk.errors import FlowdeskError

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise FlowdeskError(f"cannot resolve --host {host!r}: {exc.strerror}.") from exc
    # The protocol too: asyncio turns Nagle off only on sockets that say they are TCP, and with
    # it on every answer on a kept-alive connection waited 40 ms for the client's delayed ACK.
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise FlowdeskError(
            f"cannot listen on {host}:{port} ({exc.strerror}): stop what uses it "
            "or choose another --port."
        ) from exc
    return sock


def cmd_server_start(args: argparse.Namespace) -> int:
    from flowdesk.server.database.commands import require_head

    target = require_head()
    sock = listening_socket(args.host, args.port)

    import uvicorn

    from flowdesk import settings
    from flowdesk.server.api import create_app

    token = settings.api_token()
    app = create_app(target.url, allowed_hosts=settings.allowed_hosts(args.host), api_token=token)
    say(f"flowdesk on http://{args.host}:{args.port} (API docs: /api/docs)")
    say(f"database: {target.shown}")
    if token is None and not settings.is_loopback(args.host):
        warn(
            f"listening on {args.host} with no API token: anyone who reaches it can change "
            f"runs. Set {settings.API_TOKEN_ENV} to require one."
        )
    config = uvicorn.Config(app, log_level="info", timeout_graceful_shutdown=GRACEFUL_SECONDS)
    server = uvicorn.Server(config)
    # Everything imported and built so far lives as long as the server: out of the collector's
    # sight, full collections under load are shorter (140-188 ms before, 65-113 ms after, in
    # one trial of benchmarks/load.py).
    gc.freeze()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn shuts down gracefully, then re-raises the signal that stopped it.
        pass
    finally:
        sock.close()
    return 0


def cmd_database(args: argparse.Namespace) -> int:
    from flowdesk.server.database import commands

    actions = {
        "upgrade": lambda: commands.upgrade(args.revision, dry_run=args.dry_run),
        "downgrade": lambda: commands.downgrade(args.revision, yes=args.yes),
        "current": commands.describe,
        "stamp": lambda: commands.stamp(args.revision),
        "reset": lambda: commands.reset(yes=args.yes),
    }
    say(actions[args.db_command]())
    return 0


def cmd_revision(args: argparse.Namespace) -> int:
    """For contributors: generate the migrations from the checkout's pyproject.toml.

    The one command that needs contribkit, a development tool the installed application lacks;
    it runs under contribkit's own frontend, so it ends exactly as ``invoke migrate`` does.
    """
    from flowdesk.errors import FlowdeskError

    try:
        from contribkit.cli import main
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("contribkit"):
            raise
        raise FlowdeskError(
            "'server database revision' is a contributors' command and needs contribkit: install "
            "the project's development tools ('uv sync' in a checkout, which installs its dev "
            "group)."
        ) from exc

    return main([*(["--debug"] if args.debug else []), "migrate", "-m", args.message])


def import_flow_modules(modules: Sequence[str]) -> None:
    """Import the modules that register flows, from the current directory too (as uvicorn)."""
    import importlib
    import os

    from flowdesk.errors import FlowdeskError

    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as exc:  # the module's own code may raise anything while it loads
            reason = (str(exc).strip().splitlines() or [""])[0]
            raise FlowdeskError(
                f"cannot import --import {module}: {type(exc).__name__}: {reason} "
                "(--debug shows the traceback)."
            ) from exc


def cmd_worker_start(args: argparse.Namespace) -> int:
    from flowdesk.registry import default_registry
    from flowdesk.server.database.commands import require_head
    from flowdesk.signals import INTERRUPTED
    from flowdesk.worker import Worker

    target = require_head()
    import_flow_modules(args.imports)
    flows = list(default_registry)
    if not flows:
        warn(
            "no flows are registered, so every due run will fail: "
            "pass --import MODULE for each module that defines flows."
        )
    with Worker(target.url) as worker:
        say(
            f"worker {worker.name}: polling {target.shown} every {args.poll_interval:g} s "
            f"for flows: {', '.join(flows) or 'none'}"
        )
        say("Ctrl-C stops after the run in progress; a second Ctrl-C interrupts it")
        try:
            worker.run_forever(args.poll_interval)
        except KeyboardInterrupt:
            error(f"worker {worker.name} interrupted: {left_behind(worker)}")
            return INTERRUPTED
        if worker.unrecorded:
            runs = ", ".join(str(run_id) for run_id in worker.unrecorded)
            error(
                f"worker {worker.name} stopped; it could not record the state of run(s) {runs}: "
                "fail them through POST /api/flow_runs/{id}/set_state."
            )
            return 1
    say(f"worker {worker.name} stopped")
    return 0


def left_behind(worker: Worker) -> str:
    """What an interrupted worker leaves for a person to do, from the database's own record."""
    import sqlalchemy as sa

    from flowdesk.errors import one_line

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


def port_number(text: str) -> int:
    """A TCP port, 1 to 65535, given in ASCII digits (``int`` would also take ' 42' and '٤٢')."""
    if not (text.isascii() and text.isdigit() and 0 < int(text) < 65536):
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535, not {text!r}")
    return int(text)


def add_database_commands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    """``upgrade/downgrade/current/stamp/reset``; returned so that ``revision`` joins them."""
    sub = parser.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    up = sub.add_parser("upgrade", help="apply migrations to the configured database")
    up.add_argument("-r", "--revision", default="head", help="target revision (default: head)")
    up.add_argument("--dry-run", action="store_true", help="print the SQL instead of running it")
    up.add_argument("-y", "--yes", action="store_true", help="do not ask (upgrade never asks)")
    down = sub.add_parser("downgrade", help="undo migrations (shows what, needs -y)")
    down.add_argument("-r", "--revision", default="-1", help="target revision (default: -1)")
    down.add_argument("-y", "--yes", action="store_true", help="really do it")
    sub.add_parser("current", help="show the database's revision and whether it is at head")
    stamp = sub.add_parser("stamp", help="record a revision without running migrations")
    stamp.add_argument("revision", help="revision id, 'head' or 'base'")
    reset = sub.add_parser("reset", help="drop every table and upgrade to head (deletes all rows)")
    reset.add_argument("-y", "--yes", action="store_true", help="really do it")
    return sub


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flowdesk", description="Track and run flows.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    server = commands.add_parser("server", help="the API server and its database")
    server_commands = server.add_subparsers(dest="server_command", required=True, metavar="COMMAND")
    start = server_commands.add_parser(
        "start",
        help="serve the API and the UI",
        description=(
            "Serve the API and the UI. $FLOWDESK_API_TOKEN (optional) is the bearer token the "
            "API requires; $FLOWDESK_ALLOWED_HOSTS (comma-separated, * for any) the Host names it "
            "answers, by default the loopback names (any when --host is not loopback)."
        ),
    )
    start.add_argument("--host", default="127.0.0.1", help="address to listen on")
    start.add_argument("--port", type=port_number, default=4200, help="port to listen on")
    start.set_defaults(func=cmd_server_start)

    database = server_commands.add_parser(
        "database", help="migrate the database named by $FLOWDESK_DATABASE_URL"
    )
    database_commands = add_database_commands(database)
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
    from flowdesk.errors import FlowdeskError
    from flowdesk.signals import INTERRUPTED, raise_on_signals

    args = build_parser().parse_args(argv)
    raise_on_signals()
    try:
        return args.func(args)
    except (KeyboardInterrupt, Exception) as exc:
        if args.debug:
            raise
        if _interrupted(exc):
            error("interrupted.")
            return INTERRUPTED
        if isinstance(exc, FlowdeskError):
            error(exc.message)
            return exc.exit_code
        raise  # not ours: a traceback is the most useful report


def _interrupted(exc: BaseException) -> bool:
    """Whether Ctrl-C/SIGTERM started this failure: a driver interrupted mid-statement loses its
    connection, and the cleanup then fails with an error of its own that replaces the interrupt
    (SQLAlchemy's PendingRollbackError, say)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


if __name__ == "__main__":
    sys.exit(main())
