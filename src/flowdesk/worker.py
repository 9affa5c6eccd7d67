"""The worker: claims due flow runs, runs their registered callables, records the outcome.

A run is claimed by one guarded statement::

    UPDATE flow_run SET state = 'PENDING', worker = :me
    WHERE state = 'SCHEDULED'
      AND id = (SELECT id FROM flow_run WHERE state = 'SCHEDULED' AND expected_start_time <= now
                ORDER BY expected_start_time LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING id

On PostgreSQL ``SKIP LOCKED`` lets concurrent workers pass over each other's candidates instead
of queueing behind them; the locked row is still SCHEDULED when it is updated (the outer
``state = 'SCHEDULED'`` is a safeguard that the locking already makes redundant).
On SQLite (where SQLAlchemy leaves out ``FOR UPDATE``) the statement holds the database's single
write lock from start to end, so two workers cannot claim the same run either.

After the claim the run moves PENDING → RUNNING → COMPLETED or FAILED through the state machine,
so a run cancelled meanwhile through the API stays cancelled. A flow that ends the process
(``sys.exit()``, Ctrl-C) is recorded as FAILED before the exception goes on to stop the worker.

Every write after the claim is retried with back-off for ``record_patience`` seconds, so a
database that is only busy (SQLite's single write lock held by a large ``POST /logs``, say) never
strands a run: a run that cannot start is handed back (SCHEDULED again), and one whose outcome
cannot be written within that time is kept in :attr:`Worker.unrecorded`, named in the log, and
named again when the worker stops (with a non-zero exit).

There are no leases or heartbeats: a run whose worker is killed (SIGKILL, a crash, a lost
machine) or cannot record the outcome (the database went away) stays PENDING or RUNNING. Fail it
through ``POST /api/flow_runs/{id}/set_state`` with ``{"state": "FAILED"}``. An interrupted
worker names the runs it leaves so on its way out (:meth:`Worker.unfinished_runs`).
"""

from __future__ import annotations

import logging
import os
import select
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from flowdesk.errors import one_line
from flowdesk.registry import FlowRegistry, default_registry
from flowdesk.server.database.engine import make_engine
from flowdesk.server.database.orm_models import Flow, FlowRun, Log, StateType, TaskRun
from flowdesk.server.database.timestamps import utcnow
from flowdesk.server.states import IllegalTransition, move_flow_run, transition_values
from flowdesk.signals import Interrupted

T = TypeVar("T")
#: Default for how long a write after the claim is retried before the worker gives up on it.
RECORD_PATIENCE_SECONDS = 120.0
MAX_RETRY_DELAY_SECONDS = 5.0
#: Once a stop is requested, how much longer an outcome (or a hand-back) is retried: well inside
#: the grace period a supervisor gives (Kubernetes: 30 s) before it kills the process.
STOP_PATIENCE_SECONDS = 10.0


