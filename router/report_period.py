"""The period a report covers: whole local days in the report's time zone.

``today``, ``7d`` (today and the six days before), ``30d`` or a range of dates
(both included). A period is a run of local days; its instants are
``[midnight of the first day, midnight after the last day)`` in UTC, so a day
with a clock change is 23 or 25 hours long, as the wall clock says. The
previous period is the same number of days just before.

Figures over a period shorter than ``WEEKLY_AFTER_DAYS`` days come per day,
longer ones per week (weeks start on Monday; the first and last may be cut by
the period).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKLY_AFTER_DAYS = 45
MAX_DAYS = 3660  # ten years: a longer period is surely a typo
YEARS = range(1970, 9000)  # the years a period may lie in
_DAYS = re.compile(r"^\s*(\d{1,4})\s*d\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    """Local days ``first`` to ``last`` (both included) in ``timezone``."""

    first: date
    last: date
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"a period ends on or after it starts: {self.first} to {self.last}")
        if self.first.year not in YEARS or self.last.year not in YEARS:
            raise ValueError(f"a period lies in the years {YEARS.start} to {YEARS.stop - 1}")
        if (self.last - self.first).days >= MAX_DAYS:
            raise ValueError(f"a period of more than {MAX_DAYS} days is surely a typo")
        _zone(self.timezone)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        """The first instant (UTC) of the period."""
        return day_start(self.first, self.timezone)

    @property
    def end(self) -> datetime:
        """The instant (UTC) just after the period: midnight after its last day."""
        return day_start(self.last + timedelta(days=1), self.timezone)

    def previous(self) -> Period:
        """The same number of days just before this period."""
        span = timedelta(days=self.days)
        return Period(self.first - span, self.last - span, self.timezone)

    def whole_months(self) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
        """The calendar months the period covers whole, as (first day of the first, first
        day of the last), or ``None``; and the runs of days left over, as (first, last)
        (what the monthly and daily rollups are read for)."""
        start = self.first if self.first.day == 1 else _next_month(self.first)
        end = _next_month(self.last) - timedelta(days=1)
        end = end if end == self.last else self.last.replace(day=1) - timedelta(days=1)
        if start > end:
            return None, [(self.first, self.last)]
        months = (start, end.replace(day=1))
        runs = []
        if self.first < start:
            runs.append((self.first, start - timedelta(days=1)))
        if end < self.last:
            runs.append((end + timedelta(days=1), self.last))
        return months, runs

    def rollup_spans(self) -> list[tuple[str, date, date]]:
        """The rollup rows that make up the period, as (span, first, last): the calendar
        quarters it covers whole (``"quarter"``, their first days), the months it covers
        whole around them (``"month"``, their first days), the whole weeks (Monday to
        Sunday) in the days left over (``"week"``, their Mondays), and the days left
        after them (``"day"``)."""
        months, runs = self.whole_months()
        spans = [] if months is None else _quarters_and_months(*months)
        for first, last in runs:
            monday = first + timedelta(days=-first.weekday() % 7)
            sunday = last - timedelta(days=(last.weekday() + 1) % 7)
            if sunday - monday < timedelta(days=6):
                spans.append(("day", first, last))
                continue
            spans.append(("week", monday, sunday - timedelta(days=6)))
            if first < monday:
                spans.append(("day", first, monday - timedelta(days=1)))
            if sunday < last:
                spans.append(("day", sunday + timedelta(days=1), last))
        return spans

    def each_day(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]

    @property
    def weekly(self) -> bool:
        return self.days > WEEKLY_AFTER_DAYS

    def bucket_of(self, day: date) -> date:
        """The first day of the bucket ``day`` falls in: itself, or its week's Monday
        (the period's first day for a week it cuts)."""
        if not self.weekly:
            return day
        return max(day - timedelta(days=day.weekday()), self.first)

    def buckets(self) -> list[date]:
        """The first day of each bucket, in order."""
        return sorted({self.bucket_of(d) for d in self.each_day()})

    def describe(self) -> str:
        if self.first == self.last:
            return f"{self.first.isoformat()} ({self.timezone})"
        return f"{self.first.isoformat()} to {self.last.isoformat()} ({self.timezone})"


def period_named(spec: str, *, now: datetime, timezone: str = "UTC") -> Period:
    """``"today"``, ``"7d"``, ``"30d"`` (any number of days, today included) at ``now``."""
    today = local_date(now, timezone)
    text = spec.strip().lower()
    if text == "today":
        return Period(today, today, timezone)
    found = _DAYS.match(text)
    if not found or int(found[1]) < 1:
        raise ValueError(f"a period is 'today' or a number of days like '7d', got {spec!r}")
    return Period(today - timedelta(days=int(found[1]) - 1), today, timezone)


def period_between(first: date, last: date, *, timezone: str = "UTC") -> Period:
    """From ``first`` to ``last``, both included."""
    return Period(first, last, timezone)


def local_date(at: datetime, timezone: str) -> date:
    """The date on the wall calendar of ``timezone`` at instant ``at``."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"a naive datetime has no place in a report: {at!r}")
    return at.astimezone(_zone(timezone)).date()


def day_start(day: date, timezone: str) -> datetime:
    """Local midnight of ``day`` as a UTC instant (a skipped midnight reads forward)."""
    wall = datetime.combine(day, time(0), tzinfo=_zone(timezone))
    return wall.astimezone(UTC)


def _quarters_and_months(first: date, last: date) -> list[tuple[str, date, date]]:
    """The whole months from ``first`` to ``last`` (their first days) as the whole
    quarters among them and the months before and after those."""
    begin, end = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    quarters_from = -(-begin // 3) * 3  # the first month of the first whole quarter
    quarters_to = (end + 1) // 3 * 3 - 3  # the first month of the last whole quarter
    if quarters_from > quarters_to:
        return [("month", first, last)]
    spans = [("quarter", _month(quarters_from), _month(quarters_to))]
    if begin < quarters_from:
        spans.append(("month", first, _month(quarters_from - 1)))
    if quarters_to + 2 < end:
        spans.append(("month", _month(quarters_to + 3), last))
    return spans


def _month(index: int) -> date:
    """The first day of month ``index`` (months since the year 0)."""
    return date(index // 12, index % 12 + 1, 1)


def _next_month(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
