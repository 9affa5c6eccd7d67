"""``/api/flows``: the named flows runs belong to."""

from __future__ import annotations

import uuid
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, status

from flowdesk.server.api import schemas
from flowdesk.server.api.dependencies import DbSession, Pagination, SessionRoute, pagination
from flowdesk.server.database.orm_models import Flow

router = APIRouter(route_class=SessionRoute, prefix="/flows", tags=["flows"])
NAME_TAKEN = {409: {"description": "A flow with this name exists"}}


@router.post("", status_code=status.HTTP_201_CREATED, responses=NAME_TAKEN)
def create_flow(body: schemas.FlowCreate, session: DbSession) -> schemas.Flow:
    flow = Flow(name=body.name)
    session.add(flow)
    try:
        session.commit()
    except sa.exc.IntegrityError as exc:
        # The unique constraint decides, so two concurrent creations cannot both succeed.
        session.rollback()
        message = f"a flow named {body.name!r} already exists"
        raise HTTPException(status.HTTP_409_CONFLICT, message) from exc
    return schemas.Flow.model_validate(flow)


@router.get("")
def list_flows(
    session: DbSession, page: Annotated[Pagination, pagination(50)]
) -> schemas.Page[schemas.Flow]:
    """Flows sorted by name."""
    total = session.execute(sa.select(sa.func.count()).select_from(Flow)).scalar_one()
    flows = session.scalars(
        sa.select(Flow).order_by(Flow.name).limit(page.limit).offset(page.offset)
    )
    return page.of([schemas.Flow.model_validate(f) for f in flows], total)


@router.get("/{flow_id}", responses={404: {"description": "Unknown flow"}})
def read_flow(flow_id: uuid.UUID, session: DbSession) -> schemas.Flow:
    flow = session.get(Flow, flow_id)
    if flow is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"flow {flow_id} not found")
    return schemas.Flow.model_validate(flow)
