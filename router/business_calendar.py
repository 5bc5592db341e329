"""Business calendars and business-time arithmetic for the SLA clocks.

A ``BusinessCalendar`` is a time zone, weekly opening periods in wall-clock time
(several a day, for lunch breaks) and closed dates (public holidays of a country,
resolved lazily per year, plus custom dates). Everything here is pure: instants go
in and come out as timezone-aware UTC datetimes; the zone is applied inside.

Conventions:

- A period is half-open, ``[start, end)``; an end of ``time(0, 0)`` means 24:00,
  the midnight that ends the day. ``is_open`` is false at a period's end.
- ``add_business_time`` returns the *earliest* instant at which the duration has
  elapsed, so a deadline may be exactly a period's end (the last business instant,
  e.g. 12:00 before lunch); otherwise it is open. A zero duration gives ``start``
  when open, else the next opening.
- Daylight saving: boundaries are wall-clock times converted with ``zoneinfo``
  (fold 0). A repeated hour counts twice (a 01:00-05:00 period lasts 5 h on the
  autumn change); a skipped wall time is read shifted forward by the gap, as
  ``java.time`` does (02:30 becomes 03:30 in Europe/Berlin), so 01:00-05:00 lasts
  3 h in spring. Elapsed time is always real (UTC) time.
- Holidays: ``holidays`` (fixed dates) plus, when ``country`` is set, that
  country's public holidays from the ``holidays`` package, computed per year
  on demand and cached, so any year a deadline lands in works.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

Period = tuple[time, time]
_Spans = tuple[tuple[datetime, datetime], ...]
_DAY = timedelta(days=1)
_ZERO = timedelta(0)
_MAX_CLOSED_DAYS = 3660  # about ten years without an opening: the calendar never opens
_MEMO_DAYS = 20_000  # days whose periods a calendar keeps (a simulation walks years of them)


@dataclass(frozen=True)
class BusinessCalendar:
    """When a team works: zone, weekly periods (0 = Monday) and closed dates."""

    timezone: str
    weekly: Mapping[int, tuple[Period, ...]]
    holidays: frozenset[date] = frozenset()
    country: str | None = None  # ISO 3166 code for the ``holidays`` package
    subdivision: str | None = None  # e.g. "BY" for Bavaria
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _days: tuple[tuple[tuple[timedelta, timedelta], ...], ...] = field(
        init=False, repr=False, compare=False
    )
    _totals: tuple[timedelta, ...] = field(init=False, repr=False, compare=False)
    # local date -> its UTC periods and whether the day has no clock change in its hours
    _memo: dict[date, tuple[_Spans, bool]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None
        if unknown := set(self.weekly) - set(range(7)):
            raise ValueError(f"weekdays are 0 (Monday) to 6 (Sunday), got {sorted(unknown)}")
        days = tuple(_normalise(self.weekly.get(d, ())) for d in range(7))
        if not any(days):
            raise ValueError("a business calendar needs at least one opening period")
        frozen = MappingProxyType({d: tuple(p) for d, p in sorted(self.weekly.items())})
        object.__setattr__(self, "weekly", frozen)  # a private read-only copy
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_days", days)
        object.__setattr__(self, "_totals", tuple(sum((e - s for s, e in d), _ZERO) for d in days))
        object.__setattr__(self, "_memo", {})

    def __hash__(self) -> int:
        return hash((self.timezone, self._days, self.holidays, self.country, self.subdivision))

    @classmethod
    def from_country(
        cls,
        country: str,
        subdivision: str | None = None,
        *,
        timezone: str,
        weekly: Mapping[int, tuple[Period, ...]],
        extra_dates: Iterable[date] = (),
        years: Iterable[int] = (),
    ) -> BusinessCalendar:
        """A calendar closed on ``country``'s public holidays (any year, looked up lazily).

        ``years`` only warms the cache; an unknown country or subdivision raises
        ``ValueError`` here rather than at the first deadline.
        """
        try:
            holidays_lib.country_holidays(country, subdiv=subdivision)
        except NotImplementedError as exc:
            raise ValueError(str(exc)) from None
        for year in years:
            _country_dates(country, subdivision, year)
        return cls(timezone, weekly, frozenset(extra_dates), country, subdivision)

    def is_holiday(self, day: date) -> bool:
        """Whether ``day`` (a local date) is closed whatever its weekday."""
        if day in self.holidays:
            return True
        return self.country is not None and day in _country_dates(
            self.country, self.subdivision, day.year
        )

    def is_business_day(self, day: date) -> bool:
        """Whether ``day`` (a local date) has an opening period and is no holiday."""
        return bool(self._days[day.weekday()]) and not self.is_holiday(day)

    def local_date(self, at: datetime) -> date:
        """The date ``at`` falls on in the calendar's zone."""
        return _local_date(self, _utc(at))

    @property
    def is_24x7(self) -> bool:
        """True for 24x7 calendars, where business time is plain elapsed time."""
        full = ((_ZERO, _DAY),)
        return self.country is None and not self.holidays and all(d == full for d in self._days)


def always_open(timezone: str = "UTC") -> BusinessCalendar:
    """A 24x7 calendar (urgent work): business time is real time."""
    return BusinessCalendar(timezone, {d: ((time(0), time(0)),) for d in range(7)})


def parse_period(text: str) -> Period:
    """``"09:00-12:30"`` -> ``(time(9), time(12, 30))``; ``"24:00"`` is accepted as an end."""
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"a period looks like '09:00-17:00', got {text!r}")
    end = end.strip()
    return time.fromisoformat(start.strip()), time(0) if end == "24:00" else time.fromisoformat(end)


