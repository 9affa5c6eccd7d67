"""What a run creates is owned from the moment it exists, and removed whole, whatever signal
arrives meanwhile."""

from __future__ import annotations

import os
import signal
import tempfile
import time

import pytest
from process_support import Interrupted, raise_on_signals

from contribkit.core.ownership import owned, start_recorded, temporary_folder, uninterrupted


@pytest.fixture
def raising_sigterm() -> None:
    raise_on_signals()


def interrupt_here() -> None:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(0.05)  # the handler runs here unless held


def test_what_is_interrupted_right_after_its_creation_is_still_removed(raising_sigterm) -> None:
    log: list[str] = []

    def create() -> str:
        log.append("created")
        interrupt_here()
        return "db"

    with pytest.raises(Interrupted), owned(create, lambda made: log.append(f"removed {made}")):
        log.append("used")  # never: the interrupt is delivered before the block
    assert log == ["created", "removed db"]


def test_a_removal_is_not_cut_short_and_a_failed_creation_removes_nothing(raising_sigterm) -> None:
    log: list[str] = []

    def remove(made: str) -> None:
        interrupt_here()
        log.append(f"removed {made}")

    with pytest.raises(Interrupted), owned(lambda: "db", remove):
        pass
    assert log == ["removed db"]

    def fail() -> str:
        raise OSError("disk full")

    with pytest.raises(OSError), owned(fail, lambda made: log.append("removed nothing?")):
        pass
    assert log == ["removed db"]


def test_uninterrupted_finishes_then_delivers(raising_sigterm) -> None:
    log: list[str] = []

    def commit() -> None:
        interrupt_here()
        log.append("committed")

    with pytest.raises(Interrupted):
        uninterrupted(commit)
    assert log == ["committed"]


def test_a_started_process_is_recorded_before_an_interrupt_lands(raising_sigterm) -> None:
    running: dict[str, str] = {}

    def start() -> str:
        interrupt_here()
        return "pid 42"

    with pytest.raises(Interrupted):
        start_recorded(running, "api", start)
    assert running == {"api": "pid 42"}


def test_a_temporary_folder_outlives_no_interrupt(raising_sigterm, monkeypatch) -> None:
    # The interrupt lands the moment mkdtemp returns, before any cleanup could own the folder.
    made: list[str] = []

    def mkdtemp_then_interrupted(**kwargs: object) -> str:
        made.append(real_mkdtemp(**kwargs))
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the handler runs here unless held
        return made[-1]

    real_mkdtemp = tempfile.mkdtemp
    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp_then_interrupted)
    with pytest.raises(Interrupted), temporary_folder("ck-test-"):
        pass
    assert made and not os.path.exists(made[0])


def test_a_temporary_folder_renamed_away_is_kept(tmp_path) -> None:
    with temporary_folder("ck-test-", tmp_path) as folder:
        (folder / "built").write_text("x")
        folder.rename(tmp_path / "published")
    assert (tmp_path / "published" / "built").read_text() == "x"
    assert [p.name for p in tmp_path.iterdir()] == ["published"]
