"""The worker: claims due runs exactly once, runs their callables, records what happened."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from flowdesk.cli import left_behind
from flowdesk.registry import FlowRegistry
from flowdesk.server.database.engine import make_engine
from flowdesk.server.database.orm_models import FlowRun, StateType, TaskRun
from flowdesk.server.database.timestamps import utcnow
from flowdesk.server.states import move_flow_run
from flowdesk.worker import Worker

PAST = utcnow() - timedelta(minutes=5)


@pytest.fixture
def registry() -> FlowRegistry:
    return FlowRegistry()


@pytest.fixture
def worker(database_url, registry):
    # A short patience: tests that make every write fail should not wait two minutes.
    with Worker(database_url, registry=registry, name="test-worker", record_patience=1.0) as w:
        yield w


def run_json(client, run_id: uuid.UUID) -> dict:
    return client.get(f"/api/flow_runs/{run_id}").json()


def log_lines(client, run_id: uuid.UUID) -> list[tuple[int, str]]:
    items = client.get(f"/api/flow_runs/{run_id}/logs").json()["items"]
    return [(log["level"], log["message"]) for log in items]


def test_a_due_run_completes_with_its_parameters(
    client, worker, registry, add_flow, add_run
) -> None:
    calls = []

    @registry.flow("add")
    def add(a: int, b: int) -> int:
        calls.append((a, b))
        return a + b

    run_id = add_run(add_flow("add"), expected_start_time=PAST, parameters={"a": 1, "b": 2})
    assert worker.run_once() == 1
    assert calls == [(1, 2)]
    run = run_json(client, run_id)
    assert (run["state"], run["worker"]) == ("COMPLETED", "test-worker")
    assert run["start_time"] is not None and run["end_time"] is not None
    task_runs = client.get(f"/api/flow_runs/{run_id}/task_runs").json()
    assert [(t["name"], t["state"]) for t in task_runs] == [("add", "COMPLETED")]
    assert task_runs[0]["start_time"] is not None and task_runs[0]["end_time"] is not None
    (start_level, start), (end_level, end) = log_lines(client, run_id)
    assert (start_level, end_level) == (20, 20)
    assert "started" in start and "test-worker" in start
    assert "completed" in end


def test_an_exception_fails_the_run_and_is_logged(
    client, worker, registry, add_flow, add_run
) -> None:
    def explode() -> None:
        raise ValueError("boom at step 3")

    registry.register("explode", explode)
    run_id = add_run(add_flow("explode"), expected_start_time=PAST)
    assert worker.run_once() == 1
    run = run_json(client, run_id)
    assert run["state"] == "FAILED" and run["end_time"] is not None
    task_runs = client.get(f"/api/flow_runs/{run_id}/task_runs").json()
    assert [t["state"] for t in task_runs] == ["FAILED"]
    level, message = log_lines(client, run_id)[-1]
    assert level == 40
    assert "ValueError: boom at step 3" in message


@pytest.mark.parametrize("stop", [SystemExit(3), KeyboardInterrupt()], ids=["sys.exit", "ctrl-c"])
def test_a_flow_that_ends_the_process_fails_its_run_first(
    client, worker, registry, add_flow, add_run, stop
) -> None:
    def leave() -> None:
        raise stop

    registry.register("leave", leave)
    flow_id = add_flow("leave")
    run_id = add_run(flow_id, expected_start_time=PAST)
    next_run = add_run(flow_id, expected_start_time=PAST + timedelta(seconds=1))
    with pytest.raises(type(stop)):
        worker.run_once()
    run = run_json(client, run_id)
    assert run["state"] == "FAILED" and run["end_time"] is not None
    task_runs = client.get(f"/api/flow_runs/{run_id}/task_runs").json()
    assert [t["state"] for t in task_runs] == ["FAILED"]
    level, message = log_lines(client, run_id)[-1]
    assert level == 40 and type(stop).__name__ in message
    assert run_json(client, next_run)["state"] == "SCHEDULED"  # the worker stopped there
    assert left_behind(worker) == (
        f"the flow of run {run_id} was stopped; no run is left unfinished."
    )


def test_an_interrupted_worker_says_what_it_left_unfinished(
    worker, registry, add_flow, add_run, database_url, tmp_path
) -> None:
    registry.register("noop", lambda: None)
    flow_id = add_flow("noop")
    theirs = add_run(flow_id, expected_start_time=PAST)
    claimed = add_run(flow_id, expected_start_time=PAST + timedelta(seconds=1))
    with Worker(database_url, registry=registry, name="other-worker") as other:
        assert other.claim_next() == theirs  # another worker's unfinished run is not ours
    assert left_behind(worker) == "no run was in progress."

    assert worker.claim_next() == claimed  # interrupted right after the claim
    assert worker.unfinished_runs() == [(claimed, StateType.PENDING)]
    assert left_behind(worker) == (
        f"run {claimed} is left PENDING: fail it through POST /api/flow_runs/{{id}}/set_state."
    )
    worker.execute(claimed)
    assert worker.unfinished_runs() == []

    unreachable = make_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'x.db'}")
    worker.sessions.configure(bind=unreachable)
    try:
        assert left_behind(worker).startswith("cannot tell which of its runs are unfinished (")
    finally:
        unreachable.dispose()


def test_an_outcome_that_cannot_be_written_is_reported(
    client, worker, registry, add_flow, add_run, tmp_path, capsys
) -> None:
    unreachable = make_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'x.db'}")

    def lose_the_database() -> None:  # from now on, every write of the worker fails
        worker.sessions.configure(bind=unreachable)

    registry.register("lose", lose_the_database)
    run_id = add_run(add_flow("lose"), expected_start_time=PAST)
    try:
        with pytest.raises(sa.exc.OperationalError):  # the next claim fails as well
            worker.run_once()
    finally:
        unreachable.dispose()
    line = capsys.readouterr().err.strip()
    assert f"the outcome of flow run {run_id} (COMPLETED) was not recorded" in line
    assert "set_state" in line and "\n" not in line
    assert run_json(client, run_id)["state"] == "RUNNING"
    assert worker.unrecorded == [run_id]


@pytest.mark.dialects("sqlite")
def test_a_write_lock_held_past_the_drivers_wait_does_not_strand_the_run(
    client, database_url, registry, add_flow, add_run, monkeypatch
) -> None:
    """Another writer holds SQLite's lock for longer than the driver waits (5 s) right when the
    flow ends: the worker retries and the run still completes."""
    import sqlite3

    from sqlalchemy.engine import make_url

    import flowdesk.worker

    finished, go, failed = threading.Event(), threading.Event(), threading.Event()
    transient = flowdesk.worker._transient

    def seen(exc: sa.exc.OperationalError) -> bool:  # a write gave up waiting: it is retried
        failed.set()
        return transient(exc)

    monkeypatch.setattr(flowdesk.worker, "_transient", seen)

    def flow() -> None:
        finished.set()
        go.wait(30)

    registry.register("held", flow)
    run_id = add_run(add_flow("held"), expected_start_time=PAST)
    blocker = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    with Worker(database_url, registry=registry, name="patient") as worker:
        thread = threading.Thread(target=worker.run_once)
        thread.start()
        try:
            assert finished.wait(30)
            blocker.execute("BEGIN IMMEDIATE")
            go.set()
            assert failed.wait(30), "no write outlasted the driver's wait"
            blocker.execute("COMMIT")
        finally:
            go.set()
            thread.join(60)
            blocker.close()
        assert worker.unrecorded == []
    assert run_json(client, run_id)["state"] == "COMPLETED"


def test_a_flow_without_a_callable_fails_with_a_log_line(client, worker, add_flow, add_run) -> None:
    run_id = add_run(add_flow("ghost"), expected_start_time=PAST)
    assert worker.run_once() == 1
    assert run_json(client, run_id)["state"] == "FAILED"
    assert client.get(f"/api/flow_runs/{run_id}/task_runs").json() == []
    [(level, message)] = log_lines(client, run_id)
    assert level == 40
    assert "no flow named 'ghost' is registered" in message


def test_only_due_scheduled_runs_are_claimed(client, worker, registry, add_flow, add_run) -> None:
    registry.register("noop", lambda: None)
    flow_id = add_flow("noop")
    due = add_run(flow_id, expected_start_time=PAST)
    later = add_run(flow_id, expected_start_time=utcnow() + timedelta(hours=1))
    untouched = {
        state: add_run(flow_id, state=state, expected_start_time=PAST)
        for state in (StateType.PENDING, StateType.RUNNING, StateType.CANCELLED)
    }
    assert worker.run_once() == 1
    assert worker.run_once() == 0
    assert run_json(client, due)["state"] == "COMPLETED"
    assert run_json(client, later)["state"] == "SCHEDULED"
    for state, run_id in untouched.items():
        assert run_json(client, run_id)["state"] == state.value


def test_runs_are_taken_earliest_first(worker, registry, add_flow, add_run) -> None:
    order = []
    registry.register("record", lambda n: order.append(n))
    flow_id = add_flow("record")
    for n in (2, 0, 1):
        add_run(flow_id, expected_start_time=PAST + timedelta(seconds=n), parameters={"n": n})
    assert worker.run_once() == 3
    assert order == [0, 1, 2]


def test_a_run_cancelled_while_running_stays_cancelled(
    client, worker, registry, add_flow, add_run, sessions
) -> None:
    run_id = add_run(add_flow("slow"), expected_start_time=PAST)

    def cancelled_meanwhile() -> None:  # as if someone cancelled it through the API
        with sessions.begin() as session:
            move_flow_run(session, run_id, StateType.CANCELLED)

    registry.register("slow", cancelled_meanwhile)
    assert worker.run_once() == 1
    assert run_json(client, run_id)["state"] == "CANCELLED"
    assert "from CANCELLED to COMPLETED" in log_lines(client, run_id)[-1][1]


def test_run_forever_polls_until_stopped(client, worker, registry, add_flow, add_run) -> None:
    registry.register("noop", lambda: None)
    flow_id = add_flow("noop")
    loop = threading.Thread(target=worker.run_forever, kwargs={"poll_interval": 0.05})
    loop.start()
    try:
        run_id = add_run(flow_id, expected_start_time=utcnow())
        deadline = time.monotonic() + 10
        while run_json(client, run_id)["state"] != "COMPLETED" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert run_json(client, run_id)["state"] == "COMPLETED"
    finally:
        worker.stop()
        loop.join(timeout=5)
    assert not loop.is_alive()


# Fires SIGTERM at random moments of the polling loop, through SIGALRM so that it lands at
# bytecode granularity, and checks that the worker stops each time; a hang dumps where it was.
# run_once is emptied so that the signals land in the loop's own code, not in database calls.
STOP_AT_RANDOM_MOMENTS = """
import faulthandler, random, signal, sys
from flowdesk.worker import Worker