def add_business_time(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """The instant (UTC) at which ``duration`` of business time has elapsed after ``start``."""
    start = _utc(start)
    if duration < _ZERO:
        raise ValueError(f"a business duration cannot be negative: {duration}")
    if calendar.is_24x7:
        return start + duration
    left = duration
    first = _local_date(calendar, start)
    day = first - _DAY  # a period of the day before may spill past midnight
    closed_run = 0
    while True:
        periods = _periods(calendar, day, skip_below=left if day > first else None)
        if periods is None:  # a whole day shorter than what is left: skipped cheaply
            left -= calendar._totals[day.weekday()]
            closed_run = 0
        else:
            closed_run = 0 if periods else closed_run + 1
            for opens, closes in periods:
                if closes <= start:
                    continue
                begin = max(opens, start)
                if closes - begin >= left:
                    return begin + left
                left -= closes - begin
        if closed_run > _MAX_CLOSED_DAYS:
            raise ValueError("the calendar has no opening within ten years")
        day += _DAY


def business_time_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Business time elapsed in ``[start, end)``; zero when ``end <= start``."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        return _ZERO
    if calendar.is_24x7:
        return end - start
    total = _ZERO
    first, last = _local_date(calendar, start), _local_date(calendar, end)
    day = first - _DAY
    while day <= last:
        inner = first < day < last
        periods = _periods(calendar, day, skip_below=_DAY * 2 if inner else None)
        if periods is None:  # a whole day inside the range without a clock change
            total += calendar._totals[day.weekday()]
        else:
            for opens, closes in periods:
                overlap = min(closes, end) - max(opens, start)
                if overlap > _ZERO:
                    total += overlap
        day += _DAY
    return total


def weekdays(timezone: str = "UTC") -> BusinessCalendar:
    """Monday to Friday, all day, no holidays: business days where a desk has no calendar."""
    return BusinessCalendar(timezone, {d: ((time(0), time(0)),) for d in range(5)})


def is_open(calendar: BusinessCalendar, at: datetime) -> bool:
    """Whether ``at`` falls inside a period (half-open: a period's end is closed)."""
    at = _utc(at)
    day = _local_date(calendar, at)
    for d in (day - _DAY, day):
        if any(opens <= at < closes for opens, closes in _periods(calendar, d) or ()):
            return True
    return False


def next_opening(calendar: BusinessCalendar, at: datetime) -> datetime:
    """``at`` itself when open, else the start of the next period (UTC)."""
    return add_business_time(calendar, at, _ZERO)


# --- internals -------------------------------------------------------------------------


def _periods(
    calendar: BusinessCalendar, day: date, skip_below: timedelta | None = None
) -> _Spans | None:
    """The UTC periods of local ``day``, in order and disjoint.

    Returns ``None`` instead when ``skip_below`` is given, the day has no clock change
    within its hours and its total is shorter than ``skip_below``: the caller may then
    count the day's total without building instants. A day's periods are worked out
    once per calendar and kept (they depend on nothing else).
    """
    found = calendar._memo.get(day)
    if found is None:
        found = _day_periods(calendar, day)
        if len(calendar._memo) >= _MEMO_DAYS:
            calendar._memo.clear()
        calendar._memo[day] = found
    periods, steady = found
    if steady and skip_below is not None and calendar._totals[day.weekday()] < skip_below:
        return None
    return periods


def _day_periods(calendar: BusinessCalendar, day: date) -> tuple[_Spans, bool]:
    spans = calendar._days[day.weekday()]
    if not spans or calendar.is_holiday(day):
        return (), False
    zone = calendar._zone
    midnight = datetime(day.year, day.month, day.day)
    offset = zone.utcoffset(midnight + spans[0][0])
    if offset is not None and zone.utcoffset(midnight + spans[-1][1]) == offset:
        base = (midnight - offset).replace(tzinfo=UTC)
        return tuple((base + s, base + e) for s, e in spans), True
    # A clock change inside the business day: convert each boundary, keep them ordered.
    out: list[tuple[datetime, datetime]] = []
    floor = datetime.min.replace(tzinfo=UTC)
    for s, e in spans:
        opens = max(_wall_to_utc(zone, midnight + s), floor)
        closes = max(_wall_to_utc(zone, midnight + e), opens)
        floor = closes
        if closes > opens:
            out.append((opens, closes))
    return tuple(out), False


def _wall_to_utc(zone: ZoneInfo, wall: datetime) -> datetime:
    return wall.replace(tzinfo=zone).astimezone(UTC)


def _normalise(periods: Iterable[Period]) -> tuple[tuple[timedelta, timedelta], ...]:
    """Periods as offsets from midnight, sorted, validated, touching ones merged."""
    spans: list[tuple[timedelta, timedelta]] = []
    for opens, closes in sorted((_offset(s), _offset(e) or _DAY) for s, e in periods):
        if closes <= opens:
            raise ValueError(f"a period must end after it starts: {opens}-{closes}")
        if spans and opens < spans[-1][1]:
            raise ValueError(f"periods overlap: {spans[-1]} and {(opens, closes)}")
        if spans and opens == spans[-1][1]:
            spans[-1] = (spans[-1][0], closes)
        else:
            spans.append((opens, closes))
    return tuple(spans)


def _offset(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"a naive datetime has no place in the SLA clock: {at!r}")
    return at.astimezone(UTC)


def _local_date(calendar: BusinessCalendar, at: datetime) -> date:
    return at.astimezone(calendar._zone).date()


@lru_cache(maxsize=1024)
def _country_dates(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays_lib.country_holidays(country, subdiv=subdivision, years=year))


ALWAYS = always_open()  # 24x7 in UTC; defined last, it needs the helpers above
