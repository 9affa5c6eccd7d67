"""What endpoints receive besides their own parameters: a session and the page asked for."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from flowdesk.server.api.schemas import Page

MAX_PAGE_SIZE = 200
#: Far beyond any real listing; without a bound, a number too big for the drivers' 64-bit
#: integers fails in the driver (500) instead of validation (422).
MAX_OFFSET = 2**31 - 1
T = TypeVar("T")


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, closed (and rolled back if uncommitted) when it ends."""
    with request.app.state.sessions() as session:
        yield session


DbSession = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class Pagination:
    limit: int
    offset: int

    def of(self, items: list[T], total: int) -> Page[T]:
        """This page of a listing with ``total`` rows in all."""
        return Page(items=items, total=total, limit=self.limit, offset=self.offset)


def pagination(default_limit: int) -> Any:
    """A dependency reading ``limit`` (1..200) and ``offset`` (0..2**31-1), else 422."""

    def read(
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = default_limit,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> Pagination:
        return Pagination(limit, offset)

    return Depends(read)
