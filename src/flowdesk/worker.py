"""The worker: claims due flow runs, runs their registered callables, records the outcome.

A run is claimed by one guarded statement::

    UPDATE flow_run SET state = 'PENDING', worker = :me
    WHERE state = 'SCHEDULED'
      AND id = (SELECT id FROM flow_run WHERE state = 'SCHEDULED' AND expected_start_time <= now
                ORDER BY expected_start_time LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING id

On PostgreSQL ``SKIP LOCKED`` lets concurrent workers pass over each other's candidates instead
of queueing behind them, and the outer ``state = 'SCHEDULED'`` makes a lost race update nothing.
On SQLite (where SQLAlchemy leaves out ``FOR UPDATE``) the statement holds the database's single
write lock from start to end, so two workers cannot claim the same run either.

After the claim the run moves PENDING → RUNNING → COMPLETED or FAILED through the state machine,
so a run cancelled meanwhile through the API stays cancelled.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from flowdesk.registry import FlowRegistry, default_registry
from flowdesk.server.database.engine import make_engine, make_sessionmaker, one_line
from flowdesk.server.database.orm_models import Flow, FlowRun, Log, StateType, TaskRun
from flowdesk.server.database.timestamps import utcnow
from flowdesk.server.states import IllegalTransition, move_flow_run


class Worker:
    """Runs the due flow runs of one database with the callables of ``registry``.

    ``name`` is written to every run it claims (default: ``host:pid:random``), so a run shows
    which worker took it.
    """

    def __init__(
        self,
        database_url: str | None = None,
        *,
        registry: FlowRegistry = default_registry,
        name: str | None = None,
    ) -> None:
        if database_url is None:
            from flowdesk.settings import database_url as configured_url

            database_url = configured_url()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.registry = registry
        self.engine = make_engine(database_url)
        self.sessions = make_sessionmaker(self.engine)
        self._stopping = threading.Event()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def claim_next(self) -> uuid.UUID | None:
        """Claim the earliest due SCHEDULED run (now PENDING and ours), or return None."""
        scheduled = FlowRun.state == StateType.SCHEDULED
        earliest_due = (
            sa.select(FlowRun.id)
            .where(scheduled, FlowRun.expected_start_time <= utcnow())
            .order_by(FlowRun.expected_start_time)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        with self.sessions.begin() as session:
            return session.scalar(
                sa.update(FlowRun)
                .where(scheduled, FlowRun.id == earliest_due)
                .values(state=StateType.PENDING, worker=self.name)
                .returning(FlowRun.id)
                .execution_options(synchronize_session=False)
            )

    def run_once(self) -> int:
        """Run every flow run that is due now, one after the other; return how many."""
        count = 0
        while not self._stopping.is_set():
            run_id = self.claim_next()
            if run_id is None:
                break
            self.execute(run_id)
            count += 1
        return count

    def execute(self, run_id: uuid.UUID) -> None:
        """Run a claimed (PENDING) flow run to its end, recording a task run and logs."""
        with self.sessions() as session:
            flow_name, parameters = session.execute(
                sa.select(Flow.name, FlowRun.parameters)
                .join(FlowRun.flow)
                .where(FlowRun.id == run_id)
            ).one()
        fn = self.registry.get(flow_name)
        if fn is None:
            with self.sessions.begin() as session:
                message = f"no flow named {flow_name!r} is registered in worker {self.name}"
                self._finish(session, run_id, StateType.FAILED, logging.ERROR, message)
            return

        with self.sessions.begin() as session:
            try:
                move_flow_run(session, run_id, StateType.RUNNING)
            except IllegalTransition as exc:
                _log(session, run_id, logging.WARNING, f"not started: {exc}")
                return
            task_run = TaskRun(
                flow_run_id=run_id,
                name=getattr(fn, "__name__", flow_name),
                state=StateType.RUNNING,
                start_time=utcnow(),
                created=utcnow(),
            )
            session.add(task_run)
            session.flush()
            task_run_id = task_run.id
            _log(session, run_id, logging.INFO, f"flow {flow_name!r} started on {self.name}")

        started = time.perf_counter()
        try:
            fn(**parameters)
        except Exception as exc:
            outcome, level = StateType.FAILED, logging.ERROR
            message = f"flow {flow_name!r} failed: {type(exc).__name__}: {exc}\n" + "".join(
                traceback.format_exception(exc)
            )
        else:
            outcome, level = StateType.COMPLETED, logging.INFO
            message = f"flow {flow_name!r} completed in {time.perf_counter() - started:.3f} s"

        with self.sessions.begin() as session:
            session.execute(
                sa.update(TaskRun)
                .where(TaskRun.id == task_run_id)
                .values(state=outcome, end_time=utcnow())
            )
            self._finish(session, run_id, outcome, level, message)

    def _finish(
        self, session: Session, run_id: uuid.UUID, outcome: StateType, level: int, message: str
    ) -> None:
        try:
            move_flow_run(session, run_id, outcome)
        except IllegalTransition as exc:
            message = f"{message}\nthe outcome was not recorded: {exc}"
        _log(session, run_id, level, message)

    def stop(self) -> None:
        """Ask :meth:`run_forever` to return after the run in progress (callable from a thread)."""
        self._stopping.set()

    def run_forever(self, poll_interval: float = 2.0) -> None:
        """Poll every ``poll_interval`` seconds until :meth:`stop`, SIGINT or SIGTERM."""
        with self._stop_on_signals():
            while not self._stopping.is_set():
                try:
                    self.run_once()
                except sa.exc.OperationalError as exc:
                    # A database restart must not end the worker: say so and poll again.
                    print(f"worker {self.name}: database error: {one_line(exc)}", file=sys.stderr)
                self._stopping.wait(poll_interval)

    @contextmanager
    def _stop_on_signals(self) -> Iterator[None]:
        """While polling, SIGINT/SIGTERM finish the current run and then stop the loop."""
        if threading.current_thread() is not threading.main_thread():
            yield  # only the main thread can receive signals
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.getsignal(sig) for sig in handled}

        def request_stop(signum: int, frame: Any) -> None:
            self.stop()

        for sig in handled:
            signal.signal(sig, request_stop)
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _log(session: Session, run_id: uuid.UUID, level: int, message: str) -> None:
    # Timestamps come from Python, not the server default: SQLite's CURRENT_TIMESTAMP has whole
    # seconds, and logs are read back in timestamp order.
    session.add(Log(flow_run_id=run_id, level=level, message=message, timestamp=utcnow()))
