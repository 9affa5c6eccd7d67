"""The engine enforces foreign keys on every dialect, so ON DELETE CASCADE works."""

from __future__ import annotations

import uuid

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
