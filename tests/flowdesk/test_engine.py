"""The engine enforces foreign keys on every dialect, so ON DELETE CASCADE works; timestamps
keep their instant and come back as aware UTC datetimes on every dialect."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from flowdesk.server.database.orm_models import Flow, FlowRun, Log, TaskRun
from flowdesk.server.database.timestamps import utcnow


def test_deleting_a_flow_cascades_to_its_runs_task_runs_and_logs(
    sessions, add_flow, add_run
) -> None:
    flow_id = add_flow("etl")
    run_id = add_run(flow_id)
    with sessions.begin() as session:
        session.add_all(
            [TaskRun(flow_run_id=run_id, name="t"), Log(flow_run_id=run_id, level=20, message="m")]
        )
    with sessions.begin() as session:
        session.execute(sa.delete(Flow).where(Flow.id == flow_id))
    with sessions() as session:
        for model in (FlowRun, TaskRun, Log):
            assert session.scalar(sa.select(sa.func.count()).select_from(model)) == 0, model


def test_a_run_of_an_unknown_flow_is_rejected(sessions) -> None:
    with pytest.raises(sa.exc.IntegrityError), sessions.begin() as session:
        session.add(FlowRun(flow_id=uuid.uuid4(), expected_start_time=utcnow()))


def test_timestamps_keep_the_instant_and_read_back_in_utc(sessions, add_flow, add_run) -> None:
    summer_in_paris = datetime(2026, 7, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    run_id = add_run(add_flow("etl"), expected_start_time=summer_in_paris)
    with sessions() as session:
        run = session.get(FlowRun, run_id)
        assert run.expected_start_time == summer_in_paris  # the same instant
        assert run.expected_start_time.utcoffset() == timedelta(0)
        assert run.created.utcoffset() == timedelta(0)  # a server default, read back as UTC
        due = session.scalars(
            sa.select(FlowRun.id).where(
                FlowRun.expected_start_time <= datetime(2026, 7, 1, 12, 30, tzinfo=timezone.utc)
            )
        ).all()
    assert due == [run_id]  # compared as the same instant, not as wall-clock digits


def test_timestamp_arithmetic_binds_the_interval_as_an_interval(
    dialect, sessions, add_flow, add_run
) -> None:
    start = datetime(2026, 7, 1, 12, 30, tzinfo=timezone.utc)
    run_id = add_run(add_flow("etl"), expected_start_time=start)
    later = FlowRun.expected_start_time + timedelta(hours=1)
    assert isinstance(later.right.type, sa.Interval)  # not passed through the UTC conversion
    if dialect == "postgresql":  # SQLite has no datetime arithmetic to run it on
        with sessions() as session:
            value = session.execute(sa.select(later).where(FlowRun.id == run_id)).scalar()
        assert value == start + timedelta(hours=1)
