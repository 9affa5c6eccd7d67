"""Progress of a migration command: a status line per step, and failures named by the step.

``migrate`` and ``check`` both report so: ``→ sqlite: verify`` while it runs, and a failure
inside as ``sqlite: verify: <what went wrong>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from contribkit.core import reporting
from contribkit.core.config import KNOWN_DIALECTS
from contribkit.core.errors import CheckFailed, ContribkitError, one_line
from contribkit.core.signals import raise_if_interrupted
from contribkit.workflows.migrations import runtime, schemadiff

#: Warnings raised while revisions run that contribkit reports in its own words.
HANDLED_WARNINGS = (*schemadiff.HANDLED_WARNINGS, runtime.OLD_RUN_ENV_WARNING)


def warnings_summed() -> AbstractContextManager[None]:
    """The warnings revisions raise, summed up in one line (those contribkit reports itself
    left out)."""
    return reporting.summarized_warnings(HANDLED_WARNINGS)


@contextmanager
def step(dialect: str, name: str, detail: str = "") -> Iterator[None]:
    """A status line for the step (``detail`` after it, in parentheses); any failure raised
    inside names the dialect and step."""
    raise_if_interrupted()
    reporting.step(name + (f" ({detail})" if detail else ""), dialect)
    with named(dialect, name):
        yield


@contextmanager
def named(dialect: str, name: str) -> Iterator[None]:
    """Prefix a failure raised inside with ``dialect: name:``, unless a step inside did (for
    this dialect or, on a shared history, another one)."""
    try:
        yield
    except ContribkitError as exc:
        if not exc.message.startswith(tuple(f"{known}: " for known in KNOWN_DIALECTS)):
            exc.message = f"{dialect}: {name}: {exc.message}"
            exc.args = (exc.message,)
        raise
    except Exception as exc:
        raise CheckFailed(f"{dialect}: {name}: {type(exc).__name__}: {one_line(exc)}") from exc
