"""The ``contribkit`` command line, for a project's own CLI to call (a public module)::

    from contribkit.cli import main

    raise SystemExit(main(["migrate", "-m", "add_flow_run_note"]))

``main`` parses the arguments as the ``contribkit`` command does, runs the command and returns
its exit code (0 done, 1 a check failed, 2 bad input or set-up); it prints what it does.
"""

from contribkit.frontends.cli import main

__all__ = ["main"]
