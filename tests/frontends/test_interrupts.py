"""Ctrl-C or SIGTERM in the middle of `contribkit migrate` leaves the project and machine as they were."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from migrations_support import SAMPLE_SERVER
from process_support import live_processes


# Each signal goes out as the run prints a step, so it always lands mid-run (a fixed delay
# could land after a fast run had finished): while PostgreSQL starts in the background, while
# it generates, and while it verifies with SQLite's file already staged.
@pytest.mark.parametrize(
    ("signum", "step"),
    [
        (signal.SIGINT, "sqlite: generate"),
        (signal.SIGTERM, f"{SAMPLE_SERVER}: generate"),
        (signal.SIGINT, f"{SAMPLE_SERVER}: verify"),
    ],
)
def test_interrupted_migrate_writes_nothing_and_leaves_no_server(
    sample, request, signum: int, step: str
) -> None:
    assert sample.cli("init").code == 0
    assert sample.cli("migrate", "-m", "initial").code == 0
    sample.edit(
        "inventory/models.py", 'sa.Column("city", sa.String(80)', 'sa.Column("city", sa.String(120)'
    )
    before = sample.snapshot()
    private_tmp = tempfile.mkdtemp(prefix="ckt-", dir="/tmp")  # short: sockets live here
    request.addfinalizer(lambda: shutil.rmtree(private_tmp, ignore_errors=True))

    process = subprocess.Popen(
        [sys.executable, "-m", "contribkit", "migrate", "-m", "widen_city"],
        cwd=sample.root,
        env={**os.environ, "PYTHONPATH": str(sample.root), "TMPDIR": private_tmp},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.rstrip().endswith(f"→ {step}"):
            process.send_signal(signum)
            break
    out, err = process.communicate(timeout=60)
    out = "".join(seen) + out
    assert f"→ {step}" in out, out + err

    # The lock file stays by design (removing lock files is racy); nothing else may.
    leftovers = [name for name in os.listdir(private_tmp) if not name.endswith(".lock")]
    processes = [cmd for _, _, cmd in live_processes() if private_tmp in cmd]
    assert not leftovers, leftovers  # staging copy, SQLite files, server folder: all gone
    assert not processes, processes
    assert process.returncode == 130, out + err
    assert "interrupted" in err
    assert sample.snapshot() == before


def test_two_migrates_at_once_write_one_revision_per_dialect(sample, dialect: str) -> None:
    assert sample.cli("init").code == 0
    assert sample.cli("migrate", "-m", "initial", "--dialect", dialect).code == 0
    sample.edit(
        "inventory/models.py", 'sa.Column("city", sa.String(80)', 'sa.Column("city", sa.String(120)'
    )
    env = {**os.environ, "PYTHONPATH": str(sample.root)}
    argv = [sys.executable, "-m", "contribkit", "migrate", "-m", "widen_city", "--dialect", dialect]
    runs = [
        subprocess.Popen(
            argv,
            cwd=sample.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    assert len(sample.versions(dialect)) == 2  # the initial one and exactly one widen_city
    combined = "".join(out for out, _ in outputs)
    assert combined.count("verified") == 1
    assert "nothing to do" in combined
    notes = (sample.root / "NOTES.md").read_text()
    assert notes.count("## Widen city") == 1


def test_a_ctrl_c_during_the_commit_leaves_a_finished_run(sample, monkeypatch) -> None:
    """The signal is held while the files move; once they have, the run is done: exit 0 with
    everything written, not "interrupted" with the files in place."""
    from contribkit.workflows.migrations import notes

    assert sample.cli("init").code == 0
    assert sample.cli("migrate", "-m", "initial").code == 0
    sample.edit(
        "inventory/models.py", 'sa.Column("city", sa.String(80)', 'sa.Column("city", sa.String(120)'
    )
    write_notes = notes.write_atomically

    def ctrl_c_then_write(path: Path, text: str) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # delivered here, were it not held
        write_notes(path, text)

    monkeypatch.setattr(notes, "write_atomically", ctrl_c_then_write)
    outcome = sample.cli("migrate", "-m", "widen_city")
    assert outcome.code == 0, outcome.err
    assert len(sample.versions("sqlite")) == len(sample.versions(SAMPLE_SERVER)) == 2
    assert "Widen city" in (sample.root / "NOTES.md").read_text()


class _SignalsItselfWhenCollected:
    """Python prints and ignores an exception raised in ``__del__``: a signal whose handler
    runs here is swallowed."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)  # the handler runs, and raises, inside the finalizer


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # that is the point
def test_a_sigterm_lost_in_a_finalizer_still_stops_the_run(sample, monkeypatch) -> None:
    from contribkit.workflows.migrations import migrate

    assert sample.cli("init").code == 0
    assert sample.cli("migrate", "-m", "initial").code == 0
    sample.edit(
        "inventory/models.py", 'sa.Column("city", sa.String(80)', 'sa.Column("city", sa.String(120)'
    )
    before = sample.snapshot()
    real_format = migrate.ruff_format
    carried_on = []

    def format_while_collecting(*args: object, **kwargs: object) -> object:
        _SignalsItselfWhenCollected()  # collected at once: SIGTERM raised and swallowed
        carried_on.append(True)
        return real_format(*args, **kwargs)

    monkeypatch.setattr(migrate, "ruff_format", format_while_collecting)  # where it is called
    outcome = sample.cli("migrate", "-m", "widen_city")
    assert carried_on == [True]  # the finalizer really swallowed it: the step went on
    assert outcome.code == 130, outcome.out + outcome.err
    assert "interrupted" in outcome.err
    assert sample.snapshot() == before
