"""The top requesters' bounds, on SQLite and PostgreSQL: every requester's tickets (all
of them, and per team) kept by triggers and folded by the refresh, the names more than
one customer has, and a ranking walked from the most tickets down that stops early and
still equals the top ten of every requester's count, changes not yet folded included.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, event, select, text, update
from sqlalchemy.orm import Session

import store.report_requester_bounds as bounds
import store.report_requesters as requesters
from router.report_figures import ReportFilters, top_ten
from router.report_period import Period
from store.db import Database
from store.models import (
    Customer,
    ReportNameChange,
    ReportRequesterChange,
    ReportRequesterTotal,
    ReportSharedName,
    Team,
    Ticket,
)
from store.report_queries import (
    ReportQueries,
    prepare_report_transaction,
    ticket_conditions,
    within,
)
from store.report_requester_bounds import EVERY_TEAM, count_totals, fold_changes

pytestmark = pytest.mark.integration

AT = datetime(2026, 11, 24, 12, tzinfo=UTC)
WEEK = Period(date(2026, 11, 23), date(2026, 11, 29), "UTC")
BEFORE = datetime(2026, 10, 1, 12, tzinfo=UTC)  # a ticket outside the week


@pytest.fixture
def teams(db: Database) -> Iterator[dict[str, int]]:
    with db.unit_of_work() as uow:
        made = [Team(name=name) for name in ("support", "billing")]
        uow.session.add_all(made)
        uow.session.flush()
        found = {team.name: team.id for team in made}
    yield found


def customer(session: Session, name: str) -> int:
    row = Customer(name=name, created_at=AT)
    session.add(row)
    session.flush()
    return row.id


def tickets(session: Session, requester: int, n: int, team: int | None, at: datetime = AT) -> None:
    for _ in range(n):
        session.add(
            Ticket(
                subject="bound",
                status="open",
                priority="normal",
                priority_rank=2,
                channel="email",
                requester_id=requester,
                requester_address=f"r{requester}@example.org",
                team_id=team,
                access_key=f"k{requester}-{session.info.setdefault('n', 0)}",
                created_at=at,
                updated_at=at,
            )
        )
        session.info["n"] += 1
    session.flush()


def totals(session: Session) -> dict[tuple[int, int], int]:
    rows = session.execute(select(ReportRequesterTotal)).scalars()
    return {(r.requester_id, r.team_id): r.tickets for r in rows if r.tickets}


def counted(session: Session) -> dict[tuple[int, int], int]:
    """Every requester's tickets, and per team, from the tickets themselves."""
    found: Counter[tuple[int, int]] = Counter()
    for requester, team in session.execute(select(Ticket.requester_id, Ticket.team_id)):
        found[(requester, EVERY_TEAM)] += 1
        if team is not None:
            found[(requester, team)] += 1
    return dict(found)


def test_the_totals_follow_every_ticket_added_moved_or_removed_once_folded(
    db: Database, teams: dict[str, int]
) -> None:
    support, billing = teams["support"], teams["billing"]
    with db.unit_of_work() as uow:
        s = uow.session
        ana, bo = customer(s, "Ana"), customer(s, "Bo")
        tickets(s, ana, 3, support)
        tickets(s, bo, 2, None)
    with db.unit_of_work() as uow:
        s = uow.session
        assert totals(s) == {}  # written as changes, not folded yet
        assert len(s.scalars(select(ReportRequesterChange.id)).all()) == 5
        fold_changes(s)
        assert totals(s) == counted(s) == {(ana, 0): 3, (ana, support): 3, (bo, 0): 2}
    with db.unit_of_work() as uow:
        s = uow.session
        first, second = s.scalars(
            select(Ticket.id).where(Ticket.requester_id == ana).order_by(Ticket.id).limit(2)
        )
        s.execute(update(Ticket).where(Ticket.id == first).values(team_id=billing))
        s.execute(update(Ticket).where(Ticket.id == second).values(requester_id=bo))
        s.execute(update(Ticket).where(Ticket.requester_id == bo).values(subject="same"))
        s.execute(delete(Ticket).where(Ticket.requester_id == bo, Ticket.team_id.is_(None)))
    with db.unit_of_work() as uow:
        s = uow.session
        fold_changes(s)
        assert totals(s) == counted(s)
        assert counted(s) == {
            (ana, 0): 2,
            (ana, support): 1,
            (ana, billing): 1,
            (bo, 0): 1,
            (bo, support): 1,
        }
        assert s.scalar(select(ReportRequesterChange.id)) is None


def test_a_name_is_marked_shared_while_two_customers_have_it(
    db: Database, teams: dict[str, int]
) -> None:
    with db.unit_of_work() as uow:
        s = uow.session
        first = customer(s, "Lou")
        customer(s, "Pia")
        customer(s, "")
    with db.unit_of_work() as uow:
        s = uow.session
        fold_changes(s)
        assert set(s.scalars(select(ReportSharedName.name))) == set()
        second = customer(s, "Lou")
    with db.unit_of_work() as uow:
        s = uow.session
        fold_changes(s)
        assert set(s.scalars(select(ReportSharedName.name))) == {"Lou"}
        s.execute(update(Customer).where(Customer.id == second).values(name="Pia"))
    with db.unit_of_work() as uow:
        s = uow.session
        # changed, not folded: both names count as shared until the refresh checks them
        assert set(s.scalars(select(ReportNameChange.name))) == {"Lou", "Pia"}
        fold_changes(s)
        assert set(s.scalars(select(ReportSharedName.name))) == {"Pia"}
        s.execute(delete(Customer).where(Customer.id == first))
        fold_changes(s)
        assert set(s.scalars(select(ReportSharedName.name))) == {"Pia"}
        count_totals(s)  # counted anew from the customers: the same
        assert set(s.scalars(select(ReportSharedName.name))) == {"Pia"}


