"""A metrics scrape counts the work rows still to do or failed through the (state,
available_at) indexes, on both stores, never by a walk of every row the desk ever finished:
on a year of history that walk was about 400 ms of each scrape (600,000 rows in each of
inbox and outbox). The states are written in the statement, not bound, so its one plan is
the plan of every run (a prepared statement's too).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from store.db import Database
from store.fleet_status import read_status
from store.models import InboxItem, OutboxItem
from tests.support.generic_plans import sent

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=200)
HISTORY = 5_000


def _fill(db: Database) -> None:
    """Rows finished long ago in both tables, and a few still to do."""
    inbox: list[dict[str, object]] = [
        {
            "channel": "web",
            "idempotency_key": f"k{i}",
            "payload": {},
            "state": "done" if i >= 3 else "pending",
            "attempts": 1,
            "received_at": OLD if i >= 3 else NOW,
            "updated_at": OLD,
            "available_at": OLD,
        }
        for i in range(HISTORY)
    ]
    outbox: list[dict[str, object]] = [
        {
            "channel": "email",
            "kind": "ack",
            "automatic": True,
            "recipient": "jo@x.org",
            "payload": {},
            "message_id": f"<{i}@x>",
            "state": "done" if i >= 2 else "failed",
            "attempts": 1,
            "created_at": OLD,
            "updated_at": OLD,
            "available_at": OLD,
        }
        for i in range(HISTORY)
    ]
    with db.engine.begin() as conn:
        conn.execute(insert(InboxItem), inbox)
        conn.execute(insert(OutboxItem), outbox)
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE inbox" if db.dialect == "postgresql" else "ANALYZE"))
        if db.dialect == "postgresql":
            conn.execute(text("ANALYZE outbox"))


def _counts_sent(db: Database) -> list[str]:
    """The two counts a scrape sends, as the driver gets them."""
    with db.engine.connect() as conn, sent(conn) as seen, Session(bind=conn) as session:
        status = read_status(session, now=NOW, dead_after=timedelta(minutes=1), finished=False)
    assert status.inbox.counts == {"failed": 0, "pending": 3}
    assert status.outbox.counts == {"failed": 2, "pending": 0, "sending": 0}
    return [sql for sql, _ in seen if "GROUP BY" in sql and "FROM inbox" in sql] + [
        sql for sql, _ in seen if "GROUP BY" in sql and "FROM outbox" in sql
    ]


def test_a_scrape_counts_the_open_rows_by_their_indexes(db: Database) -> None:
    _fill(db)
    counts = _counts_sent(db)
    assert len(counts) == 2
    if db.dialect == "postgresql":  # vacuumed, the old GROUP BY walked the whole index
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE inbox"))
            conn.execute(text("VACUUM ANALYZE outbox"))
    for sql, table in zip(counts, ("inbox", "outbox"), strict=True):
        assert not any(mark in sql for mark in ("%(", "?", "$"))  # nothing bound: one plan
        with db.engine.connect() as conn:
            if db.dialect == "postgresql":
                plan = "\n".join(conn.exec_driver_sql(f"EXPLAIN {sql}").scalars())
                assert f"ix_{table}_due" in plan and "Index Cond: (state = ANY" in plan, plan
            else:
                rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
                plan = "\n".join(str(row[-1]) for row in rows)
                assert f"SEARCH {table} USING COVERING INDEX ix_{table}_due (state=?)" in plan, plan


def test_the_command_line_still_counts_every_row(db: Database) -> None:
    _fill(db)
    with db.unit_of_work() as uow:
        status = read_status(uow.session, now=NOW, dead_after=timedelta(minutes=1))
    assert status.inbox.counts == {"done": HISTORY - 3, "failed": 0, "pending": 3}
    assert status.outbox.counts == {"done": HISTORY - 2, "failed": 2, "pending": 0, "sending": 0}
