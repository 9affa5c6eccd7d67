"""Run a task body through contribkit's error handling and leave invoke with its exit code."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any


def contribkit_errors(body: Callable[..., Any]) -> Callable[..., Any]:
    """Known failures print one line and exit with their code, as in the CLI; no traceback."""

    @functools.wraps(body)
    def wrapper(c: Any, *args: Any, **kwargs: Any) -> Any:
        from invoke.exceptions import Exit

        from contribkit.frontends.runner import run

        # `invoke --debug` (or INVOKE_DEBUG=1) shows tracebacks, as `contribkit --debug` does.
        debug = logging.getLogger("invoke").isEnabledFor(logging.DEBUG)
        outcome = run(lambda: body(c, *args, **kwargs), debug=debug)
        if isinstance(outcome, int) and outcome != 0:
            raise Exit(code=outcome)
        return None

    return wrapper


def project():  # type: ignore[no-untyped-def]
    from contribkit.core.config import load_config

    return load_config()
