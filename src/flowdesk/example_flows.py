"""Example flows, so a fresh checkout's worker has something to run.

``invoke dev.worker`` and ``invoke dev.start`` import this module
(``flowdesk worker start --import flowdesk.example_flows``); your own flows go in a module of
yours, imported the same way.
"""

from __future__ import annotations

import time

from flowdesk.registry import flow


@flow("hello")
def hello(name: str = "world") -> str:
    """Greets ``name``: the smallest flow that completes."""
    return f"hello, {name}"


@flow("sleep")
def sleep(seconds: float = 1.0) -> float:
    """Takes ``seconds`` (at most a minute), to watch a run move through RUNNING."""
    seconds = min(float(seconds), 60.0)
    time.sleep(seconds)
    return seconds


@flow("fail")
def fail(message: str = "this flow always fails") -> None:
    """Raises, to see a FAILED run and its error in the logs."""
    raise RuntimeError(message)
