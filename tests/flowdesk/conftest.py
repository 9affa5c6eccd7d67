"""flowdesk fixtures: the app on this test's database, and direct access to its rows."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from process_support import LOOPBACK
from sqlalchemy.orm import Session, sessionmaker

from flowdesk.server.api import create_app
from flowdesk.server.database.engine import make_engine
from flowdesk.server.database.orm_models import Flow, FlowRun, StateType
from flowdesk.server.database.timestamps import utcnow


@pytest.fixture(scope="module")
def shared_database_url(migrated_databases) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """One database for a module's read-only and rejected requests, which write nothing.

    Cloning a PostgreSQL database takes a third of a second; tests that cannot change the
    database share one instead of paying that each.
    """
    with migrated_databases.clone() as url:
        yield url


@pytest.fixture(scope="module")
def shared_client(shared_database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(shared_database_url), base_url=LOOPBACK) as test_client:
        yield test_client


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    """The API on this test's database (``with`` runs the app's startup and shutdown)."""
    with TestClient(create_app(database_url), base_url=LOOPBACK) as test_client:
        yield test_client


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def add_flow(sessions: sessionmaker[Session]) -> Callable[[str], uuid.UUID]:
    def add(name: str) -> uuid.UUID:
        with sessions.begin() as session:
            flow = Flow(name=name)
            session.add(flow)
            session.flush()
            return flow.id

    return add


@pytest.fixture
def add_run(sessions: sessionmaker[Session]) -> Callable[..., uuid.UUID]:
    """Insert a flow run directly, in any state (the API can only create SCHEDULED ones)."""

    def add(
        flow_id: uuid.UUID,
        state: StateType = StateType.SCHEDULED,
        expected_start_time: datetime | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> uuid.UUID:
        with sessions.begin() as session:
            run = FlowRun(
                flow_id=flow_id,
                state=state,
                expected_start_time=expected_start_time or utcnow(),
                parameters=parameters or {},
            )
            session.add(run)
            session.flush()
            return run.id

    return add
