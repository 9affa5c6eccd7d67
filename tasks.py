"""Contributor tasks for this repository: run `invoke --list`.

The tasks come from contribkit, configured by `[tool.contribkit]` in pyproject.toml.
"""

from contribkit.invoke import namespace

ns = namespace()
