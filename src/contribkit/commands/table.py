"""Every user command, with its options and help: the one table all frontends are built from.

``contribkit`` (the CLI) makes a subcommand of each entry, ``contribkit.invoke``
a task (``db upgrade`` is ``invoke db.upgrade``), and the nox sessions run the CLI. The command
functions import their workflows when they run, so building a frontend stays fast.
"""

from __future__ import annotations

from contribkit.commands import database, migrations, quality, servers
from contribkit.commands.spec import Command, Option, port, revision_ids

DIALECT = Option(
    "dialect",
    "one dialect (sqlite, postgresql/postgres, mysql/mariadb) or 'all' (default: all configured)",
)
NO_CACHE = Option(
    "no_cache", "replay every revision instead of reusing states an earlier run proved", flag=True
)
YES = Option("yes", "really do it", flag=True, short="y")

COMMANDS = (
    Command(("init",), migrations.init, "create the migrations folder and the notes file"),
    Command(
        ("migrate",),
        migrations.migrate,
        "generate, review, verify and record a migration (one per dialect, or one shared)",
        (
            Option("message", "snake_case description, e.g. add_flow_run_new_column", short="m"),
            DIALECT,
            Option(
                "allow_destructive",
                "allow drops of tables, columns, indexes and constraints",
                flag=True,
            ),
            Option(
                "require_rows",
                "fail when a table the revision changes could not be given rows to verify with",
                flag=True,
            ),
            Option("check", "run the check instead: heads, round trips, drift, notes", flag=True),
            NO_CACHE,
            Option(
                "amend",
                "fold the change into this branch's newest revision instead of adding one "
                "(not once it is on the target branch or in the configured database)",
                flag=True,
            ),
        ),
    ),
    Command(
        ("check",),
        migrations.check_migrations,
        "heads, round trips, drift and notes, for each dialect",
        (DIALECT, NO_CACHE),
    ),
    Command(
        ("rebase",),
        migrations.rebase,
        "put this branch's new revisions after the other branch's, on every dialect",
        (
            Option("onto", "the branch or commit to go after (default: the upstream, else main)"),
            Option(
                "ours",
                "this branch's revision ids, comma-separated, instead of asking git",
                convert=revision_ids,
            ),
        ),
    ),
    Command(
        ("baseline",),
        migrations.baseline,
        "record what an existing history already gets wrong; check then fails only on news",
        (DIALECT, NO_CACHE),
    ),
    Command(
        ("db", "upgrade"),
        database.upgrade,
        "apply migrations to the configured database",
        (
            Option("revision", "target revision (default: head)", default="head", short="r"),
            Option("dry_run", "print the SQL instead of running it", flag=True),
        ),
    ),
    Command(
        ("db", "downgrade"),
        database.downgrade,
        "undo migrations: shows what it would undo unless -y is given",
        (Option("revision", "target revision (default: -1)", default="-1", short="r"), YES),
    ),
    Command(
        ("db", "current"),
        database.current,
        "show the database's revision and whether it is at head",
    ),
    Command(
        ("db", "stamp"),
        database.stamp,
        "record a revision without running migrations",
        (Option("revision", "revision id, 'head' or 'base'", positional=True),),
    ),
    Command(
        ("db", "reset"),
        database.reset,
        "drop every table and upgrade to head (deletes all rows)",
        (Option("yes", "really do it: every row is deleted", flag=True, short="y"),),
    ),
    Command(
        ("ui", "build"),
        servers.ui_build,
        "npm ci + npm run build, swapped into [tool.contribkit] static",
        (Option("force", "rebuild even if the UI sources and lockfile are unchanged", flag=True),),
    ),
    Command(
        ("ui", "dev"),
        servers.ui_dev,
        "the UI's dev server (hot reload), forwarding /api to the dev API",
    ),
    Command(
        ("dev", "api"),
        servers.api,
        "the API under uvicorn, reloaded when a source file changes",
        (
            Option("host", "address to listen on (default: 127.0.0.1)", default="127.0.0.1"),
            Option("port", "port to listen on (default: [tool.contribkit] api_port)", convert=port),
        ),
    ),
    Command(
        ("dev", "worker"),
        servers.worker,
        "the worker ([tool.contribkit] worker), restarted when a source file changes",
    ),
    Command(
        ("dev", "start"),
        servers.start,
        "API, UI dev server and worker together; Ctrl-C stops them all",
    ),
    Command(
        ("dev", "k8s-manifest"),
        servers.k8s_manifest,
        "print a dev Deployment and its Service, for 'kubectl apply -f -'",
        (
            Option("image", "container image (default: <name>:dev)"),
            Option("namespace", "namespace for the objects (default: kubectl's current one)"),
        ),
    ),
    Command(
        ("lint-versions",),
        quality.lint_versions,
        "print tool==version for every linter pinned in .pre-commit-config.yaml",
    ),
    Command(
        ("setup",),
        quality.setup,
        "create .venv from uv.lock with every dev tool and install the git hooks",
        needs_config=False,
        in_cli=False,
    ),
    Command(
        ("lint",),
        quality.lint,
        "ruff check, ruff format --check and actionlint, with this venv's tools",
        needs_config=False,
        in_cli=False,
    ),
    Command(
        ("format",),
        quality.format_,
        "fix what ruff can fix and format every file",
        needs_config=False,
        in_cli=False,
    ),
    Command(
        ("test",),
        quality.test,
        "one quick pytest run in the current venv, on one dialect",
        (
            Option(
                "dialect",
                "sqlite (default), postgresql/postgres or mysql/mariadb",
                default="sqlite",
            ),
            Option("keyword", "only tests matching this pytest -k expression"),
            Option("path", "a test file or folder (default: the whole suite)"),
        ),
        needs_config=False,
        in_cli=False,
    ),
)

#: Help for the groups whose commands share a first word.
GROUPS = {
    "db": "migrate the configured (real) database",
    "ui": "build the web UI, or run its dev server",
    "dev": "development servers and a Kubernetes dev manifest",
}
