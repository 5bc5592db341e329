"""The rows an ingest batch takes along are found by their partial index on both stores,
also by a plan made without the channel's value (a prepared statement's generic plan,
SQLite's plan at prepare time): the pick no longer walks the primary key past every done
row (migration 0041)."""

from __future__ import annotations

from sqlalchemy import text

from store.db import Database
from store.inbox_statements import WAITING

ROWS = """INSERT INTO inbox (channel, idempotency_key, payload, state, attempts,
    received_at, updated_at, available_at)
    VALUES (:channel, :key, '{}', :state, :attempts, :at, :at, :at)"""


def _fill(db: Database) -> None:
    """Many done rows first, then a few waiting ones: what a desk looks like after months."""
    at = "2026-12-07 12:00:00+00:00"
    done = [
        {"channel": "web", "key": f"d{i}", "state": "done", "attempts": 1, "at": at}
        for i in range(3000)
    ]
    waiting = [
        {"channel": "web", "key": f"w{i}", "state": "pending", "attempts": i % 2, "at": at}
        for i in range(6)
    ]
    with db.engine.begin() as conn:
        conn.execute(text(ROWS), done + waiting)
        conn.execute(text("ANALYZE inbox"))


def test_the_pick_of_the_waiting_rows_uses_their_index_even_in_a_generic_plan(
    db: Database,
) -> None:
    _fill(db)
    sql = str(WAITING.compile(db.engine))
    if db.dialect == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
            conn.exec_driver_sql(f"PREPARE pick(varchar, integer) AS {sql}")
            plan = "\n".join(conn.exec_driver_sql("EXPLAIN EXECUTE pick('web', 20)").scalars())
            conn.exec_driver_sql("DEALLOCATE pick")
    else:
        with db.engine.begin() as conn:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", ("web", 20, 0)).all()
            plan = "\n".join(str(row[-1]) for row in rows)
    assert "ix_inbox_waiting" in plan, plan


def test_the_pick_takes_the_oldest_rows_no_attempt_began_on(db: Database) -> None:
    _fill(db)
    with db.engine.begin() as conn:
        picked = conn.execute(WAITING, {"of_channel": "web", "limit": 2}).scalars().all()
        keys = (
            conn.execute(
                text("SELECT idempotency_key FROM inbox WHERE id IN (:a, :b) ORDER BY id"),
                {"a": picked[0], "b": picked[1]},
            )
            .scalars()
            .all()
        )
    assert keys == ["w0", "w2"]
