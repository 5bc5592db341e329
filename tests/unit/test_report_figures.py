"""The report's pure definitions: periods, duration steps and percentiles, the figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.report_facts import DayCount, clock_state
from router.report_figures import AGE_BUCKETS, BacklogRow, age_bucket, backlog, top_ten, volume
from router.report_period import Period, day_start, period_named
from router.report_stats import STEPS, Durations, percentile, step_of, summarise

NOW = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)  # the day Europe/Berlin moves to summer time


def test_today_and_seven_days_are_whole_local_days_ending_today() -> None:
    assert period_named("today", now=NOW) == Period(date(2026, 3, 29), date(2026, 3, 29))
    week = period_named("7d", now=NOW, timezone="Europe/Berlin")
    assert (week.first, week.last, week.days) == (date(2026, 3, 23), date(2026, 3, 29), 7)
    assert week.previous() == Period(date(2026, 3, 16), date(2026, 3, 22), "Europe/Berlin")


def test_a_day_with_a_clock_change_lasts_what_the_wall_clock_says() -> None:
    day = Period(date(2026, 3, 29), date(2026, 3, 29), "Europe/Berlin")
    assert day.end - day.start == timedelta(hours=23)
    assert day.start == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert day_start(date(2026, 1, 1), "Asia/Kolkata") == datetime(2025, 12, 31, 18, 30, tzinfo=UTC)


@pytest.mark.parametrize("spec", ["", "0d", "week", "7", "-3d"])
def test_a_period_that_is_not_today_or_days_is_refused_with_the_reason(spec: str) -> None:
    with pytest.raises(ValueError, match="a period is 'today' or a number of days"):
        period_named(spec, now=NOW)


def test_a_long_period_is_counted_in_weeks_starting_on_monday() -> None:
    quarter = Period(date(2026, 1, 1), date(2026, 3, 31))  # a Thursday to a Tuesday
    assert quarter.weekly
    assert quarter.buckets()[:3] == [date(2026, 1, 1), date(2026, 1, 5), date(2026, 1, 12)]
    assert quarter.bucket_of(date(2026, 1, 4)) == date(2026, 1, 1)  # cut by the period


@given(st.floats(min_value=0, max_value=10**8, allow_nan=False))
def test_a_duration_is_rounded_down_by_at_most_one_percent(seconds: float) -> None:
    rounded = step_of(seconds)
    assert rounded <= seconds
    assert seconds - rounded < max(seconds * 0.01, 1.0)


def test_the_steps_widen_with_the_duration() -> None:
    assert [step_of(s) for s in (59.9, 601, 6_001, 60_059, 600_100, 10**6)] == [
        59,
        600,
        6_000,
        60_000,
        597_600,  # past 10,000 minutes, the hour
        997_200,
    ]
    assert STEPS[-1] == (None, 3600) and step_of(-5) == 0


def test_median_and_ninetieth_percentile_are_nearest_ranks() -> None:
    values = Durations.of([60, 120, 180, 240, 300, 360, 420, 480, 540, 3000])
    summary = summarise(values)
    assert (summary.count, summary.mean_s) == (10, 570)
    assert (summary.median_s, summary.p90_s) == (300, 540)  # the 5th and the 9th
    assert percentile(Durations.of([10, 20]), 50) == 10  # of an even count, the lower
    assert summarise(Durations()).median_s is None


def test_durations_add_up_as_one_set() -> None:
    assert Durations.of([1, 2]) + Durations.of([2, 700]) == Durations.of([1, 2, 2, 700])


def test_a_clock_is_met_breached_or_running() -> None:
    assert clock_state(target_s=60, consumed_s=60, stopped=True, breached=False) == "met"
    assert clock_state(target_s=60, consumed_s=61, stopped=True, breached=False) == "breached"
    assert clock_state(target_s=60, consumed_s=0, stopped=False, breached=True) == "breached"
    assert clock_state(target_s=60, consumed_s=90, stopped=False, breached=False) == "running"


def test_volume_puts_each_day_in_its_bucket_beside_the_previous_period() -> None:
    period = Period(date(2026, 3, 2), date(2026, 3, 3))
    rows = [
        DayCount(date(2026, 3, 2), "email", "billing", 2, 1),
        DayCount(date(2026, 3, 3), "web", "general", 1, 0),
    ]
    before = [DayCount(date(2026, 2, 28), "email", "billing", 5, 5)]
    figure = volume(period, rows, before)
    assert [(b.start, b.created, b.resolved) for b in figure.buckets] == [
        (date(2026, 3, 2), 2, 1),
        (date(2026, 3, 3), 1, 0),
    ]
    assert figure.buckets[0].created_by_channel == {"email": 2}
    assert [(c.name, c.created, c.previous_created) for c in figure.by_channel] == [
        ("email", 2, 5),
        ("web", 1, 0),
    ]
    empty = volume(period, [], [])
    assert (empty.total.created, empty.by_category) == (0, ())


def test_the_backlog_tells_the_queue_the_agents_and_the_customers_apart() -> None:
    figure = backlog(
        [
            BacklogRow("new", "high", False, 0, 2),
            BacklogRow("open", "normal", True, 4, 1),
            BacklogRow("pending", "urgent", True, 1, 3),
        ]
    )
    assert (figure.waiting_in_queue, figure.waiting_for_agent, figure.waiting_on_customer) == (
        2,
        1,
        3,
    )
    assert list(figure.by_priority) == ["urgent", "high", "normal"]
    assert list(figure.by_age) == [label for label, _ in AGE_BUCKETS]
    assert age_bucket(NOW - timedelta(days=30), NOW) == 4


def test_top_ten_keeps_the_ten_largest_then_by_name() -> None:
    counts = {f"c{n:02d}": n % 4 for n in range(20)}
    ranked = top_ten(counts)
    assert len(ranked) == 10 and ranked[0] == ("c03", 3)
    assert top_ten({}) == () and top_ten({"x": 0}) == ()
