"""The tickets the requester follow-ups look at (pending or resolved, oldest first) are
read through their partial index, also in a generic plan (psycopg prepares a statement
after 5 runs), not by walking the primary key past every closed ticket (migration 0044).
PostgreSQL only: SQLite proves no partial index from an OR of the statuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from store.db import Database
from tests.support.generic_plans import generic_plan, sent

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
TICKETS = """INSERT INTO tickets (subject, status, priority, priority_rank, category, channel,
    requester_id, requester_address, custom_fields, required_skills, optional_skills, tags,
    access_key, created_at, updated_at, resolved_at, pending_since, reopen_count, reply_count)
    SELECT 's', CASE WHEN g > 20000 THEN (ARRAY['pending', 'resolved'])[1 + g % 2]
        ELSE 'closed' END, 'normal', 2, 'general', 'web', :customer, 'jo@example.org',
        '{}', '{}', '{}', '[]', 'k', :at, :at, :at, :at, 0, 0
    FROM generate_series(1, 20100) AS g"""


def _fill(db: Database) -> None:
    """A customer and 20,100 tickets, the first 20,000 closed, the rest waiting on them."""
    with db.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO customers (name, attributes, created_at) VALUES ('Jo', '{}', :at)"),
            {"at": NOW},
        )
        customer = conn.execute(text("SELECT max(id) FROM customers")).scalar_one()
        conn.execute(text(TICKETS), {"customer": customer, "at": NOW - timedelta(days=30)})


def test_the_follow_ups_read_the_waiting_tickets_by_their_index(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite proves no partial index from an OR of the statuses")
    _fill(db)
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE tickets"))
    with db.unit_of_work() as uow, sent(uow.session.connection()) as statements:
        uow.tickets.waiting_on_requesters(pending_before=NOW, resolved_before=NOW, limit=20)
    assert len(statements) == 1
    query, values = statements[0]
    with db.engine.connect() as conn:
        custom = "\n".join(conn.exec_driver_sql("EXPLAIN " + query, values).scalars())
    generic = generic_plan(db.engine, query, values)
    for plan in (custom, generic):
        assert "ix_tickets_waiting_on_requesters" in plan, plan


def test_the_follow_ups_find_the_oldest_waiting_tickets(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("(the fill is PostgreSQL's)")
    _fill(db)
    with db.unit_of_work() as uow:
        rows = uow.tickets.waiting_on_requesters(pending_before=NOW, resolved_before=NOW, limit=3)
    assert [(r[1]) for r in rows] == ["resolved", "pending", "resolved"]
    assert rows[0][0] < rows[1][0] < rows[2][0]
