"""The clocks breached and warned in the last hour (the fleet's status and metrics, at every
scrape) are counted through their partial indexes on both stores, also in a plan made
without the moment's value (a prepared statement's generic plan), not by a scan of every
clock the desk ever ran (migration 0042)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from store.db import Database
from store.fleet_status import read_status
from store.models import Customer, SlaTimer, Ticket

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
YEAR_AGO = NOW - timedelta(days=365)


def _fill(db: Database) -> None:
    """A year of clocks, each warned and breached long ago, and a few of the last hour."""
    with db.unit_of_work() as uow:
        customer = Customer(name="Jo", attributes={}, created_at=YEAR_AGO)
        uow.session.add(customer)
        uow.session.flush()
        for i in range(1500):
            at = YEAR_AGO + timedelta(minutes=i) if i >= 3 else NOW - timedelta(minutes=10)
            ticket = Ticket(
                subject="s",
                status="closed",
                priority="normal",
                priority_rank=2,
                channel="web",
                requester_id=customer.id,
                requester_address="jo@example.org",
                access_key="k",
                created_at=at,
                updated_at=at,
            )
            uow.session.add(ticket)
            uow.session.flush()
            for kind in ("first_response", "resolution"):
                uow.session.add(
                    SlaTimer(
                        ticket_id=ticket.id,
                        kind=kind,
                        policy="p",
                        calendar="c",
                        target_s=60.0,
                        warn_share=0.75,
                        started_at=at,
                        stopped_at=at,
                        warned_at=at,
                        breached_at=at if kind == "resolution" else None,
                    )
                )
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE sla_timers" if db.dialect == "postgresql" else "ANALYZE"))


def _plan(db: Database, column: str) -> str:
    query = select(func.count()).select_from(SlaTimer).where(getattr(SlaTimer, column) >= NOW)
    sql = str(query.compile(db.engine))
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
            # (compiled for the store's engine: PostgreSQL's $1, store.engines)
            conn.exec_driver_sql(f"PREPARE since(timestamptz) AS {sql}")
            plan = conn.exec_driver_sql("EXPLAIN EXECUTE since(now())").scalars().all()
            conn.exec_driver_sql("DEALLOCATE since")
            return "\n".join(plan)
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", (NOW.isoformat(),)).all()
        return "\n".join(str(row[-1]) for row in rows)


def test_the_last_hours_breaches_and_warnings_are_counted_by_their_indexes(db: Database) -> None:
    _fill(db)
    assert "ix_sla_timers_breached" in _plan(db, "breached_at")
    assert "ix_sla_timers_warned" in _plan(db, "warned_at")
    with db.unit_of_work() as uow:
        status = read_status(uow.session, now=NOW, dead_after=timedelta(minutes=1))
    assert (status.breaches_last_hour, status.warnings_last_hour) == (3, 6)
