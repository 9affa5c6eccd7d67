"""Deprecated: this module is now ``contribkit.nox``; this path goes in contribkit 0.5."""

import warnings

from contribkit.nox import *  # noqa: F403
from contribkit.nox import __all__  # noqa: F401

warnings.warn(
    "contribkit.frontends.nox_sessions is now contribkit.nox: import it from there "
    "(this path goes in contribkit 0.5)",
    FutureWarning,
    stacklevel=2,
)
