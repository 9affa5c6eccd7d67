"""Signals held during cleanup and commits: delivered afterwards, or dropped once work is done."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from process_support import Interrupted, raise_on_signals

from contribkit.core.signals import (
    deferred_signals,
    install_interrupt_handlers,
    raise_if_interrupted,
)


@pytest.fixture
def raising_sigterm() -> None:
    raise_on_signals()


def test_a_signal_during_the_block_is_delivered_after_it(raising_sigterm) -> None:
    steps = []
    with pytest.raises(Interrupted), deferred_signals():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)  # a handler would run here, were it not held
        steps.append("block finished")
    assert steps == ["block finished"]


def test_other_threads_do_not_let_the_signal_through(raising_sigterm) -> None:
    # A thread that does not block SIGTERM may be the one the kernel hands it to; Python then
    # runs the handler in the main thread regardless, so masking alone would not hold it.
    stop = threading.Event()
    busy = [threading.Thread(target=stop.wait) for _ in range(4)]
    for thread in busy:
        thread.start()
    steps = []
    try:
        with pytest.raises(Interrupted), deferred_signals():
            for _ in range(20):
                signal.pthread_kill(busy[0].ident, signal.SIGTERM)
                time.sleep(0.005)
            steps.append("block finished")
    finally:
        stop.set()
        for thread in busy:
            thread.join()
    assert steps == ["block finished"]


def test_nested_blocks_deliver_at_the_outermost_end(raising_sigterm) -> None:
    steps = []
    with pytest.raises(Interrupted), deferred_signals():
        with deferred_signals():
            os.kill(os.getpid(), signal.SIGTERM)
        steps.append("inner block ended")
    assert steps == ["inner block ended"]


def test_once_the_work_is_done_a_held_signal_is_dropped(raising_sigterm) -> None:
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    with deferred_signals() as deferral:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        deferral.finish_work()
    time.sleep(0.05)  # nothing raised: the held Ctrl-C went with the finished work
    assert {s: signal.getsignal(s) for s in handlers} == handlers
    with pytest.raises(Interrupted):  # and a later one is delivered as usual
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)


def test_without_signals_the_handlers_are_put_back(raising_sigterm) -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    with deferred_signals():
        pass
    assert {s: signal.getsignal(s) for s in before} == before


def test_an_ignored_ctrl_c_stays_ignored() -> None:
    # A shell starts background jobs with SIGINT ignored: Ctrl-C is meant for the foreground.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    install_interrupt_handlers()
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    signal.signal(signal.SIGINT, signal.default_int_handler)
    install_interrupt_handlers()
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
    with pytest.raises(KeyboardInterrupt):  # and it is remembered, in case it got lost
        raise_if_interrupted()
    install_interrupt_handlers()  # a new run starts with nothing received
    raise_if_interrupted()


def test_a_signal_while_the_handlers_go_back_leaves_none_holding(
    raising_sigterm, monkeypatch
) -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    real_signal = signal.signal
    fired = []

    def put_back_then_ctrl_c(signum: int, handler: object) -> object:
        previous = real_signal(signum, handler)
        if handler is before[signal.SIGINT] and not fired:  # SIGINT is back, SIGTERM not yet
            fired.append(signum)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # raised here by the handler just put back
        return previous

    with pytest.raises(Interrupted), deferred_signals():
        monkeypatch.setattr(signal, "signal", put_back_then_ctrl_c)
    monkeypatch.undo()
    assert fired
    assert {s: signal.getsignal(s) for s in before} == before  # SIGTERM is not left held


def test_an_interrupted_run_exits_130_even_after_an_exec(tmp_path) -> None:
    """CPython ends a ``python -m`` process by SIGINT, whatever exit code it chose, once a
    KeyboardInterrupt of exactly that type has left an exec() of a string (dataclasses and
    SQLAlchemy build functions that way): the frontend's Ctrl-C must be a subclass."""
    package = tmp_path / "interrupted_app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(
        "from contribkit.frontends.runner import exit_with, run\n\n\n"
        "def action():\n"
        "    exec('import os, signal, time\\nos.kill(os.getpid(), signal.SIGINT)\\ntime.sleep(5)')\n\n\n"
        "exit_with(run(action))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    done = subprocess.run(
        [sys.executable, "-m", "interrupted_app"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 130, done.stderr
    assert "interrupted" in done.stderr