class Worker:
    """Runs the due flow runs of one database with the callables of ``registry``.

    ``name`` is written to every run it claims (default: ``host:pid:random``), so a run shows
    which worker took it.
    """

    def __init__(
        self,
        database_url: str,
        *,
        registry: FlowRegistry = default_registry,
        name: str | None = None,
        record_patience: float = RECORD_PATIENCE_SECONDS,
    ) -> None:
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.record_patience = record_patience
        #: Claimed runs left PENDING or RUNNING because no write got through in time.
        self.unrecorded: list[uuid.UUID] = []
        self.registry = registry
        self.engine = make_engine(database_url)
        self.sessions = sessionmaker(self.engine)
        # A stop request is a flag plus a byte on a socket pair that the idle wait selects on,
        # not a threading.Event: stop() runs inside signal handlers, and a handler that runs
        # while this thread holds the Event's internal lock (inside Event.wait) and then calls
        # Event.set() waits for that lock forever.
        self._stop_requested = False
        self._stop_seen_at = 0.0
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_writer.setblocking(False)
        # The run whose flow an interrupt (Ctrl-C, sys.exit) stopped; recorded as FAILED if the
        # run was still RUNNING and the database reachable.
        self.stopped_run: uuid.UUID | None = None

    def close(self) -> None:
        self.engine.dispose()
        self._wake_reader.close()
        self._wake_writer.close()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def claim_next(self) -> uuid.UUID | None:
        """Claim the earliest due SCHEDULED run (now PENDING and ours), or return None.

        The row is locked with SKIP LOCKED, so two workers never wait for or take the same run.
        Where UPDATE cannot return rows (MySQL, MariaDB) the locked id is read first and updated
        in the same transaction.
        """
        scheduled = FlowRun.state == StateType.SCHEDULED
        earliest_due = (
            sa.select(FlowRun.id)
            .where(scheduled, FlowRun.expected_start_time <= utcnow())
            .order_by(FlowRun.expected_start_time)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        claim = (
            sa.update(FlowRun)
            .values({**transition_values(StateType.PENDING), "worker": self.name})
            .execution_options(synchronize_session=False)
        )
        with self.sessions.begin() as session:
            if self.engine.dialect.update_returning:
                return session.scalar(
                    claim.where(scheduled, FlowRun.id == earliest_due.scalar_subquery()).returning(
                        FlowRun.id
                    )
                )
            run_id = session.scalar(earliest_due)
            if run_id is None:
                return None
            claimed = session.execute(claim.where(scheduled, FlowRun.id == run_id)).rowcount
            return run_id if claimed == 1 else None

    def run_once(self) -> int:
        """Run every flow run that is due now, one after the other; return how many."""
        count = 0
        while not self._stop_requested:
            run_id = self.claim_next()
            if run_id is None:
                break
            if not self.execute(run_id):
                break  # handed back: it is the earliest due run, so wait a poll before trying
            count += 1
        return count

    def execute(self, run_id: uuid.UUID) -> bool:
        """Run a claimed (PENDING) flow run to its end, recording a task run and logs; False
        when it could not start and was handed back."""
        try:
            flow_name, parameters = self._retrying(lambda: self._flow_of(run_id), after_stop=0)
        except sa.exc.OperationalError as exc:
            self._hand_back(run_id, exc)
            return False
        fn = self.registry.get(flow_name)
        if fn is None:
            message = f"no flow named {flow_name!r} is registered in worker {self.name}"
            self._record(run_id, None, StateType.FAILED, logging.ERROR, message)
            return True
        try:
            task_run_id = self._retrying(lambda: self._start(run_id, flow_name, fn), after_stop=0)
        except sa.exc.OperationalError as exc:
            self._hand_back(run_id, exc)
            return False
        if task_run_id is None:
            return True

        started = time.perf_counter()
        try:
            fn(**parameters)
        except BaseException as exc:
            failure = f"flow {flow_name!r} failed:\n" + "".join(traceback.format_exception(exc))
            ends_the_worker = not isinstance(exc, Exception)  # sys.exit() or Ctrl-C in the flow
            if ends_the_worker:
                self.stopped_run = run_id  # first: a Ctrl-C while recording must not lose it
            self._record(run_id, task_run_id, StateType.FAILED, logging.ERROR, failure)
            if ends_the_worker:
                raise  # recorded: now it stops the worker
            return True
        elapsed = time.perf_counter() - started
        message = f"flow {flow_name!r} completed in {elapsed:.3f} s"
        self._record(run_id, task_run_id, StateType.COMPLETED, logging.INFO, message)
        return True

    def _flow_of(self, run_id: uuid.UUID) -> tuple[str, dict[str, Any]]:
        with self.sessions() as session:
            name, parameters = session.execute(
                sa.select(Flow.name, FlowRun.parameters)
                .join(FlowRun.flow)
                .where(FlowRun.id == run_id)
            ).one()
            return name, parameters

    def _start(self, run_id: uuid.UUID, flow_name: str, fn: Any) -> uuid.UUID | None:
        """Move the run to RUNNING with its task run; ``None`` if it may not start."""
        with self.sessions.begin() as session:
            try:
                move_flow_run(session, run_id, StateType.RUNNING)
            except IllegalTransition as exc:
                _log(session, run_id, logging.WARNING, f"not started: {exc}")
                return None
            task_run = TaskRun(
                flow_run_id=run_id,
                name=getattr(fn, "__name__", flow_name),
                state=StateType.RUNNING,
                start_time=utcnow(),
                created=utcnow(),
            )
            session.add(task_run)
            session.flush()
            _log(session, run_id, logging.INFO, f"flow {flow_name!r} started on {self.name}")
            return task_run.id

    def _retrying(self, write: Callable[[], T], *, after_stop: float) -> T:
        """``write()``, tried again with back-off while the database is only busy or briefly
        away, for up to ``record_patience`` seconds (and ``after_stop`` seconds once a stop is
        requested: a stopping worker has a grace period to keep); then the error is raised."""
        deadline = time.monotonic() + self.record_patience
        delay = 0.1
        while True:
            try:
                return write()
            except sa.exc.OperationalError as exc:
                if self._stop_requested:
                    deadline = min(deadline, self._stop_seen_at + after_stop)
                if not _transient(exc) or time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY_SECONDS)

    def _hand_back(self, run_id: uuid.UUID, cause: Exception) -> None:
        """A claimed run that could not start goes back to SCHEDULED for any worker to take."""
        # Guarded like the claim: only our own run, and only while it is still PENDING.
        back = (
            sa.update(FlowRun)
            .where(
                FlowRun.id == run_id,
                FlowRun.state == StateType.PENDING,
                FlowRun.worker == self.name,
            )
            .values(state=StateType.SCHEDULED, worker=None)
        )

        def hand_back() -> None:
            with self.sessions.begin() as session:
                session.execute(back)

        lost = f"flow run {run_id} could not start ({one_line(cause)}) nor be handed back"
        if self._write_or_give_up(run_id, hand_back, lost):
            self._warn(f"flow run {run_id} could not start ({one_line(cause)}): handed back")

    def _write_or_give_up(self, run_id: uuid.UUID, write: Callable[[], None], lost: str) -> bool:
        """``write`` with retries; if it never gets through, say what was ``lost`` for this
        run and keep the run in :attr:`unrecorded`."""
        try:
            self._retrying(write, after_stop=STOP_PATIENCE_SECONDS)
        except sa.exc.OperationalError as exc:
            self.unrecorded.append(run_id)
            self._warn(f"{lost}: {one_line(exc)}; fail the run through set_state")
            return False
        return True

    def _record(
        self,
        run_id: uuid.UUID,
        task_run_id: uuid.UUID | None,
        outcome: StateType,
        level: int,
        message: str,
    ) -> None:
        """Move the run (and its task run) to ``outcome`` and log ``message``.

        Retried while the database refuses the write; a failure that outlasts that is reported
        rather than raised (the flow has run, and only this message can tell which run is left
        unfinished) and the run is kept in :attr:`unrecorded`.
        """

        def record() -> None:
            text = message
            with self.sessions.begin() as session:
                if task_run_id is not None:
                    session.execute(
                        sa.update(TaskRun)
                        .where(TaskRun.id == task_run_id)
                        .values(state=outcome, end_time=utcnow())
                    )
                try:
                    move_flow_run(session, run_id, outcome)
                except IllegalTransition as exc:
                    text = f"{message}\nthe outcome was not recorded: {exc}"
                _log(session, run_id, level, text)

        lost = f"the outcome of flow run {run_id} ({outcome.value}) was not recorded"
        self._write_or_give_up(run_id, record, lost)

    def unfinished_runs(self) -> list[tuple[uuid.UUID, StateType]]:
        """The runs this worker claimed that are still PENDING or RUNNING, with their state.

        After an interrupt this is what is left for a person to fail: asking the database
        covers an interrupt at any point, during the claim or the recording too.
        """
        with self.sessions() as session:
            rows = session.execute(
                sa.select(FlowRun.id, FlowRun.state)
                .where(
                    FlowRun.worker == self.name,
                    FlowRun.state.in_([StateType.PENDING, StateType.RUNNING]),
                )
                .order_by(FlowRun.expected_start_time)
            )
            return [(run_id, state) for run_id, state in rows]

    def stop(self) -> None:
        """Ask :meth:`run_forever` to return after the run in progress.

        Safe from another thread and from a signal handler: it takes no lock.
        """
        if not self._stop_requested:
            self._stop_seen_at = time.monotonic()
        self._stop_requested = True
        # OSError: the buffer is full (a wake-up is pending anyway) or the worker is closed.
        with suppress(OSError):
            self._wake_writer.send(b"\0")

    def run_forever(self, poll_interval: float = 2.0) -> None:
        """Poll every ``poll_interval`` seconds until :meth:`stop`, SIGINT or SIGTERM."""
        with self._stop_on_signals():
            while not self._stop_requested:
                try:
                    self.run_once()
                except sa.exc.OperationalError as exc:
                    # A database restart must not end the worker: say so and poll again.
                    self._warn(f"database error: {one_line(exc)}")
                # Returns early once stop() has written its byte, which is never read back:
                # a stopped worker stays stopped.
                select.select([self._wake_reader], [], [], poll_interval)

    def _warn(self, message: str) -> None:
        print(f"worker {self.name}: {message}", file=sys.stderr)

    @contextmanager
    def _stop_on_signals(self) -> Iterator[None]:
        """While polling, a first SIGINT/SIGTERM finishes the current run and then stops the loop;
        a second one interrupts a flow that does not finish (it is recorded as FAILED)."""
        if threading.current_thread() is not threading.main_thread():
            yield  # only the main thread can receive signals
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.getsignal(sig) for sig in handled}

        def request_stop(signum: int, frame: Any) -> None:
            if self._stop_requested:
                raise Interrupted  # not a bare KeyboardInterrupt: see its docstring
            self.stop()

        for sig in handled:
            signal.signal(sig, request_stop)
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _transient(exc: sa.exc.OperationalError) -> bool:
    """Worth retrying: a lock or busy wait ran out, or the connection to the server was lost.
    Not: a missing table or file, a full disk, which no wait repairs."""
    reason = one_line(exc).lower()
    if "locked" in reason or "busy" in reason or exc.connection_invalidated:
        return True
    return exc.orig is not None and type(exc.orig).__module__.startswith("psycopg")


def _log(session: Session, run_id: uuid.UUID, level: int, message: str) -> None:
    # Timestamps come from Python, not the server default: SQLite's CURRENT_TIMESTAMP has whole
    # seconds, and logs are read back in timestamp order.
    session.add(Log(flow_run_id=run_id, level=level, message=message, timestamp=utcnow()))
