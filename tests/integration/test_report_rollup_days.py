"""The days a refresh counts again, against the raw rows, on SQLite and PostgreSQL: a
rebuild reaches a rating given after the last ticket update; the day a clock restarted,
a resolution replaced, a rating, a reply or a ticket deleted leaves is counted again
(the triggers write down the old instant: migration 0040).

The week is ``tests.support.report_week``'s.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from router.ratings import RatedVia
from router.report_figures import ReportFilters
from router.report_period import Period
from router.vocabulary import Status
from store.models import Message, Rating, SlaTimer, Ticket
from store.report_bins import ReportBins
from store.report_queries import ReportQueries
from store.report_rollups import ReportRollups
from store.report_tallies import ReportTallies
from tests.support.desk import Desk
from tests.support.report_week import worked_week
from workers.desk.ratings import rate_ticket
from workers.desk.replies import answer_ticket
from workers.desk.ticket_status import set_ticket_status
from workers.steps.report_refresh import refresh_reports

pytestmark = pytest.mark.integration

LATER = Period(date(2026, 11, 23), date(2026, 11, 30), "UTC")  # the week and the next days


DAYS = [date(2026, 11, 23) + timedelta(days=n) for n in range(7)]  # Monday to Sunday


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


def _agree(desk: Desk) -> None:
    """The rollups and tallies of each day, and of the days together, are the raw rows'."""
    with desk.runtime.db.unit_of_work() as uow:
        raw = ReportQueries(uow.session)
        rollups, tallies = ReportRollups(uow.session), ReportTallies(uow.session)
        bins = ReportBins(uow.session)
        for period in (*(Period(d, d, "UTC") for d in DAYS), LATER):
            every = ReportFilters()
            assert (period, rollups.day_counts(period, every)) == (
                period,
                raw.day_counts(period, every),
            )
            assert (period, tallies.clock_counts(period, every)) == (
                period,
                raw.clock_counts(period, every),
            )
            assert (period, tallies.ratings(period, every, by="agent")) == (
                period,
                raw.ratings(period, every, by="agent"),
            )
            assert (period, bins.person_facts(period, every, by="agent")) == (
                period,
                raw.person_facts(period, every, by="agent"),
            )


def _started(desk: Desk, ticket: int, kind: str) -> Any:
    with desk.runtime.db.unit_of_work() as uow:
        query = select(SlaTimer.started_at).where(
            SlaTimer.ticket_id == ticket, SlaTimer.kind == kind
        )
        return uow.session.scalar(query)


@pytest.fixture
def answered_week(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    """The week with a target for the next response: its clock restarts in place."""
    yield from worked_week(database_url, tmp_path, next_response="2h")


def test_a_clock_restarted_leaves_no_clock_counted_on_its_old_day(answered_week: Desk) -> None:
    week = answered_week
    runtime = week.runtime
    clock: Any = runtime.clock
    refresh_reports(runtime)
    clock.at(2, 14)  # Wednesday: Lee writes on #4, which ben answered: its clock starts
    week.submit("w4-more", sender="lee@example.org", name="Lee", ticket_number=4)
    assert _started(week, 4, "next_response") == clock.now
    refresh_reports(runtime)
    clock.at(3, 10)  # Thursday: ben answers, Lee writes again: the same clock restarts
    answer_ticket(runtime, 4, "ben", "Try this.")
    clock.at(3, 11)
    week.submit("w4-again", sender="lee@example.org", name="Lee", ticket_number=4)
    assert _started(week, 4, "next_response") == clock.now
    refresh_reports(runtime)  # Wednesday has no day of #4 left but the one it had
    _agree(week)


def test_a_resolution_replaced_twice_between_refreshes_leaves_no_count_on_its_day(
    week: Desk,
) -> None:
    runtime = week.runtime
    clock: Any = runtime.clock
    clock.at(3, 10)  # Thursday: cy resolves #2 (created Monday, nobody answered)
    set_ticket_status(runtime, 2, Status.RESOLVED, actor="agent:cy")
    refresh_reports(runtime)
    for day in (4, 5):  # Friday and Saturday: reopened and resolved again, no refresh
        clock.at(day, 9)
        set_ticket_status(runtime, 2, Status.OPEN, actor="agent:cy", reason="not paid")
        clock.at(day, 10)
        set_ticket_status(runtime, 2, Status.RESOLVED, actor="agent:cy")
    refresh_reports(runtime)  # #2's resolutions: Friday (the earlier) and Saturday
    _agree(week)


def test_a_rating_deleted_leaves_no_count_on_its_day(week: Desk) -> None:
    runtime = week.runtime
    clock: Any = runtime.clock
    clock.at(5, 10)  # Saturday: #1 rated
    rate_ticket(runtime, 1, good=True, via=RatedVia.PAGE, actor="cli")
    refresh_reports(runtime)
    with runtime.db.unit_of_work() as uow:  # by hand (no use case deletes a rating)
        uow.session.execute(delete(Rating).where(Rating.ticket_id == 1))
    refresh_reports(runtime)
    _agree(week)


def test_a_reply_no_longer_an_agents_or_deleted_leaves_no_count_on_its_day(week: Desk) -> None:
    runtime = week.runtime
    clock: Any = runtime.clock
    refresh_reports(runtime)
    replies = []
    for day in (3, 4):  # Thursday and Friday: ben answers #4 again
        clock.at(day, 10)
        answer_ticket(runtime, 4, "ben", f"Any news? ({day})")
        with runtime.db.unit_of_work() as uow:
            replies.append(uow.session.scalar(select(func.max(Message.id))))
    refresh_reports(runtime)
    _agree(week)
    thursday, friday = replies
    with runtime.db.unit_of_work() as uow:  # by hand: as deleting its agent sets it NULL
        uow.session.execute(update(Message).where(Message.id == thursday).values(agent_id=None))
        uow.session.execute(delete(Message).where(Message.id == friday))
    refresh_reports(runtime)
    _agree(week)


def test_a_ticket_deleted_leaves_no_count_on_its_days(week: Desk) -> None:
    runtime = week.runtime
    refresh_reports(runtime)
    with runtime.db.unit_of_work() as uow:  # by hand (no use case deletes a ticket)
        uow.session.execute(delete(Ticket).where(Ticket.id == 2))
    refresh_reports(runtime)
    _agree(week)
