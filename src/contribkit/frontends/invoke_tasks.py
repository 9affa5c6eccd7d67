"""Deprecated: this module is now ``contribkit.invoke``; this path goes in contribkit 0.5."""

import warnings

from contribkit.invoke import *  # noqa: F403
from contribkit.invoke import __all__  # noqa: F401

warnings.warn(
    "contribkit.frontends.invoke_tasks is now contribkit.invoke: import it from there "
    "(this path goes in contribkit 0.5)",
    FutureWarning,
    stacklevel=2,
)
