"""contribkit: contributor workflows for database-backed Python servers.

The supported imports are these modules, each with its ``__all__``; everything else is
internal and may change in any release:

- :mod:`contribkit.env`: ``run_env()``, the body of a project's Alembic ``env.py``;
- :mod:`contribkit.testing`: databases for a project's test suite;
- :mod:`contribkit.invoke`: ``namespace()``, the tasks of a project's ``tasks.py``;
- :mod:`contribkit.nox`: the helpers of a project's ``noxfile.py``;
- :mod:`contribkit.cli`: ``main(argv)``, the ``contribkit`` command for a project's own CLI.
"""

__version__ = "0.4.0"
__all__ = ["__version__"]
