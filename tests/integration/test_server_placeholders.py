"""PostgreSQL gets the store's statements with its own placeholders ($1), through psycopg's
raw cursors: psycopg does not parse them again (it kept the parse of a statement up to
4 KiB and 50 parameters only, so a batch's multi-row INSERT was parsed at every send)."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import select, text

from store.db import Database
from store.dialect import insert_rows
from store.models import Customer

pytestmark = pytest.mark.integration

NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)


def test_both_engines_send_the_servers_placeholders_through_raw_cursors(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's placeholders are its own already")
    for engine in (db.engine, db.read_engine):
        assert engine.dialect.paramstyle == "numeric_dollar"
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            assert isinstance(raw.cursor(), psycopg.RawCursor)
            assert isinstance(raw.cursor("streamed"), psycopg.RawServerCursor)
            assert conn.execute(text("SELECT :a || '%' || :b"), {"a": "x", "b": "$1"}).scalar() == (
                "x%$1"
            )


def test_a_long_multi_row_insert_and_a_streamed_read_of_it(db: Database) -> None:
    """60 rows of three values: past what psycopg kept parsed (180 parameters); their keys
    in order, and read back through a server-side cursor with a parameter."""
    names = [f"customer {i} 100% $1 %(name)s" for i in range(60)]
    rows = [{"name": n, "created_at": NOW, "attributes": {"n": i}} for i, n in enumerate(names)]
    with db.unit_of_work() as uow:
        ids = insert_rows(uow.session, Customer, rows)
    with db.unit_of_work() as uow:
        streamed = uow.session.connection().execution_options(stream_results=True)
        read = streamed.execute(
            select(Customer.id, Customer.name, Customer.attributes)
            .where(Customer.id >= min(ids))
            .order_by(Customer.id)
        ).all()
    assert [(row.id, row.name, row.attributes) for row in read] == [
        (i, n, {"n": k}) for k, (i, n) in enumerate(zip(ids, names, strict=True))
    ]
