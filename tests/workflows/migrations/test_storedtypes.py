"""stored_type: what a column stores on one dialect, named by a public SQLAlchemy class."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from contribkit.workflows.migrations.storedtypes import stored_type


def _legacy_types():  # type: ignore[no-untyped-def]
    """tests/legacy_project's column types, loaded without putting that project on sys.path."""
    path = Path(__file__).resolve().parents[2] / "legacy_project" / "ledger" / "types.py"
    spec = importlib.util.spec_from_file_location("legacy_ledger_types", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: A project decorator whose implementation is another project decorator (Document).
Tags = _legacy_types().Tags


class Stamp(sa.types.TypeDecorator):
    impl = sa.DateTime(timezone=True)
    cache_ok = True


@pytest.mark.parametrize(
    ("type_", "dialect", "expected"),
    [
        (Tags(), postgresql.dialect(), postgresql.JSONB),
        (Tags(), sqlite.dialect(), sqlite.JSON),
        (Tags().with_variant(sa.Text(), "sqlite"), sqlite.dialect(), sa.Text),
        (Stamp(), postgresql.dialect(), sa.DateTime),
    ],
)
def test_a_chain_of_project_decorators_ends_at_a_public_class(type_, dialect, expected) -> None:
    stored = stored_type(type_, dialect)
    assert type(stored) is expected
