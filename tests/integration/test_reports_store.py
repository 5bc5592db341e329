"""The report's figures on a small desk worked through the use cases, against values
computed by hand; the summing queries and the rollups against the definitions in
``router.report_facts`` applied ticket by ticket. On SQLite and PostgreSQL.

The week is ``tests.support.report_week``'s (hours in ``H``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from router.report_facts import clock_counts, day_counts, person_facts, speed_facts, volume_by
from router.report_figures import ReportFilters, volume
from router.report_period import Period
from router.vocabulary import Status
from store.models import Ticket
from store.report_bins import ReportBins
from store.report_queries import ReportQueries
from store.report_records import clock_records, ticket_records
from store.report_rollups import ReportRollups
from tests.support.desk import Desk
from tests.support.report_week import WEEK, H, worked_week
from workers.desk.reports import make_report
from workers.desk.ticket_status import set_ticket_status
from workers.steps.report_refresh import refresh_reports

pytestmark = pytest.mark.integration


@pytest.fixture
def week(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    yield from worked_week(database_url, tmp_path)


def _report(desk: Desk, period: Period = WEEK, **filters: tuple[str, ...]) -> Any:
    return make_report(desk.runtime, period, ReportFilters(**filters))


def test_the_volume_of_the_week_is_what_was_counted_by_hand(week: Desk) -> None:
    volume = _report(week).volume
    assert [(b.start.day, b.created, b.resolved) for b in volume.buckets] == [
        (23, 3, 1),
        (24, 1, 0),
        (25, 0, 1),  # #3 resolved on Tuesday was reopened: it counts on Wednesday
    ]
    assert (volume.total.created, volume.total.resolved) == (4, 2)
    assert (volume.total.previous_created, volume.total.previous_resolved) == (0, 0)
    assert [(c.name, c.created, c.resolved) for c in volume.by_category] == [
        ("general", 3, 2),
        ("billing", 1, 0),
    ]
    assert [(c.name, c.created) for c in volume.by_channel] == [("web", 4)]
    later = _report(week, Period(date(2026, 11, 26), date(2026, 11, 28), "UTC")).volume
    assert (later.total.previous_created, later.total.previous_resolved) == (4, 2)


def test_the_backlog_is_what_is_open_now(week: Desk) -> None:
    backlog = _report(week).backlog
    assert backlog.total == 2
    assert dict(backlog.by_status) == {"open": 1, "pending": 1}
    assert dict(backlog.by_priority) == {"normal": 2}
    assert backlog.by_age["1-3 days"] == 2 and sum(backlog.by_age.values()) == 2
    assert (backlog.waiting_in_queue, backlog.waiting_for_agent) == (0, 1)
    assert backlog.waiting_on_customer == 1


def test_speed_in_wall_and_business_time_is_what_was_counted_by_hand(week: Desk) -> None:
    speed = _report(week).speed
    fr, frb = speed.first_response_wall, speed.first_response_business
    assert (fr.count, fr.mean_s, fr.median_s, fr.p90_s) == (3, 23400, 3600, 18 * H)
    assert (frb.count, frb.mean_s, frb.median_s, frb.p90_s) == (3, 4200, 3600, 2 * H)
    res, resb = speed.resolution_wall, speed.resolution_business
    assert (res.count, res.mean_s, res.median_s, res.p90_s) == (2, 22 * H, 2 * H, 42 * H)
    assert (resb.count, resb.mean_s, resb.median_s, resb.p90_s) == (2, 3.5 * H, 2 * H, 5 * H)
    assert (speed.resolved, speed.replies_per_ticket, speed.reopen_rate) == (2, 1.5, 0.5)


def test_people_per_agent_and_team_are_what_was_counted_by_hand(week: Desk) -> None:
    report = _report(week)
    agents = {p.name: p for p in report.agents}
    assert set(agents) == {"ana", "ben"}
    ana, ben = agents["ana"], agents["ben"]
    assert (ana.handled, ana.resolved, ana.reopened) == (2, 2, 1)
    assert (ana.median_handling_s, ana.median_first_response_s) == (2 * H, 1800)
    assert (ben.handled, ben.resolved, ben.median_handling_s) == (1, 0, None)
    assert ben.median_first_response_s == H
    assert ana.satisfaction is None and ana.mean_load is None  # no ratings, no samples
    (support,) = report.teams
    assert (support.name, support.handled, support.resolved, support.reopened) == (
        "support",
        3,
        2,
        1,
    )
    assert (support.median_handling_s, support.median_first_response_s) == (2 * H, H)


def test_promises_count_each_clock_met_breached_or_running(week: Desk) -> None:
    promises = _report(week).promises
    total = promises.total
    assert (total.met, total.breached, total.running, total.attainment) == (3, 3, 2, 0.5)
    assert [(a.name, a.met, a.breached, a.running) for a in promises.by_team] == [
        ("billing", 0, 1, 1),
        ("support", 3, 2, 1),
    ]
    assert [(a.name, a.met, a.breached, a.running) for a in promises.by_clock] == [
        ("first_response", 2, 2, 0),
        ("resolution", 1, 1, 2),
    ]
    assert [a.name for a in promises.by_policy] == ["standard"]
    assert dict(promises.breaches_by_step) == {0: 2, 1: 1}  # cy was told of #2 at step 1


def test_the_top_tens_rank_by_tickets_created(week: Desk) -> None:
    top = _report(week).top
    assert top["category"] == (("general", 3), ("billing", 1))
    assert top["tag"] == (("vpn", 2), ("login", 1))
    assert top["organisation"] == (("Acme", 2),)
    assert top["requester"] == (("Jo", 2), ("Kim", 1), ("Lee", 1))
    assert top["form"] == ()  # no data: no ticket came through a form


def test_filters_narrow_every_figure(week: Desk) -> None:
    report = _report(week, team=("billing",))
    assert report.volume.total.created == 1 and report.backlog.total == 1
    assert report.speed.first_response_wall.count == 0 and report.agents == ()
    assert _report(week, agent=("ben",)).volume_from == "tickets"  # not in the rollups
    assert _report(week, agent=("ben",)).volume.total.created == 1
    assert _report(week, organisation=("Acme",)).volume.total.resolved == 2


PERIODS = (
    WEEK,
    Period(date(2026, 11, 24), date(2026, 11, 24), "UTC"),
    Period(date(2026, 11, 1), date(2026, 11, 30), "Asia/Kolkata"),
    Period(date(2026, 11, 23), date(2026, 11, 25), "America/Los_Angeles"),
)
FILTERS = (
    ReportFilters(),
    ReportFilters(team=("support",)),
    ReportFilters(category=("billing", "general"), priority=("normal",)),
    ReportFilters(agent=("ana",)),
    ReportFilters(organisation=("Acme",)),
)


def _close(value: Any) -> Any:
    """Floats to 6 decimals (a database sums in another order), recursively."""
    if isinstance(value, float):
        return round(value, 6)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _close(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {k: _close(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_close(v) for v in value]
    return value


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: f"{p.first}-{p.timezone}")
def test_the_summing_queries_count_what_the_definitions_count(week: Desk, period: Period) -> None:
    with week.runtime.db.unit_of_work() as uow:
        raw = ReportQueries(uow.session)
        for filters in FILTERS:
            records = list(ticket_records(uow.session, filters))
            clocks = list(clock_records(uow.session, filters))
            assert raw.day_counts(period, filters) == day_counts(records, period)
            assert _close(raw.speed_facts(period, filters)) == _close(speed_facts(records, period))
            assert raw.clock_counts(period, filters) == clock_counts(clocks, period)
            for by in ("agent", "team"):
                handled = raw.handled(period, filters, by=by)
                assert _close(raw.person_facts(period, filters, by=by)) == _close(
                    person_facts(records, period, by=by, handled=handled)
                )
            for key in ("category", "tag", "organisation", "requester", "form"):
                assert raw.volume_by(period, filters, key=key) == volume_by(
                    records, period, key=key
                )


QUARTERS = (  # read from the rows of a whole quarter, and the months and days around it
    Period(date(2026, 10, 1), date(2026, 12, 31), "UTC"),
    Period(date(2026, 8, 30), date(2027, 2, 2), "UTC"),
)
WEEKS = (  # read from the rows of whole weeks, and the days around them
    Period(date(2026, 11, 16), date(2026, 11, 29), "UTC"),
    Period(date(2026, 11, 22), date(2026, 12, 2), "UTC"),
)


def test_the_rollups_equal_the_raw_rows_and_follow_every_change(week: Desk) -> None:
    runtime = week.runtime

    def both_agree() -> None:
        with runtime.db.unit_of_work() as uow:
            raw, rollups = ReportQueries(uow.session), ReportRollups(uow.session)
            for period in (
                *PERIODS[:2],
                Period(date(2026, 11, 1), date(2026, 11, 30), "UTC"),  # a whole month
                Period(date(2026, 10, 20), date(2026, 12, 3), "UTC"),  # a month and days
                *QUARTERS,
                *WEEKS,
            ):
                for filters in FILTERS[:3]:
                    if not period.weekly:  # (a weekly period's rollups come per week: below)
                        assert rollups.day_counts(period, filters) == raw.day_counts(
                            period, filters
                        )
                    assert rollups.created_by_category(period, filters) == raw.volume_by(
                        period, filters, key="category"
                    )
                for filters in FILTERS[:2]:  # the filters the bins keep
                    bins = ReportBins(uow.session)
                    assert _close(bins.speed_facts(period, filters)) == _close(
                        raw.speed_facts(period, filters)
                    )
                    for by in ("agent", "team"):
                        assert _close(bins.person_facts(period, filters, by=by)) == _close(
                            raw.person_facts(period, filters, by=by)
                        )
                assert ReportBins(uow.session).speed_facts(period, FILTERS[2]) is None
            weekly = Period(date(2026, 10, 1), date(2026, 12, 31), "America/Los_Angeles")
            for filters in FILTERS[:3]:  # read per week from the rollups, per day raw
                assert volume(
                    weekly,
                    rollups.day_counts(weekly, filters) or [],
                    rollups.day_counts(weekly.previous(), filters) or [],
                ) == volume(
                    weekly,
                    raw.day_counts(weekly, filters),
                    raw.day_counts(weekly.previous(), filters),
                )

    assert refresh_reports(runtime) == 3  # the first refresh counts every day
    both_agree()
    assert refresh_reports(runtime) == 0  # nothing changed since
    runtime.clock.now += timedelta(hours=1)  # type: ignore[attr-defined]
    set_ticket_status(runtime, 3, Status.OPEN, actor="agent:ana")  # Wednesday loses it
    set_ticket_status(runtime, 1, Status.CLOSED, actor="agent:ana")  # Monday keeps it
    runtime.clock.now += timedelta(hours=1)  # type: ignore[attr-defined]
    # Monday (#1, #3 created, #1 answered), Tuesday (#3 answered) and Wednesday (#3)
    assert refresh_reports(runtime) == 3
    both_agree()
    with runtime.db.unit_of_work() as uow:
        counted = ReportRollups(uow.session).day_counts(WEEK, ReportFilters())
    assert counted is not None and sum(r.resolved for r in counted) == 1
    settings = runtime.settings
    runtime.settings = settings.model_copy(
        update={"reports": settings.reports.model_copy(update={"timezone": "Asia/Tokyo"})}
    )
    try:  # another time zone: counted afresh, in its own days
        refresh_reports(runtime)
        with runtime.db.unit_of_work() as uow:
            tokyo = Period(date(2026, 11, 23), date(2026, 11, 25), "Asia/Tokyo")
            raw, rollups = ReportQueries(uow.session), ReportRollups(uow.session)
            assert rollups.day_counts(tokyo, ReportFilters()) == raw.day_counts(
                tokyo, ReportFilters()
            )
    finally:
        runtime.settings = settings


def test_a_refresh_counts_what_changed_since_the_last_once_it_is_committed(week: Desk) -> None:
    runtime = week.runtime
    if runtime.db.dialect != "postgresql":
        pytest.skip("SQLite has one writer: no change commits while a refresh runs")
    assert refresh_reports(runtime) == 3  # every day
    assert refresh_reports(runtime) == 0  # right after it: nothing changed, nothing counted
    with runtime.db.unit_of_work() as late:  # #4 (Tuesday) changed, committed after a refresh
        late.session.execute(update(Ticket).where(Ticket.id == 4).values(priority="urgent"))
        late.session.flush()
        assert refresh_reports(runtime) == 0  # not committed: not seen, and not lost
    assert refresh_reports(runtime) == 1  # Tuesday
    with runtime.db.unit_of_work() as uow:
        raw, rollups = ReportQueries(uow.session), ReportRollups(uow.session)
        urgent = ReportFilters(priority=("urgent",))
        assert rollups.day_counts(WEEK, urgent) == raw.day_counts(WEEK, urgent) != []
    assert refresh_reports(runtime) == 0


def test_the_scheduler_keeps_the_rollups_and_agents_load_samples_current(week: Desk) -> None:
    from sqlalchemy import func, select

    from store.models import AgentLoadDay, ReportDay
    from workers.runtime.scheduler import Scheduler

    runtime = week.runtime
    settings = runtime.settings
    runtime.settings = settings.model_copy(
        update={"reports": settings.reports.model_copy(update={"refresh_s": 0.001})}
    )
    try:
        scheduler = Scheduler(runtime)
        time.sleep(0.01)
        scheduler.sweep(drain=False)
        runtime.clock.now += timedelta(minutes=1)  # type: ignore[attr-defined]
        time.sleep(0.01)
        scheduler.sweep(drain=False)  # the same five-minute slot: no second sample
        runtime.clock.now += timedelta(minutes=5)  # type: ignore[attr-defined]
        time.sleep(0.01)
        scheduler.sweep(drain=False)
    finally:
        runtime.settings = settings
    with runtime.db.unit_of_work() as uow:
        assert (uow.session.scalar(select(func.count()).select_from(ReportDay)) or 0) > 0
        samples = {
            row.agent_id: (row.samples, row.load_sum, row.peak)
            for row in uow.session.scalars(select(AgentLoadDay))
        }
    assert len(samples) == 3 and all(n == 2 for n, _, _ in samples.values())
    (ana,) = [p for p in _report(week).agents if p.name == "ana"]
    assert (ana.mean_load, ana.peak_load) == (0.0, 0)  # both of ana's tickets are resolved
    (ben,) = [p for p in _report(week).agents if p.name == "ben"]
    assert (ben.mean_load, ben.load_share, ben.peak_load) == (1.0, 0.2, 1)  # 1 of 5


TALLY_PERIODS = (
    WEEK,
    Period(date(2026, 11, 24), date(2026, 11, 24), "UTC"),
    Period(date(2026, 11, 1), date(2026, 11, 30), "UTC"),  # a whole month
    Period(date(2026, 10, 20), date(2026, 12, 3), "UTC"),  # a month and days
    Period(date(2026, 11, 23), date(2026, 11, 25), "America/Los_Angeles"),
    *QUARTERS,
    *WEEKS,
)


def test_the_tallies_equal_the_raw_rows_and_follow_ratings_forms_and_the_sweep(
    week: Desk,
) -> None:
    from sqlalchemy import update

    from router.ratings import RatedVia
    from store.models import Ticket
    from store.report_tallies import ReportTallies
    from workers.desk.ratings import rate_ticket
    from workers.steps.sla_sweep import sweep_sla

    runtime = week.runtime
    clock: Any = runtime.clock

    def both_agree() -> None:
        with runtime.db.unit_of_work() as uow:
            raw, tallies = ReportQueries(uow.session), ReportTallies(uow.session)
            for period in TALLY_PERIODS:
                for filters in FILTERS[:2]:  # the filters the tallies keep
                    for key in ("tag", "form"):
                        assert tallies.volume_by(period, filters, key=key) == raw.volume_by(
                            period, filters, key=key
                        )
                    for by in ("agent", "team"):
                        assert tallies.ratings(period, filters, by=by) == raw.ratings(
                            period, filters, by=by
                        )
                for filters in (
                    *FILTERS[:2],
                    ReportFilters(priority=("normal",)),
                    ReportFilters(team=("billing",), priority=("normal", "high")),
                ):
                    assert tallies.clock_counts(period, filters) == raw.clock_counts(
                        period, filters
                    )
                for filters in FILTERS[2:]:
                    assert tallies.ratings(period, filters, by="agent") is None
                    assert tallies.volume_by(period, filters, key="tag") is None
                assert tallies.clock_counts(period, FILTERS[3]) is None

    def counted() -> Any:
        with runtime.db.unit_of_work() as uow:
            tallies = ReportTallies(uow.session)
            return (
                tallies.ratings(WEEK, ReportFilters(), by="agent"),
                tallies.volume_by(WEEK, ReportFilters(), key="form"),
                tallies.clock_counts(WEEK, ReportFilters()),
            )

    rate_ticket(runtime, 1, good=True, via=RatedVia.PAGE, actor="cli")
    rate_ticket(runtime, 3, good=False, via=RatedVia.PAGE, actor="cli")
    refresh_reports(runtime)
    both_agree()
    ratings, forms, clocks = counted()
    assert ratings == {"ana": (1, 1)} and forms == {}
    assert clocks is not None and clocks[1] == {0: 2, 1: 1}  # #2's told its assignee
    clock.now += timedelta(minutes=20)
    rate_ticket(runtime, 1, good=False, via=RatedVia.PAGE, actor="cli")  # changed its mind
    with runtime.db.unit_of_work() as uow:
        uow.session.execute(
            update(Ticket).where(Ticket.id.in_([2, 4])).values(form="vpn", updated_at=clock.now)
        )
    five = week.submit("w5", sender="max@example.org", name="Max")  # Wed 12:20, due 13:20
    refresh_reports(runtime)
    both_agree()
    assert counted()[0] == {"ana": (0, 2)} and counted()[1] == {"vpn": 2}
    clock.now += timedelta(hours=2)  # past the look-back: only the sweep changes a clock
    refresh_reports(runtime)
    before = counted()[2]
    swept = sweep_sla(runtime).breaches  # #5's first response, #2's resolution; no ticket changed
    sweep_sla(runtime)
    assert refresh_reports(runtime) == 2  # Monday and Wednesday, where those clocks started
    both_agree()
    after = counted()[2]
    assert before is not None and after is not None and five == 5
    assert swept == 2 and sum(after[1].values()) == sum(before[1].values()) + swept
