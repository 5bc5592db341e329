"""The top organisations from the tallies against the raw rows, on SQLite and PostgreSQL,
through the changes that move a ticket to another organisation without marking it
updated: its requester's organisation changed, its requester changed (a merge), the
organisation renamed.

The week is ``tests.support.report_week``'s.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from router.report_figures import ReportFilters
from router.report_period import Period
from store.dialect import insert_row
from store.models import Customer, Organisation, Ticket
from store.report_queries import ReportQueries
from store.report_tallies import ReportTallies
from tests.support.desk import Desk
from tests.support.report_week import WEEK, worked_week
from workers.steps.report_refresh import refresh_reports

pytestmark = pytest.mark.integration

PERIODS = (
    WEEK,
    Period(date(2026, 11, 24), date(2026, 11, 24), "UTC"),
    Period(date(2026, 11, 1), date(2026, 11, 30), "UTC"),  # a whole month
    Period(date(2026, 10, 20), date(2026, 12, 3), "UTC"),  # a month and days
    Period(date(2026, 11, 16), date(2026, 11, 29), "UTC"),  # whole weeks
    Period(date(2026, 11, 23), date(2026, 11, 25), "America/Los_Angeles"),
)
KEPT = (ReportFilters(), ReportFilters(team=("support",)), ReportFilters(team=("billing",)))


@pytest.fixture
def week(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    yield from worked_week(database_url, tmp_path)


def _both_agree(desk: Desk) -> Any:
    """The tallies' top organisations equal the raw rows' for every period and filter
    kept; the week's, as counted."""
    with desk.runtime.db.unit_of_work() as uow:
        raw, tallies = ReportQueries(uow.session), ReportTallies(uow.session)
        for period in PERIODS:
            for filters in KEPT:
                assert tallies.volume_by(period, filters, key="organisation") == raw.volume_by(
                    period, filters, key="organisation"
                )
            for filters in (ReportFilters(agent=("ana",)), ReportFilters(organisation=("Acme",))):
                assert tallies.volume_by(period, filters, key="organisation") is None
        return tallies.volume_by(WEEK, ReportFilters(), key="organisation")


def test_the_top_organisations_follow_the_organisations_and_requesters_moved(
    week: Desk,
) -> None:
    runtime = week.runtime
    clock: Any = runtime.clock
    refresh_reports(runtime)
    assert _both_agree(week) == {"Acme": 2}  # Jo's two tickets
    clock.now += timedelta(hours=2)
    assert refresh_reports(runtime) == 0  # nothing changed since
    with runtime.db.unit_of_work() as uow:
        globex = insert_row(
            uow.session,
            Organisation,
            {"name": "Globex", "created_at": clock(), "updated_at": clock()},
        )
        uow.session.execute(  # Kim (#2, Monday) joins Globex
            update(Customer).where(Customer.name == "Kim").values(organisation_id=globex)
        )
    assert refresh_reports(runtime) == 1  # Monday, where Kim's ticket counts
    assert _both_agree(week) == {"Acme": 2, "Globex": 1}
    with runtime.db.unit_of_work() as uow:  # Jo's #3 moves to Lee (no organisation)
        lee = uow.session.query(Customer.id).filter(Customer.name == "Lee").scalar()
        uow.session.execute(update(Ticket).where(Ticket.id == 3).values(requester_id=lee))
    # Monday (#3 created), Tuesday (Lee's #4) and Wednesday: #3 changed, so all its days
    assert refresh_reports(runtime) == 3
    assert _both_agree(week) == {"Acme": 1, "Globex": 1}
    with runtime.db.unit_of_work() as uow:  # named anew: read as named now, nothing counted
        uow.session.execute(
            update(Organisation).where(Organisation.name == "Acme").values(name="Acme Ltd")
        )
    assert refresh_reports(runtime) == 0
    assert _both_agree(week) == {"Acme Ltd": 1, "Globex": 1}
    with runtime.db.unit_of_work() as uow:  # out of any organisation
        uow.session.execute(
            update(Customer).where(Customer.name == "Kim").values(organisation_id=None)
        )
    assert refresh_reports(runtime) == 1
    assert _both_agree(week) == {"Acme Ltd": 1}
