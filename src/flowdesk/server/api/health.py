"""``/api/health``: is the server up, and can it reach its database?"""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from flowdesk.errors import one_line
from flowdesk.server.api import schemas

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=schemas.Health,
    responses={503: {"model": schemas.Health, "description": "The database is unreachable"}},
)
def health(request: Request) -> schemas.Health | JSONResponse:
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        body = schemas.Health(status="error", database=one_line(exc))
        return JSONResponse(body.model_dump(), status_code=503)
    return schemas.Health(status="ok", database="ok")
