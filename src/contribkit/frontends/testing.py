"""Deprecated: this module is now ``contribkit.testing``; this path goes in contribkit 0.5."""

import warnings

from contribkit.testing import *  # noqa: F403
from contribkit.testing import __all__  # noqa: F401

warnings.warn(
    "contribkit.frontends.testing is now contribkit.testing: import it from there "
    "(this path goes in contribkit 0.5)",
    FutureWarning,
    stacklevel=2,
)
