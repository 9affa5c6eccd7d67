"""What endpoints receive besides their own parameters: a session and the page asked for."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from flowdesk.server.api.schemas import Page

MAX_PAGE_SIZE = 200
#: Far beyond any real listing; without a bound, a number too big for the drivers' 64-bit
#: integers fails in the driver (500) instead of validation (422).
MAX_OFFSET = 2**31 - 1
T = TypeVar("T")


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request, closed (and rolled back if uncommitted) when it ends.

    Async, so that making and closing it needs no thread: a session connects only when first
    used, and :class:`SessionRoute` has already closed it on the endpoint's own thread.
    """
    session = request.app.state.sessions()
    try:
        yield session
    finally:
        session.close()  # a no-op after the endpoint's; here for a request that never ran it


class SessionRoute(APIRoute):
    """A route whose endpoint gives its sessions' connections back before its thread is free.

    FastAPI runs a sync endpoint, then its response's validation, then a sync dependency's exit
    each on a threadpool thread. Were the connection given back only at the end, every thread
    could be taken by requests waiting for a connection while the requests holding them waited
    for a thread: all waited out the pool, then failed (500s under a few hundred clients).
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _closing_sessions(endpoint)
        super().__init__(path, endpoint, **kwargs)


def _closing_sessions(endpoint: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(endpoint)  # FastAPI reads the parameters through __wrapped__
    def call(*args: Any, **kwargs: Any) -> T:
        try:
            return endpoint(*args, **kwargs)
        finally:
            for value in kwargs.values():
                if isinstance(value, Session):
                    value.close()

    return call


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