# (name, tickets in the week, tickets before it, team): 40 requesters alone with their
# names, ranked by a bound that is tight for most; "Old" has the most tickets of all but
# few in the week; "Twin" is two customers whose sum ranks
CROWD = (
    *((f"Zed {n:02}", 12 - n // 4, 0, "support" if n % 2 else "billing") for n in range(40)),
    ("Old", 1, 30, "support"),
    ("Twin", 6, 0, "support"),
    ("Twin", 5, 0, "billing"),
)


def crowd(session: Session, teams: dict[str, int]) -> dict[str, int]:
    """``CROWD``'s customers and tickets; the ids by name (the last of a name)."""
    ids = {}
    for name, week, before, team in CROWD:
        ids[name] = who = customer(session, name)
        tickets(session, who, week, teams[team])
        tickets(session, who, before, teams[team], at=BEFORE)
    return ids


def test_the_walk_stops_early_and_ranks_as_every_requester_counted(
    db: Database, teams: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bounds, "FIRST_WALK", 4)  # the desk is small: walk a few at a time
    with db.unit_of_work() as uow:
        ids = crowd(uow.session, teams)
    with db.unit_of_work() as uow:
        fold_changes(uow.session)
    for filters in (ReportFilters(), ReportFilters(team=("support",))):
        with db.unit_of_work() as uow:
            s = uow.session
            where = [within(Ticket.created_at, WEEK), *ticket_conditions(filters)]
            walked = bounds.walked_requesters(s, where, filters.team, 10)
            assert walked is not None and len(walked) < len(CROWD) - 10  # stopped early
            raw = ReportQueries(s)
            everyone = raw.volume_by(WEEK, filters, key="requester")
            assert raw.top_requesters(WEEK, filters) == top_ten(everyone)
    with db.unit_of_work() as uow:  # Zed 39 (3 in the week) gets 12 more: not folded yet
        tickets(uow.session, ids["Zed 39"], 12, teams["support"])
    with db.unit_of_work() as uow:
        raw = ReportQueries(uow.session)
        everyone = raw.volume_by(WEEK, ReportFilters(), key="requester")
        ranked = raw.top_requesters(WEEK, ReportFilters())
        assert ranked == top_ten(everyone)
        assert ranked[0] == ("Zed 39", 15) and ("Twin", 11) in ranked


def test_a_name_given_after_the_refresh_is_summed_whole(
    db: Database, teams: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bounds, "FIRST_WALK", 4)
    with db.unit_of_work() as uow:
        crowd(uow.session, teams)
    with db.unit_of_work() as uow:
        fold_changes(uow.session)
    with db.unit_of_work() as uow:  # a second "Zed 30" (alone: 5, below the cut of 10)
        s = uow.session
        tickets(s, customer(s, "Zed 30"), 6, teams["billing"])
    with db.unit_of_work() as uow:
        raw = ReportQueries(uow.session)
        everyone = raw.volume_by(WEEK, ReportFilters(), key="requester")
        assert everyone["Zed 30"] == 11
        ranked = raw.top_requesters(WEEK, ReportFilters())
        assert ranked == top_ten(everyone) and ("Zed 30", 11) in ranked


def test_too_many_requesters_not_alone_are_not_named_one_by_one(
    db: Database, teams: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unnamed customers are candidates whatever their count; past ``IDS_MAX`` of them the
    ranking counts every requester rather than bind each id (SQLite refuses a statement of
    more than 32,766 parameters)."""
    monkeypatch.setattr(bounds, "FIRST_WALK", 4)
    monkeypatch.setattr(requesters, "IDS_MAX", 30)
    with db.unit_of_work() as uow:
        crowd(uow.session, teams)
        for _ in range(40):  # unnamed senders: each its address, one ticket
            tickets(uow.session, customer(uow.session, ""), 1, teams["support"])
    with db.unit_of_work() as uow:
        fold_changes(uow.session)
    widest: list[int] = []

    def count(_conn: object, _cursor: object, _sql: str, parameters: object, *_: object) -> None:
        widest.append(len(parameters) if isinstance(parameters, tuple | list | dict) else 0)

    with db.unit_of_work() as uow:
        raw = ReportQueries(uow.session)
        everyone = raw.volume_by(WEEK, ReportFilters(), key="requester")
        engine = uow.session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            ranked = raw.top_requesters(WEEK, ReportFilters())
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert ranked == top_ten(everyone)
    assert widest and max(widest) <= 30 + 10  # no IN list of the 40 unnamed and the walked


def test_a_report_plans_each_statement_for_its_own_values(db: Database) -> None:
    """psycopg prepares a statement run five times, and PostgreSQL may then keep a generic
    plan: the walk's, for any team and any requesters, read a team's whole year (613 ms
    against 29 in benchmarks.reports, from the sixth round on)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no plan cache mode")
    with db.unit_of_work() as uow:
        prepare_report_transaction(uow.session)
        assert uow.session.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
