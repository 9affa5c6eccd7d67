"""The flow-run state machine: which moves are allowed and what each move records.

Every state change goes through :func:`move_flow_run`, which writes with
``UPDATE … WHERE state = <the state it checked>``. A concurrent change therefore cannot be
overwritten: the guarded update matches no row, and the move is re-checked against the state that
won. The one exception is the worker's claim (:meth:`flowdesk.worker.Worker.claim_next`), which
must pick *and* move a run in a single statement; it is guarded the same way
(``WHERE state = 'SCHEDULED'``) and takes its columns from :func:`transition_values`, so the
start and end time rules still live only here.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from flowdesk.server.database.orm_models import FlowRun, StateType
from flowdesk.server.database.timestamps import utcnow

S = StateType
TERMINAL_STATES = frozenset({S.COMPLETED, S.FAILED, S.CANCELLED})
ALLOWED_TRANSITIONS: dict[StateType, frozenset[StateType]] = {
    S.SCHEDULED: frozenset({S.PENDING, S.CANCELLED}),
    S.PENDING: frozenset({S.RUNNING, S.FAILED, S.CANCELLED}),
    S.RUNNING: frozenset({S.COMPLETED, S.FAILED, S.CANCELLED}),
    **{state: frozenset() for state in TERMINAL_STATES},
}


class FlowRunNotFound(LookupError):
    def __init__(self, run_id: uuid.UUID) -> None:
        super().__init__(f"flow run {run_id} not found")


class IllegalTransition(ValueError):
    def __init__(self, run_id: uuid.UUID, current: StateType, new: StateType) -> None:
        super().__init__(f"cannot move flow run {run_id} from {current.value} to {new.value}")


def is_allowed(current: StateType, new: StateType) -> bool:
    return new in ALLOWED_TRANSITIONS[current]


def transition_values(new: StateType) -> dict[str, Any]:
    """The columns a move into ``new`` sets: RUNNING starts the clock, a terminal state stops it."""
    values: dict[str, Any] = {"state": new}
    if new is S.RUNNING:
        values["start_time"] = utcnow()
    if new in TERMINAL_STATES:
        values["end_time"] = utcnow()
    return values


def move_flow_run(session: Session, run_id: uuid.UUID, new: StateType) -> None:
    """Move the run to ``new`` (not committed).

    Raises :class:`FlowRunNotFound` or :class:`IllegalTransition`. The retry loop ends: every
    retry means another writer moved the run forward, and the state graph has no cycles.
    """
    while True:
        current = session.scalar(sa.select(FlowRun.state).where(FlowRun.id == run_id))
        if current is None:
            raise FlowRunNotFound(run_id)
        if not is_allowed(current, new):
            raise IllegalTransition(run_id, current, new)
        moved = session.execute(
            sa.update(FlowRun)
            .where(FlowRun.id == run_id, FlowRun.state == current)
            .values(transition_values(new))
        )
        if moved.rowcount == 1:
            return
