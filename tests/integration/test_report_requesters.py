"""The top requesters ranked and cut in the database equal the top ten of every
requester's count, on SQLite and PostgreSQL: ties at the cut decided by the name's code
points (``router.report_figures.top_ten``), two customers of one name counted together,
a requester without a name by their address, for every filter.

The week is ``tests.support.report_week``'s.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from router.report_figures import ReportFilters, top_ten
from router.report_period import Period
from store.models import Customer, Team, Ticket
from store.report_queries import ReportQueries
from tests.support.desk import Desk
from tests.support.report_week import WEEK, worked_week
from workers.desk.reports import make_report

pytestmark = pytest.mark.integration

PERIODS = (
    WEEK,
    Period(date(2026, 11, 25), date(2026, 11, 25), "UTC"),
    Period(date(2026, 11, 1), date(2026, 11, 30), "Asia/Kolkata"),
    Period(date(2026, 11, 23), date(2026, 11, 25), "America/Los_Angeles"),
)
FILTERS = (
    ReportFilters(),
    ReportFilters(team=("support",)),
    ReportFilters(agent=("ana",)),
    ReportFilters(organisation=("Acme",)),
)
# (address, name): two Zoës, names that sort differently by code point than by
# dictionary, a requester without a name
SENDERS = (
    ("zoe1@example.org", "Zoë"),
    ("zoe2@example.org", "Zoë"),
    ("zoe2@example.org", "Zoë"),
    ("emile@example.org", "Émile"),
    ("zed@example.org", "Zed"),
    ("zed2@example.org", "zed"),
    ("bo@example.org", "Bo"),
    ("cy@example.org", "Cy"),
    ("di@example.org", "Di"),
    ("eve@example.org", "Eve"),
    ("flo@example.org", "Flo"),
    ("jo@example.org", "Jo"),
)


@pytest.fixture
def week(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    yield from worked_week(database_url, tmp_path)


def test_the_top_requesters_ranked_in_the_database_are_the_top_ten_of_all(week: Desk) -> None:
    for n, (address, name) in enumerate(SENDERS):
        week.submit(f"r{n}", sender=address, name=name)
    with week.runtime.db.unit_of_work() as uow:
        raw = ReportQueries(uow.session)
        everyone = raw.volume_by(WEEK, ReportFilters(), key="requester")
        assert everyone["Zoë"] == 3 and everyone["Jo"] == 3 and len(everyone) > 10
        ranked = raw.top_requesters(WEEK, ReportFilters())
        assert ranked == top_ten(everyone)
        assert ranked[:2] == (("Jo", 3), ("Zoë", 3))
        last = ranked[-1][1]  # a tie crosses the cut: decided by the names' code points
        assert list(everyone.values()).count(last) > [n for _, n in ranked].count(last)
        for period in PERIODS:
            for filters in FILTERS:
                assert raw.top_requesters(period, filters) == top_ten(
                    raw.volume_by(period, filters, key="requester")
                )
    assert make_report(week.runtime, WEEK).top["requester"] == ranked


# (name, address, tickets): fourteen requesters alone with their names, so the ranking
# cuts at the tenth of them (2 tickets), and beside them the names it must not lose:
# "Lou" (three customers of one ticket each: 3, above the cut), "Pia" (two of one: 2,
# at the cut, ranked by the name's code points), an unnamed requester writing from the
# address another customer bears as a name ("max@example.org": 2 + 1 = 3), and an
# unnamed requester alone (1: below the cut)
CROWD = (
    *((f"Zed {n:02}", f"zed{n}@example.org", 3 if n < 6 else 2) for n in range(14)),
    ("Lou", "lou1@example.org", 1),
    ("Lou", "lou2@example.org", 1),
    ("Lou", "lou3@example.org", 1),
    ("Pia", "pia1@example.org", 1),
    ("Pia", "pia2@example.org", 1),
    ("max@example.org", "maxine@example.org", 1),
    ("", "max@example.org", 2),
    ("", "nobody@example.org", 1),
)


def test_the_top_requesters_named_only_where_they_can_rank_are_the_top_ten_of_all(
    week: Desk,
) -> None:
    at = datetime(2026, 11, 24, 12, tzinfo=UTC)
    with week.runtime.db.unit_of_work() as uow:
        team = uow.session.scalar(select(Team.id).where(Team.name == "support"))
        for n, (name, address, tickets) in enumerate(CROWD):
            customer = Customer(name=name, created_at=at)
            uow.session.add(customer)
            uow.session.flush()
            for k in range(tickets):
                uow.session.add(
                    Ticket(
                        subject=f"crowd {n}.{k}",
                        status="open",
                        priority="normal",
                        priority_rank=2,
                        channel="email",
                        requester_id=customer.id,
                        requester_address=address,
                        team_id=team,
                        access_key=f"crowd-{n}-{k}",
                        created_at=at,
                        updated_at=at,
                    )
                )
    with week.runtime.db.unit_of_work() as uow:
        raw = ReportQueries(uow.session)
        for filters in (ReportFilters(), ReportFilters(team=("support",))):
            everyone = raw.volume_by(WEEK, filters, key="requester")
            assert everyone["Lou"] == 3 and everyone["Pia"] == 2
            assert everyone["max@example.org"] == 3 and everyone["nobody@example.org"] == 1
            ranked = raw.top_requesters(WEEK, filters)
            assert ranked == top_ten(everyone)
            assert {("Lou", 3), ("max@example.org", 3), ("Pia", 2)} <= set(ranked)
            assert ranked[-1][1] == 2  # cut within a tie
