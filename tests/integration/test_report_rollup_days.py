"""The days a refresh counts again, against the raw rows, on SQLite and PostgreSQL: a
rebuild reaches a rating given after the last ticket update.

The week is ``tests.support.report_week``'s.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from router.ratings import RatedVia
from router.report_figures import ReportFilters
from router.report_period import Period
from store.report_queries import ReportQueries
from store.report_rollups import ReportRollups
from store.report_tallies import ReportTallies
from tests.support.desk import Desk
from tests.support.report_week import worked_week
from workers.desk.ratings import rate_ticket
from workers.steps.report_refresh import refresh_reports

pytestmark = pytest.mark.integration

LATER = Period(date(2026, 11, 23), date(2026, 11, 30), "UTC")  # the week and the next days


@pytest.fixture
def week(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    yield from worked_week(database_url, tmp_path)


def test_a_rebuild_counts_a_rating_given_after_the_last_ticket_update(week: Desk) -> None:
    runtime = week.runtime
    clock: Any = runtime.clock
    refresh_reports(runtime)
    clock.at(5, 10)  # Saturday: #1 rated, which writes no ticket row
    rate_ticket(runtime, 1, good=True, via=RatedVia.PAGE, actor="cli")
    with runtime.db.unit_of_work() as uow:  # as migrations 0038 and 0039 do
        ReportRollups(uow.session).count_all_again()
    refresh_reports(runtime)
    with runtime.db.unit_of_work() as uow:
        raw, tallies = ReportQueries(uow.session), ReportTallies(uow.session)
        assert raw.ratings(LATER, ReportFilters(), by="agent") == {"ana": (1, 0)}
        assert tallies.ratings(LATER, ReportFilters(), by="agent") == raw.ratings(
            LATER, ReportFilters(), by="agent"
        )
