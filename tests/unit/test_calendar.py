from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.business_calendar import (
    ALWAYS,
    BusinessCalendar,
    Period,
    add_business_time,
    always_open,
    business_time_between,
    is_open,
    next_opening,
    parse_period,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = {d: ((time(9), time(12)), (time(13), time(17))) for d in range(5)}  # Mon-Fri, 7 h
GERMANY = BusinessCalendar.from_country("DE", "BY", timezone="Europe/Berlin", weekly=OFFICE)
H = timedelta(hours=1)
TICK = timedelta(microseconds=1)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def new_york(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


def sundays(timezone: str, *periods: Period) -> BusinessCalendar:
    return BusinessCalendar(timezone, {6: periods})


# --- examples: a Mon-Fri 9-12, 13-17 office in Bavaria ----------------------------------


def test_a_four_hour_target_started_friday_at_16_lands_monday_at_noon_before_lunch() -> None:
    # Friday 16-17 is one hour, Monday 9-12 the other three: due at the lunch break.
    due = add_business_time(GERMANY, berlin(2025, 3, 7, 16), 4 * H)
    assert due == berlin(2025, 3, 10, 12)
    assert due.tzinfo is UTC


def test_the_lunch_break_is_not_counted() -> None:
    assert add_business_time(GERMANY, berlin(2025, 3, 10, 11), 2 * H) == berlin(2025, 3, 10, 14)
    assert business_time_between(GERMANY, berlin(2025, 3, 10, 11), berlin(2025, 3, 10, 14)) == 2 * H


def test_a_deadline_at_a_period_end_is_that_end_and_the_office_is_closed_then() -> None:
    due = add_business_time(GERMANY, berlin(2025, 3, 10, 9), 3 * H)
    assert due == berlin(2025, 3, 10, 12)
    assert not is_open(GERMANY, due)
    assert is_open(GERMANY, due - TICK)


def test_a_start_outside_hours_counts_from_the_next_opening() -> None:
    saturday = berlin(2025, 3, 8, 10)
    assert not is_open(GERMANY, saturday)
    assert next_opening(GERMANY, saturday) == berlin(2025, 3, 10, 9)
    assert add_business_time(GERMANY, saturday, 30 * timedelta(minutes=1)) == berlin(
        2025, 3, 10, 9, 30
    )
    assert add_business_time(GERMANY, berlin(2025, 3, 10, 12, 30), H) == berlin(2025, 3, 10, 14)


def test_a_zero_duration_is_the_start_when_open_else_the_next_opening() -> None:
    assert add_business_time(GERMANY, berlin(2025, 3, 10, 10), timedelta(0)) == berlin(
        2025, 3, 10, 10
    )
    assert add_business_time(GERMANY, berlin(2025, 3, 10, 12), timedelta(0)) == berlin(
        2025, 3, 10, 13
    )


def test_german_unity_day_is_skipped() -> None:
    # Thursday 2 Oct 2025 16-17, Friday 3 Oct is a holiday, Monday 9-12.
    assert add_business_time(GERMANY, berlin(2025, 10, 2, 16), 4 * H) == berlin(2025, 10, 6, 12)


def test_christmas_and_boxing_day_are_skipped() -> None:
    # Tue 23 Dec 16-17 (1 h), Wed 24 Dec is a working day (7 h), 25 and 26 are holidays.
    due = add_business_time(GERMANY, berlin(2025, 12, 23, 16), 10 * H)
    assert due == berlin(2025, 12, 29, 11)


def test_custom_dates_close_the_office_as_well() -> None:
    closed_eve = BusinessCalendar.from_country(
        "DE",
        "BY",
        timezone="Europe/Berlin",
        weekly=OFFICE,
        extra_dates=[date(2025, 12, 24), date(2025, 12, 31)],
    )
    # Tue 23 Dec 1 h, Mon 29 Dec 7 h, Tue 30 Dec 2 h.
    assert add_business_time(closed_eve, berlin(2025, 12, 23, 16), 10 * H) == berlin(
        2025, 12, 30, 11
    )
    assert closed_eve.is_holiday(date(2025, 12, 31))


def test_holidays_are_found_for_any_year_the_deadline_lands_in() -> None:
    # New Year's Day 2032 is a Thursday; nothing about 2032 was computed in advance.
    assert add_business_time(GERMANY, berlin(2031, 12, 31, 16), 2 * H) == berlin(2032, 1, 2, 10)


def test_a_regional_holiday_only_closes_its_region() -> None:
    epiphany = berlin(2025, 1, 6, 10)  # a Monday; a holiday in Bavaria, not in Berlin
    capital = BusinessCalendar.from_country("DE", "BE", timezone="Europe/Berlin", weekly=OFFICE)
    assert not is_open(GERMANY, epiphany)
    assert is_open(capital, epiphany)


def test_thirty_business_days_land_six_weeks_later_around_easter() -> None:
    # From Friday 7 Mar 2025 16:00; Good Friday and Easter Monday are closed.
    start = berlin(2025, 3, 7, 16)
    due = add_business_time(GERMANY, start, 30 * 7 * H)
    assert due == berlin(2025, 4, 22, 16)
    assert business_time_between(GERMANY, start, due) == 30 * 7 * H


# --- daylight saving ---------------------------------------------------------------------


def test_a_weekend_spring_forward_keeps_the_monday_deadline_in_local_time() -> None:
    due = add_business_time(GERMANY, berlin(2025, 3, 28, 16), 4 * H)
    assert due == berlin(2025, 3, 31, 12)
    assert due == datetime(2025, 3, 31, 10, tzinfo=UTC)  # CEST, one hour less from UTC


def test_a_night_period_lasts_one_hour_less_in_spring_and_more_in_autumn_in_berlin() -> None:
    night = sundays("Europe/Berlin", (time(1), time(5)))
    assert business_time_between(night, berlin(2025, 3, 29), berlin(2025, 3, 31)) == 3 * H
    assert business_time_between(night, berlin(2025, 10, 25), berlin(2025, 10, 27)) == 5 * H
    assert add_business_time(night, berlin(2025, 3, 29), 3 * H) == berlin(2025, 3, 30, 5)
    assert add_business_time(night, berlin(2025, 10, 25), 5 * H) == berlin(2025, 10, 26, 5)


def test_a_night_period_follows_the_clock_changes_in_new_york() -> None:
    night = sundays("America/New_York", (time(0), time(4)))
    assert business_time_between(night, new_york(2025, 3, 8), new_york(2025, 3, 10)) == 3 * H
    assert business_time_between(night, new_york(2025, 11, 1), new_york(2025, 11, 3)) == 5 * H
    assert add_business_time(night, new_york(2025, 11, 2), 4 * H + 30 * timedelta(minutes=1)) == (
        new_york(2025, 11, 2, 3, 30)
    )


def test_a_period_starting_in_the_skipped_hour_is_read_shifted_forward() -> None:
    gap = sundays("Europe/Berlin", (time(2, 30), time(4)))  # 02:30 does not exist on 30 Mar
    assert next_opening(gap, berlin(2025, 3, 29)) == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    assert business_time_between(gap, berlin(2025, 3, 29), berlin(2025, 3, 31)) == H / 2


def test_a_midnight_clock_change_in_santiago_is_handled() -> None:
    # Chile springs forward at 24:00 on Sat 6 Sep 2025: the Sunday starts at 01:00.
    every_day = BusinessCalendar(
        "America/Santiago",
        {d: ((time(0), time(0)),) for d in range(7)},
        frozenset({date(1990, 1, 1)}),
    )
    saturday_noon = datetime(2025, 9, 6, 16, tzinfo=UTC)
    assert business_time_between(every_day, saturday_noon, saturday_noon + 24 * H) == 24 * H
    sunday = BusinessCalendar("America/Santiago", {6: ((time(0), time(6)),)})
    assert business_time_between(sunday, saturday_noon, saturday_noon + 48 * H) == 5 * H


def test_a_24x7_calendar_is_plain_addition_across_a_clock_change() -> None:
    start = new_york(2025, 3, 8, 12)
    for calendar in (ALWAYS, always_open("America/New_York")):
        assert add_business_time(calendar, start, 24 * H) == start + 24 * H
        assert add_business_time(calendar, start, 24 * H) == new_york(2025, 3, 9, 13)


# --- validation ----------------------------------------------------------------------------


def test_a_calendar_without_any_hours_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least one opening period"):
        BusinessCalendar("UTC", {0: ()})


def test_overlapping_or_backwards_periods_and_unknown_zones_are_rejected() -> None:
    with pytest.raises(ValueError, match="overlap"):
        BusinessCalendar("UTC", {0: ((time(9), time(12)), (time(11), time(13)))})
    with pytest.raises(ValueError, match="end after it starts"):
        BusinessCalendar("UTC", {0: ((time(12), time(9)),)})
    with pytest.raises(ValueError, match="unknown time zone"):
        BusinessCalendar("Mars/Olympus", OFFICE)
    with pytest.raises(ValueError, match="weekdays"):
        BusinessCalendar("UTC", {7: ((time(9), time(12)),)})


def test_an_unknown_country_or_subdivision_is_rejected_when_the_calendar_is_built() -> None:
    with pytest.raises(ValueError):
        BusinessCalendar.from_country("XX", timezone="UTC", weekly=OFFICE)
    with pytest.raises(ValueError):
        BusinessCalendar.from_country("DE", "QQ", timezone="UTC", weekly=OFFICE)


def test_naive_datetimes_and_negative_durations_are_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        add_business_time(GERMANY, datetime(2025, 3, 10, 9), H)
    with pytest.raises(ValueError, match="negative"):
        add_business_time(GERMANY, berlin(2025, 3, 10, 9), -H)


def test_a_calendar_closed_for_more_than_ten_years_raises_instead_of_looping() -> None:
    closed = BusinessCalendar(
        "UTC",
        {0: ((time(9), time(17)),)},
        frozenset(date(2025, 1, 6) + timedelta(weeks=w) for w in range(600)),
    )
    with pytest.raises(ValueError, match="ten years"):
        add_business_time(closed, datetime(2025, 1, 1, tzinfo=UTC), H)


def test_periods_parse_from_text_and_24_00_means_the_end_of_the_day() -> None:
    assert parse_period("09:00-12:30") == (time(9), time(12, 30))
    assert parse_period("13:00 - 24:00") == (time(13), time(0))
    late = BusinessCalendar("UTC", {0: (parse_period("22:00-24:00"),)})
    monday = datetime(2025, 3, 10, 22, tzinfo=UTC)
    assert add_business_time(late, monday, 2 * H) == datetime(2025, 3, 11, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_period("nine to five")


def test_calendars_are_immutable_values() -> None:
    weekly = {0: ((time(9), time(17)),)}
    calendar = BusinessCalendar("UTC", weekly)
    weekly[1] = ((time(9), time(17)),)
    assert 1 not in calendar.weekly
    assert calendar == BusinessCalendar("UTC", {0: ((time(9), time(17)),)})
    assert hash(calendar) == hash(BusinessCalendar("UTC", {0: ((time(9), time(17)),)}))


# --- properties ------------------------------------------------------------------------------

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "UTC",
    "America/Santiago",  # clock changes at midnight
]
# Days around clock changes in those zones, so that many examples cross one.
DST_DAYS = [
    date(2024, 3, 31),
    date(2024, 10, 27),
    date(2025, 3, 9),
    date(2025, 11, 2),
    date(2025, 4, 6),
    date(2025, 10, 5),
    date(2025, 9, 7),
    date(2026, 3, 29),
]


def _quarter(q: int) -> time:
    return time(0) if q == 96 else time(q // 4, q % 4 * 15)


@st.composite
def day_periods(draw: st.DrawFn) -> tuple[Period, ...]:
    count = draw(st.integers(0, 3))
    points = sorted(draw(st.sets(st.integers(0, 96), min_size=2 * count, max_size=2 * count)))
    return tuple((_quarter(a), _quarter(b)) for a, b in zip(points[::2], points[1::2], strict=True))


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    week = draw(st.lists(day_periods(), min_size=7, max_size=7).filter(any))
    return BusinessCalendar(draw(st.sampled_from(ZONES)), dict(enumerate(week)))


starts = st.one_of(
    st.datetimes(datetime(2015, 1, 1), datetime(2035, 12, 31), timezones=st.just(UTC)),
    st.builds(
        lambda day, minutes: (
            datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=minutes)
        ),
        st.sampled_from(DST_DAYS),
        st.integers(-3 * 24 * 60, 3 * 24 * 60),
    ),
)
durations = st.integers(0, 200 * 3600).map(lambda s: timedelta(seconds=s))
positive = st.integers(1, 200 * 3600).map(lambda s: timedelta(seconds=s))
FAST = settings(max_examples=150, deadline=None)


@FAST
@given(calendars(), starts, durations)
def test_a_deadline_never_falls_outside_business_hours(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    due = add_business_time(calendar, start, duration)
    assert due >= start
    # Open, or the end of a period (the last business instant) when time was counted.
    assert is_open(calendar, due) or (duration > timedelta(0) and is_open(calendar, due - TICK))


@FAST
@given(calendars(), starts, durations)
def test_business_time_between_inverts_add_business_time(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    assert business_time_between(calendar, start, add_business_time(calendar, start, duration)) == (
        duration
    )


@FAST
@given(calendars(), starts, durations, durations)
def test_adding_is_monotone(
    calendar: BusinessCalendar, start: datetime, d1: timedelta, d2: timedelta
) -> None:
    shorter, longer = sorted((d1, d2))
    assert add_business_time(calendar, start, shorter) <= add_business_time(calendar, start, longer)


@FAST
@given(calendars(), starts, durations, positive)
def test_adding_in_two_steps_equals_adding_the_sum(
    calendar: BusinessCalendar, start: datetime, d1: timedelta, d2: timedelta
) -> None:
    # d2 > 0: adding zero only moves a period end on to the next opening.
    halfway = add_business_time(calendar, start, d1)
    assert add_business_time(calendar, halfway, d2) == add_business_time(calendar, start, d1 + d2)


@FAST
@given(calendars(), starts, durations, durations)
def test_business_time_between_adds_up_and_never_exceeds_real_time(
    calendar: BusinessCalendar, start: datetime, d1: timedelta, d2: timedelta
) -> None:
    middle, end = start + d1, start + d1 + d2
    whole = business_time_between(calendar, start, end)
    assert whole == business_time_between(calendar, start, middle) + business_time_between(
        calendar, middle, end
    )
    assert timedelta(0) <= whole <= end - start


@FAST
@given(calendars(), starts)
def test_the_next_opening_is_open_and_nothing_is_counted_before_it(
    calendar: BusinessCalendar, at: datetime
) -> None:
    opening = next_opening(calendar, at)
    assert opening >= at
    assert is_open(calendar, opening)
    assert business_time_between(calendar, at, opening) == timedelta(0)
    assert (opening == at) == is_open(calendar, at)


@FAST
@given(
    calendars(),
    starts,
    durations,
    st.frozensets(st.integers(-1, 120), max_size=12),
)
def test_holidays_only_push_deadlines_later(
    calendar: BusinessCalendar, start: datetime, duration: timedelta, offsets: frozenset[int]
) -> None:
    closed = frozenset(start.date() + timedelta(days=n) for n in offsets)
    with_holidays = BusinessCalendar(calendar.timezone, calendar.weekly, closed)
    later = add_business_time(with_holidays, start, duration)
    assert later >= add_business_time(calendar, start, duration)
    if is_open(with_holidays, later):
        local_day = later.astimezone(ZoneInfo(calendar.timezone)).date()
        assert not with_holidays.is_holiday(local_day)


@FAST
@given(st.sampled_from(ZONES), starts, durations)
def test_a_24x7_calendar_adds_plain_elapsed_time_in_every_zone(
    timezone: str, start: datetime, duration: timedelta
) -> None:
    # A holiday in 1990 switches off the shortcut, so the day-by-day walk is checked too.
    walked = BusinessCalendar(timezone, always_open(timezone).weekly, frozenset({date(1990, 1, 1)}))
    for calendar in (always_open(timezone), walked):
        assert add_business_time(calendar, start, duration) == start + duration
        assert business_time_between(calendar, start, start + duration) == duration
