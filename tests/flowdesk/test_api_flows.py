"""``/api/flows``."""

from __future__ import annotations

import os
import uuid
from datetime import datetime

import pytest
import sqlalchemy as sa
from pydantic import TypeAdapter

from contribkit.databases.postgresql.server import EXTERNAL_URL_ENV

parse_time = TypeAdapter(datetime).validate_python


def test_create_and_read_a_flow(client) -> None:
    response = client.post("/api/flows", json={"name": "etl"})
    assert response.status_code == 201
    flow = response.json()
    assert set(flow) == {"id", "name", "created", "updated"}
    assert flow["name"] == "etl"
    uuid.UUID(flow["id"])
    assert parse_time(flow["created"]).utcoffset() is not None
    assert client.get(f"/api/flows/{flow['id']}").json() == flow


def test_a_flow_name_is_unique(client) -> None:
    client.post("/api/flows", json={"name": "etl"})
    response = client.post("/api/flows", json={"name": "etl"})
    assert response.status_code == 409
    assert "etl" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "x" * 201}, {"name": 3}, [{"name": "etl"}], {"name": "e\x00tl"}],
    ids=["missing", "empty", "too-long", "not-a-string", "not-an-object", "nul"],
)
def test_bad_flow_bodies_are_422(shared_client, body) -> None:
    assert shared_client.post("/api/flows", json=body).status_code == 422


@pytest.mark.parametrize(
    "content",
    [b'{"name": ', b'{"name": "\\ud800"}', b'{"name": NaN}'],
    ids=["truncated", "lone-surrogate", "nan"],
)
def test_invalid_json_is_422(shared_client, content) -> None:
    """Also what JSON can spell but UTF-8 or the databases cannot hold."""
    response = shared_client.post(
        "/api/flows", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"]


def test_flows_are_listed_by_name_a_page_at_a_time(client) -> None:
    # Same-case names: mixed case sorts by collation, which test_names_sort_in_byte_order pins.
    for name in ("gamma", "alpha", "beta"):
        client.post("/api/flows", json={"name": name})
    first = client.get("/api/flows", params={"limit": 2}).json()
    second = client.get("/api/flows", params={"limit": 2, "offset": 2}).json()
    assert [f["name"] for f in first["items"]] == ["alpha", "beta"]
    assert (first["total"], first["limit"], first["offset"]) == (3, 2, 0)
    assert [f["name"] for f in second["items"]] == ["gamma"]
    assert (second["total"], second["limit"], second["offset"]) == (3, 2, 2)
    assert client.get("/api/flows").json()["limit"] == 50


def test_names_sort_in_byte_order(client, dialect, database_url) -> None:
    """docs/api.md: the database's collation, byte order on SQLite, the embedded server and
    MySQL (whose column the model gives a binary collation)."""
    byte_order = True
    if dialect == "postgresql":
        engine = sa.create_engine(database_url)
        with engine.connect() as connection:
            collation = connection.scalar(
                sa.text("SELECT datcollate FROM pg_database WHERE datname = current_database()")
            )
        engine.dispose()
        byte_order = collation in ("C", "POSIX")
        # The embedded server is initialised with --locale=C; only a server of the user's own
        # (CONTRIBKIT_POSTGRESQL_URL) may have another collation.
        assert byte_order or os.environ.get(EXTERNAL_URL_ENV), collation
    names = ["beta", "Alpha", "_under", "alpha", "Zeta", "écho", "10", "9"]
    for name in names:
        assert client.post("/api/flows", json={"name": name}).status_code == 201
    listed = [f["name"] for f in client.get("/api/flows").json()["items"]]
    if byte_order:
        assert listed == sorted(names, key=str.encode)
    else:  # a server with a linguistic collation: the API must follow the database's own order
        engine = sa.create_engine(database_url)
        with engine.connect() as connection:
            ordered = connection.scalars(sa.text("SELECT name FROM flow ORDER BY name")).all()
        engine.dispose()
        assert listed == ordered


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=201",
        "limit=1000000",
        "offset=-1",
        "limit=x",
        "offset=2147483648",
        "offset=99999999999999999999",
    ],
)
def test_bad_pages_are_422(shared_client, query) -> None:
    assert shared_client.get(f"/api/flows?{query}").status_code == 422


def test_the_largest_offset_is_an_empty_page(shared_client) -> None:
    page = shared_client.get("/api/flows?offset=2147483647").json()
    assert (page["items"], page["offset"]) == ([], 2147483647)


def test_unknown_flow_is_404_and_a_malformed_id_422(shared_client) -> None:
    assert shared_client.get(f"/api/flows/{uuid.uuid4()}").status_code == 404
    assert shared_client.get("/api/flows/not-a-uuid").status_code == 422
