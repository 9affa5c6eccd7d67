"""``contribkit``: the engine's command line, for projects with or without invoke.

This module parses and prints; the work is done by the same functions the invoke tasks and nox
sessions call. Heavy modules are imported only by the command that needs them.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from contribkit import __version__

if TYPE_CHECKING:
    from contribkit.core.config import ProjectConfig


def _config():  # type: ignore[no-untyped-def]
    from contribkit.core.config import load_config

    return load_config()


def cmd_init(args: argparse.Namespace) -> int:
    from contribkit.core import console
    from contribkit.workflows.scaffold import init_project

    config = _config()
    for path in init_project(config):
        console.ok(f"wrote {console.shown(config.root, path)}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    if args.check:
        return cmd_check(args)
    from contribkit.core import console
    from contribkit.workflows.migrations.migrate import migrate

    config = _config()
    result = migrate(
        config,
        args.message or "",
        dialect=args.dialect,
        allow_destructive=args.allow_destructive,
        cache=not args.no_cache,
    )
    console.report_written(config.root, result.written, result.notes)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from contribkit.workflows.migrations.check import check

    check(_config(), args.dialect, cache=not args.no_cache)
    return 0


def cmd_baseline(args: argparse.Namespace) -> int:
    from contribkit.core import console
    from contribkit.workflows.migrations.check import write_baseline

    config = _config()
    path, _ = write_baseline(config, args.dialect, cache=not args.no_cache)
    console.ok(f"wrote {console.shown(config.root, path)}")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    return run_db_command(_config(), args)


def run_db_command(config: ProjectConfig, args: argparse.Namespace) -> int:
    """Run and report a command parsed by :func:`add_db_commands`; shared with applications."""
    from contribkit.core import console
    from contribkit.workflows.migrations import realdb

    actions = {
        "upgrade": lambda: realdb.upgrade(config, args.revision, dry_run=args.dry_run),
        "downgrade": lambda: realdb.downgrade(config, args.revision, yes=args.yes),
        "current": lambda: realdb.describe_status(config),
        "stamp": lambda: realdb.stamp(config, args.revision),
        "reset": lambda: realdb.reset(config, yes=args.yes),
    }
    console.info(actions[args.db_command]())
    return 0


def cmd_lint_versions(args: argparse.Namespace) -> int:
    from contribkit.workflows.lintversions import pinned_requirements

    for requirement in pinned_requirements(_config().root):
        print(requirement)
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    config = _config()
    if args.ui_command == "build":
        from contribkit.core.console import report_ui_build
        from contribkit.workflows.ui import build

        report_ui_build(config.root, build(config, force=args.force))
    else:
        from contribkit.workflows.devserver import serve_ui

        serve_ui(config)
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    from contribkit.workflows import devserver

    config = _config()
    if args.dev_command == "api":
        devserver.serve_api(config, args.host, args.port)
    elif args.dev_command == "worker":
        devserver.reload_worker(config)
    elif args.dev_command == "start":
        devserver.serve_all(config)
    else:
        from contribkit.workflows.k8s import render

        print(render(config, image=args.image, namespace=args.namespace), end="")
    return 0


def add_db_commands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    """``upgrade/downgrade/current/stamp/reset``; also used by applications' own CLIs.

    Returns the subcommands, so that an application can add its own next to them.
    """
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


def port_number(text: str) -> int:
    """argparse type for ``--port``."""
    from contribkit.workflows.devserver import parse_port

    port = parse_port(text)
    if port is None:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535, not {text!r}")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contribkit",
        description="Contributor workflows for database-backed Python servers.",
    )
    parser.add_argument("--version", action="version", version=f"contribkit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = sub.add_parser("init", help="create the migrations folder and the notes file")
    init.set_defaults(func=cmd_init)

    dialect_help = "one dialect (sqlite, postgresql/postgres) or 'all' (default: all configured)"
    no_cache_help = "replay every revision instead of reusing states an earlier run proved"
    migrate = sub.add_parser(
        "migrate", help="generate, review, verify and record a migration for each dialect"
    )
    migrate.add_argument("-m", "--message", help="snake_case description, e.g. add_flow_run_x")
    migrate.add_argument("--dialect", help=dialect_help)
    migrate.add_argument(
        "--allow-destructive", action="store_true", help="allow dropping tables/columns/indexes"
    )
    migrate.add_argument("--check", action="store_true", help="run the check instead")
    migrate.add_argument("--no-cache", action="store_true", help=no_cache_help)
    migrate.set_defaults(func=cmd_migrate)

    check = sub.add_parser("check", help="heads, round trips, drift and notes, for each dialect")
    check.add_argument("--dialect", help=dialect_help)
    check.add_argument("--no-cache", action="store_true", help=no_cache_help)
    check.set_defaults(func=cmd_check)

    baseline = sub.add_parser(
        "baseline",
        help="record what an existing history already gets wrong; check then fails only on news",
    )
    baseline.add_argument("--dialect", help=dialect_help)
    baseline.add_argument("--no-cache", action="store_true", help=no_cache_help)
    baseline.set_defaults(func=cmd_baseline)

    db = sub.add_parser("db", help="migrate the configured (real) database")
    add_db_commands(db)
    db.set_defaults(func=cmd_db)

    ui = sub.add_parser("ui", help="build the web UI, or run its dev server")
    ui_commands = ui.add_subparsers(dest="ui_command", required=True, metavar="COMMAND")
    build = ui_commands.add_parser("build", help="npm ci + npm run build, swapped into 'static'")
    build.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    ui_commands.add_parser("dev", help="the UI's dev server, forwarding /api to the dev API")
    ui.set_defaults(func=cmd_ui)

    dev = sub.add_parser("dev", help="development servers and a Kubernetes dev manifest")
    dev_commands = dev.add_subparsers(dest="dev_command", required=True, metavar="COMMAND")
    api = dev_commands.add_parser("api", help="the API with hot reload")
    api.add_argument("--host", default="127.0.0.1", help="address to listen on")
    api.add_argument("--port", type=port_number, help="port to listen on (default: api_port)")
    dev_commands.add_parser("worker", help="the worker, restarted on source changes")
    dev_commands.add_parser("start", help="API, UI dev server and worker together")
    k8s = dev_commands.add_parser("k8s-manifest", help="print a dev Deployment and Service")
    k8s.add_argument("--image", help="container image (default: <name>:dev)")
    k8s.add_argument("--namespace", help="namespace (default: kubectl's current one)")
    dev.set_defaults(func=cmd_dev)

    versions = sub.add_parser("lint-versions", help="print tool==version for each pinned hook")
    versions.set_defaults(func=cmd_lint_versions)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from contribkit.frontends.runner import run

    args = build_parser().parse_args(argv)
    code = run(lambda: args.func(args), debug=args.debug)
    return code if isinstance(code, int) else 0


def entry() -> None:
    """The ``contribkit`` console script."""
    from contribkit.frontends.runner import INTERRUPTED, exit_with

    try:
        code = main()
    except KeyboardInterrupt:  # before run() took over (while parsing): nothing was started yet
        code = INTERRUPTED
    exit_with(code)


if __name__ == "__main__":
    entry()