def fire(signum, frame):
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:  # run_forever has not begun yet
        signal.setitimer(signal.ITIMER_REAL, 0.0001)
    else:
        signal.raise_signal(signal.SIGTERM)

signal.signal(signal.SIGALRM, fire)
for trial in range(int(sys.argv[1])):
    faulthandler.dump_traceback_later(10, exit=True)  # one stuck trial: show where it hangs
    with Worker("sqlite://") as worker:
        worker.run_once = lambda: 0
        signal.setitimer(signal.ITIMER_REAL, random.uniform(0.0001, 0.002))
        worker.run_forever(poll_interval=0.00001)
print("stopped", trial + 1)
"""


def test_sigterm_at_any_moment_of_the_polling_loop_stops_the_worker() -> None:
    trials = 1000
    args = [sys.executable, "-c", STOP_AT_RANDOM_MOMENTS, str(trials)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=180)
    assert (done.returncode, done.stdout) == (0, f"stopped {trials}\n"), done.stderr


def test_two_concurrent_workers_claim_each_run_exactly_once(
    database_url, registry, add_flow, add_run, sessions
) -> None:
    runs = 40
    executions: list[tuple[int, str]] = []
    # Each worker's first run waits until the other has one too, so the two surely overlap
    # (SQLite's lock could otherwise let one worker take every run) and neither claim blocks.
    first_runs = threading.Barrier(2, timeout=10)

    def record(n: int) -> None:
        name = threading.current_thread().name
        if name not in {who for _, who in executions}:
            first_runs.wait()
        executions.append((n, name))
        time.sleep(0.001)  # let the other worker claim in between

    registry.register("record", record)
    flow_id = add_flow("record")
    run_ids = {
        add_run(flow_id, expected_start_time=PAST, parameters={"n": n}): n for n in range(runs)
    }
    start = threading.Barrier(2)

    def work(name: str) -> int:
        threading.current_thread().name = name
        with Worker(database_url, registry=registry, name=name) as worker:
            start.wait()
            return worker.run_once()

    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = list(pool.map(work, ["worker-1", "worker-2"]))

    assert sum(counts) == runs
    assert min(counts) >= 1, counts
    assert sorted(n for n, _ in executions) == list(range(runs))
    executed_by = dict(executions)
    with sessions() as session:
        rows = session.execute(sa.select(FlowRun.id, FlowRun.state, FlowRun.worker)).all()
        task_runs = session.scalars(sa.select(TaskRun.flow_run_id)).all()
    assert sorted(task_runs) == sorted(run_ids)
    for run_id, state, worker_name in rows:
        assert state is StateType.COMPLETED
        assert worker_name == executed_by[run_ids[run_id]]


@pytest.mark.dialects(
    "postgresql", "mysql"
)  # SQLite has no row locks: its one write lock serialises claims
def test_a_claim_skips_a_run_another_transaction_holds(
    database_url, worker, add_flow, add_run
) -> None:
    """SKIP LOCKED: a run locked elsewhere (by a worker claiming it) neither blocks the claim
    nor makes it come back empty; the next run is taken instead."""
    flow_id = add_flow("noop")
    held = add_run(flow_id, expected_start_time=PAST)
    free = add_run(flow_id, expected_start_time=PAST + timedelta(seconds=1))
    engine = make_engine(database_url)
    try:
        with engine.connect() as holder, ThreadPoolExecutor(max_workers=1) as pool:
            holder.execute(sa.select(FlowRun.id).where(FlowRun.id == held).with_for_update())
            claim = pool.submit(worker.claim_next)
            try:
                assert claim.result(timeout=10) == free
            finally:
                holder.rollback()  # unblocks a claim that waited, so the pool can shut down
    finally:
        engine.dispose()
    assert worker.claim_next() == held


def test_a_run_that_cannot_start_is_handed_back_and_not_claimed_again_at_once(
    client, worker, registry, add_flow, add_run, monkeypatch, capsys
) -> None:
    import sqlite3

    registry.register("never", lambda: None)
    run_id = add_run(add_flow("never"), expected_start_time=PAST)
    attempts = []

    def locked(*args):  # type: ignore[no-untyped-def]
        attempts.append(args)
        raise sa.exc.OperationalError(
            "UPDATE flow_run", {}, sqlite3.OperationalError("database is locked")
        )

    monkeypatch.setattr(worker, "_start", locked)
    assert worker.run_once() == 0
    assert len(attempts) > 1  # retried (a lock wait is worth retrying) before it gave up
    run = run_json(client, run_id)
    assert (run["state"], run["worker"]) == ("SCHEDULED", None)
    assert worker.unrecorded == []
    assert (
        f"flow run {run_id} could not start (database is locked): handed back"
        in capsys.readouterr().err
    )
