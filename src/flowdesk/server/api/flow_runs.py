"""``/api/flow_runs``: runs, their state changes, task runs and logs."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy.orm import Session, joinedload

from flowdesk.server.api import schemas
from flowdesk.server.api.dependencies import DbSession, Pagination, SessionRoute, pagination
from flowdesk.server.database.orm_models import Flow, FlowRun, Log, StateType, TaskRun
from flowdesk.server.database.timestamps import utcnow
from flowdesk.server.states import FlowRunNotFound, IllegalTransition, move_flow_run

router = APIRouter(route_class=SessionRoute, prefix="/flow_runs", tags=["flow runs"])
NOT_FOUND = {404: {"description": "Unknown flow run"}}


def _run_or_404(session: Session, run_id: uuid.UUID) -> FlowRun:
    run = session.get(FlowRun, run_id, options=[joinedload(FlowRun.flow)])
    if run is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(FlowRunNotFound(run_id)))
    return run


@router.post("", status_code=status.HTTP_201_CREATED, responses={404: {"description": "No flow"}})
def create_flow_run(body: schemas.FlowRunCreate, session: DbSession) -> schemas.FlowRun:
    """A new run in state SCHEDULED, due at ``expected_start_time`` (default: now)."""
    if session.get(Flow, body.flow_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"flow {body.flow_id} not found")
    run = FlowRun(
        flow_id=body.flow_id,
        name=body.name,
        state=StateType.SCHEDULED,
        parameters=body.parameters,
        expected_start_time=body.expected_start_time or utcnow(),
    )
    session.add(run)
    session.commit()
    return schemas.FlowRun.model_validate(_run_or_404(session, run.id))


@router.get("")
def list_flow_runs(
    session: DbSession,
    page: Annotated[Pagination, pagination(50)],
    flow_id: uuid.UUID | None = None,
    state: Annotated[list[StateType] | None, Query(description="Repeatable.")] = None,
    start_after: Annotated[
        schemas.AwareUtcDatetime | None, Query(description="expected_start_time >= this")
    ] = None,
    start_before: Annotated[
        schemas.AwareUtcDatetime | None, Query(description="expected_start_time <= this")
    ] = None,
) -> schemas.Page[schemas.FlowRun]:
    """Runs sorted by expected_start_time, latest first."""
    conditions = []
    if flow_id is not None:
        conditions.append(FlowRun.flow_id == flow_id)
    if state:
        conditions.append(FlowRun.state.in_(state))
    if start_after is not None:
        conditions.append(FlowRun.expected_start_time >= start_after)
    if start_before is not None:
        conditions.append(FlowRun.expected_start_time <= start_before)
    total = session.execute(
        sa.select(sa.func.count()).select_from(FlowRun).where(*conditions)
    ).scalar_one()
    runs = session.scalars(
        sa.select(FlowRun)
        .options(joinedload(FlowRun.flow))
        .where(*conditions)
        # created and id break ties so that pages never overlap or skip a run.
        .order_by(FlowRun.expected_start_time.desc(), FlowRun.created.desc(), FlowRun.id)
        .limit(page.limit)
        .offset(page.offset)
    )
    return page.of([schemas.FlowRun.model_validate(run) for run in runs], total)


@router.get("/counts")
def count_flow_runs(session: DbSession, flow_id: uuid.UUID | None = None) -> schemas.StateCounts:
    """How many runs are in each state (of one flow, with ``flow_id``); every state is present."""
    query = sa.select(FlowRun.state, sa.func.count()).group_by(FlowRun.state)
    if flow_id is not None:
        query = query.where(FlowRun.flow_id == flow_id)
    counts = {state.value: 0 for state in StateType}
    counts.update({state.value: n for state, n in session.execute(query)})
    return schemas.StateCounts(**counts)


@router.get("/{run_id}", responses=NOT_FOUND)
def read_flow_run(run_id: uuid.UUID, session: DbSession) -> schemas.FlowRun:
    return schemas.FlowRun.model_validate(_run_or_404(session, run_id))


@router.post(
    "/{run_id}/set_state",
    responses={**NOT_FOUND, 409: {"description": "The state machine forbids this move"}},
)
def set_flow_run_state(
    run_id: uuid.UUID, body: schemas.SetState, session: DbSession
) -> schemas.FlowRun:
    """Allowed: SCHEDULED→PENDING|CANCELLED; PENDING→RUNNING|FAILED|CANCELLED;
    RUNNING→COMPLETED|FAILED|CANCELLED. Terminal states are final."""
    try:
        move_flow_run(session, run_id, body.state)
    except FlowRunNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except IllegalTransition as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    session.commit()
    return schemas.FlowRun.model_validate(_run_or_404(session, run_id))


@router.get("/{run_id}/task_runs", responses=NOT_FOUND)
def list_task_runs(run_id: uuid.UUID, session: DbSession) -> list[schemas.TaskRun]:
    """The run's task runs, oldest first."""
    _run_or_404(session, run_id)
    task_runs = session.scalars(
        sa.select(TaskRun)
        .where(TaskRun.flow_run_id == run_id)
        .order_by(TaskRun.created, TaskRun.id)
    )
    return [schemas.TaskRun.model_validate(t) for t in task_runs]


@router.post("/{run_id}/logs", status_code=status.HTTP_201_CREATED, responses=NOT_FOUND)
def create_logs(
    run_id: uuid.UUID, body: schemas.LogBatch, session: DbSession
) -> schemas.LogsCreated:
    _run_or_404(session, run_id)
    received = utcnow()
    # Logs are read back ordered by timestamp; entries without one are spaced a microsecond
    # apart so that a batch keeps the order it was sent in.
    session.add_all(
        Log(
            flow_run_id=run_id,
            level=entry.level,
            message=entry.message,
            timestamp=entry.timestamp or received + timedelta(microseconds=i),
        )
        for i, entry in enumerate(body)
    )
    session.commit()
    return schemas.LogsCreated(created=len(body))


@router.get("/{run_id}/logs", responses=NOT_FOUND)
def list_logs(
    run_id: uuid.UUID, session: DbSession, page: Annotated[Pagination, pagination(200)]
) -> schemas.Page[schemas.Log]:
    """The run's logs, oldest first."""
    _run_or_404(session, run_id)
    of_run = Log.flow_run_id == run_id
    total = session.execute(sa.select(sa.func.count()).select_from(Log).where(of_run)).scalar_one()
    logs = session.scalars(
        sa.select(Log)
        .where(of_run)
        .order_by(Log.timestamp, Log.id)
        .limit(page.limit)
        .offset(page.offset)
    )
    return page.of([schemas.Log.model_validate(log) for log in logs], total)
