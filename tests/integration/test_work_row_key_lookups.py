"""The statements on inbox and outbox rows a batch knows by id find them by their key, on
a desk whose statistics see no pending row (a year of done rows, analyzed) while a backlog waits: a
state condition in their WHERE was planned as a walk of every pending row through
``ix_inbox_due``, probing the ids at each one (``begin_attempts`` 3.9 s with 3,000 rows
pending beside 590,000 done ones; the outbox claim walked the pending and sending rows).
Both stores; on PostgreSQL the plan made with the
values and the generic one (psycopg prepares a statement after 5 runs)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection

from store import inbox_statements as statements
from store.db import Database
from store.outbox_leases import _claim
from tests.integration.test_inbox_waiting_index import ROWS
from tests.support.generic_plans import generic_plan, sent

AT = "2026-12-07 12:00:00+00:00"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _fill(db: Database) -> list[int]:
    """A year of done rows, analyzed, then a backlog the statistics have not seen: the
    backlog's first ids."""
    done = [
        {"channel": "web", "key": f"d{i}", "state": "done", "attempts": 1, "at": AT}
        for i in range(3000)
    ]
    backlog = [
        {"channel": "web", "key": f"p{i}", "state": "pending", "attempts": 0, "at": AT}
        for i in range(300)
    ]
    with db.engine.begin() as conn:
        conn.execute(text(ROWS), done)
        conn.execute(text("ANALYZE inbox"))
        conn.execute(text(ROWS), backlog)
        first = conn.execute(text("SELECT min(id) FROM inbox WHERE state = 'pending'")).scalar_one()
    return list(range(first, first + 4))


@contextmanager
def _explained(conn: Connection, postgresql: bool) -> Iterator[list[str]]:
    """Each statement run on ``conn`` meanwhile is explained instead: its plan's lines."""
    lines: list[str] = []

    def explain(*args: Any) -> tuple[str, Any]:
        sql, parameters = args[2], args[3]
        return ("EXPLAIN " if postgresql else "EXPLAIN QUERY PLAN ") + sql, parameters

    def read(*args: Any) -> None:
        lines.extend(str(row[-1]) for row in args[1].fetchall())

    event.listen(conn, "before_cursor_execute", explain, retval=True)
    event.listen(conn, "after_cursor_execute", read)
    try:
        yield lines
    finally:
        event.remove(conn, "before_cursor_execute", explain)
        event.remove(conn, "after_cursor_execute", read)


def _plans(db: Database, statement: Any, values: dict[str, Any]) -> list[str]:
    """The statement's plans: SQLite's; PostgreSQL's with the values and its generic plan
    (a prepared statement's, ``tests.support.generic_plans``)."""
    postgresql = db.dialect == "postgresql"
    found = []
    with db.engine.connect() as conn:
        with _explained(conn, postgresql) as lines, sent(conn) as statements:
            conn.execute(statement, values)  # (its plan's rows read meanwhile)
        conn.rollback()
    found.append("\n".join(lines))
    if postgresql:
        sql, given = statements[0]
        found.append(generic_plan(db.engine, sql.removeprefix("EXPLAIN "), given))
    return found


def test_the_rows_a_batch_knows_are_found_by_their_key_beside_a_backlog(db: Database) -> None:
    ids = _fill(db)
    now = {"at": NOW, "lease_until": NOW}
    cases = {
        "begin_attempts": (statements.BEGIN_ATTEMPTS, {"ids": ids, **now}),
        "claim": (statements.CLAIM, {"ids": ids, **now}),
        "claim taking along": (
            statements.CLAIM_TAKING_ALONG,
            {"ids": ids, "besides": ids, "of_channel": "web", "limit": 20, **now},
        ),
    }
    for name, (statement, values) in cases.items():
        for plan in _plans(db, statement, values):
            assert "ix_inbox_due" not in plan, (name, plan)
            key = "pk_inbox" if db.dialect == "postgresql" else "INTEGER PRIMARY KEY"
            assert key in plan, (name, plan)


def test_a_claim_counts_and_claims_only_the_pending_rows_it_names(db: Database) -> None:
    ids = _fill(db)
    lease = timedelta(minutes=1)
    with db.unit_of_work() as uow:
        uow.inbox.claim(ids[3], NOW)  # done already
    with db.unit_of_work() as uow:
        assert uow.inbox.begin_attempts(ids, now=NOW, lease=lease) == {i: 1 for i in ids[:3]}
    with db.unit_of_work() as uow:
        claimed = uow.inbox.claim_many(ids, NOW, take_along=("web", 2))
    assert sorted(claimed) == [*ids[:3], ids[3] + 1, ids[3] + 2]


OUTBOX_ROWS = """INSERT INTO outbox (channel, kind, automatic, recipient, payload, message_id,
    state, attempts, created_at, updated_at, available_at)
    VALUES ('email', 'reply', false, 'jo@example.org', '{}', :key, :state, :attempts, :at, :at,
    :at)"""


def test_the_outbox_rows_a_delivery_claims_are_found_by_their_key_beside_a_backlog(
    db: Database,
) -> None:
    sent = [{"key": f"<d{i}@x>", "state": "done", "attempts": 1, "at": AT} for i in range(3000)]
    backlog = [
        {"key": f"<p{i}@x>", "state": "pending", "attempts": 0, "at": AT} for i in range(300)
    ]
    with db.engine.begin() as conn:
        conn.execute(text(OUTBOX_ROWS), sent)
        conn.execute(text("ANALYZE outbox" if db.dialect == "postgresql" else "ANALYZE"))
        conn.execute(text(OUTBOX_ROWS), backlog)
        first = conn.execute(
            text("SELECT min(id) FROM outbox WHERE state = 'pending'")
        ).scalar_one()
    values = {"max_attempts": 8, "at": NOW, "lease_until": NOW, "token": "t", "holder": "h"}
    values |= {"dead_before": NOW, "ids": [first, first + 1], "row_id": first}
    for many in (True, False):
        for plan in _plans(db, _claim(many, True, False), values):
            assert "ix_outbox_due" not in plan, (many, plan)
            key = "pk_outbox" if db.dialect == "postgresql" else "INTEGER PRIMARY KEY"
            assert key in plan, (many, plan)
