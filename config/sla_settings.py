"""Settings of the SLA: business calendars, policies and the escalation chain (``[sla]``).

::

    [sla]
    manager = "sam"                       # an agent name: the last step of the chain
    bump_priority_on_breach = true
    team_calendars = { support = "berlin" }
    default_calendar = "24x7"             # for a team without a calendar of its own

    [[sla.calendars]]
    name = "berlin"
    timezone = "Europe/Berlin"
    country = "DE"                        # public holidays from the ``holidays`` package
    subdivision = "BY"
    hours = { mon = ["09:00-12:00", "13:00-17:00"], tue = "09:00-17:00" }
    extra_dates = [2026-12-24]            # further closed days

    [[sla.policies]]                      # tried in order: the first that matches applies
    name = "urgent"
    when = { priority = ["urgent"] }      # priority, category, team, tier, channel
    calendar = "24x7"                     # else the team's calendar, else default_calendar
    first_response = "30m"
    resolution = "4h"

    [[sla.escalation]]                    # at the breach, then after further delays
    to = "assignee"                       # assignee | supervisor | manager | an agent name
    after = "0m"

Durations are business time on the calendar in force: a number of seconds, or a
string of parts like ``"4h"``, ``"30m"``, ``"1h30m"``, ``"90s"``, ``"2d"``.
**A day is 8 hours of business time** (``"3d"`` is 24 business hours, about three
working days of an 8-hour office), not 24 hours of business time and not "the
same time three working days later": a target is a fixed amount of business time.
Write ``"72h"`` for 72 business hours. A calendar named ``"24x7"`` is built in
(always open, UTC); ``hours = "24x7"`` makes a calendar open around the clock
(closed only on its holidays, if it has any).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from functools import cache
from itertools import pairwise
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
from holidays.registry import EntityLoader
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from config.base import Frozen

ALWAYS_OPEN = "24x7"  # the built-in calendar, and the ``hours`` value of an always-open one
BUSINESS_DAY = timedelta(hours=8)  # what "1d" means
MAX_DURATION = 365 * BUSINESS_DAY
ROLES = ("assignee", "supervisor", "manager")  # escalation recipients that are not names
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_UNITS = {
    "d": BUSINESS_DAY,
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "s": timedelta(seconds=1),
}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])", re.IGNORECASE)
_DURATION = re.compile(r"^(?:\s*\d+(?:\.\d+)?\s*[dhms])+\s*$", re.IGNORECASE)
_CLOCK = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


@cache
def _country_codes() -> frozenset[str]:
    """The holidays package's country codes (alpha-2, alpha-3 and aliases such as UK)."""
    return frozenset(EntityLoader.get_country_codes())


def parse_duration(value: Any) -> Any:
    """Seconds (an int) or ``"1d2h30m15s"`` (any of the parts, in that order) as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string like '4h'")
    if isinstance(value, int):
        duration = timedelta(seconds=value)
    elif isinstance(value, str):
        if not _DURATION.match(value):
            raise ValueError(
                f"a duration looks like '30m', '4h', '1h30m' or '2d' (d = 8 business hours), "
                f"got {value!r}"
            )
        parts = [(float(n), unit.lower()) for n, unit in _PART.findall(value)]
        units = [unit for _, unit in parts]
        if units != sorted(units, key="dhms".index) or len(set(units)) != len(units):
            raise ValueError(f"give each unit once, largest first (as in '1d4h'), got {value!r}")
        duration = sum((n * _UNITS[unit] for n, unit in parts), timedelta(0))
    else:
        raise ValueError("a duration is a number of seconds or a string like '4h'")
    if duration < timedelta(0):
        raise ValueError("a duration cannot be negative")
    if duration > MAX_DURATION:
        raise ValueError(f"a duration over 365d ({MAX_DURATION}) is surely a typo")
    return duration


def _seconds(value: timedelta) -> int | float:
    seconds = value.total_seconds()
    return int(seconds) if seconds.is_integer() else seconds


# Business time; dumped as seconds so that a dumped configuration reads back the same.
Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(_seconds, return_type=int | float, when_used="json"),
]


def _positive(value: timedelta | None) -> timedelta | None:
    if value is not None and value <= timedelta(0):
        raise ValueError("a target must be longer than zero")
    return value


Target = Annotated[Duration | None, AfterValidator(_positive)]


def _listed(value: Any) -> Any:
    """A single value where a list is expected is a list of one."""
    return (value,) if isinstance(value, str | int | float | bool) else value


def _folded(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _minutes(text: str) -> int:
    found = _CLOCK.match(text)
    if not found or (found[1] == "24" and found[2] != "00"):
        raise ValueError(f"not a time of day from 00:00 to 24:00: {text!r}")
    return int(found[1]) * 60 + int(found[2])


def _period(value: str) -> str:
    """``"9:00 - 12:30"`` -> ``"09:00-12:30"``; a period ends after it starts, the same day."""
    start, sep, end = value.partition("-")
    try:
        if not sep:
            raise ValueError
        opens, closes = _minutes(start.strip()), _minutes(end.strip())
    except ValueError:
        raise ValueError(
            f"a period looks like '09:00-17:00' (times 00:00 to 24:00), got {value!r}"
        ) from None
    if opens == 24 * 60:
        raise ValueError(f"a period cannot start at 24:00, got {value!r}")
    if closes <= opens:
        raise ValueError(f"a period must end after it starts (same day), got {value!r}")
    return f"{_clock(opens)}-{_clock(closes)}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Slug = Annotated[
    str, BeforeValidator(_folded), StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
]
Period = Annotated[str, AfterValidator(_period)]
Periods = Annotated[tuple[Period, ...], BeforeValidator(_listed)]
PriorityName = Literal["urgent", "high", "normal", "low"]


class WeeklyHours(Frozen):
    """Opening periods per weekday, ``[start, end)`` in wall-clock time; a missing day is closed."""

    mon: Periods = ()
    tue: Periods = ()
    wed: Periods = ()
    thu: Periods = ()
    fri: Periods = ()
    sat: Periods = ()
    sun: Periods = ()

    @field_validator(*WEEKDAYS)
    @classmethod
    def _no_overlap(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        spans = sorted((_minutes(p.split("-")[0]), _minutes(p.split("-")[1]), p) for p in value)
        for (_, first_end, first), (second_start, _, second) in pairwise(spans):
            if second_start < first_end:
                raise ValueError(f"periods overlap: {first} and {second}")
        return value

    def by_weekday(self) -> dict[str, tuple[str, ...]]:
        """``{"mon": ("09:00-12:00", ...), ...}`` for the open days only."""
        return {day: getattr(self, day) for day in WEEKDAYS if getattr(self, day)}


_FULL_WEEK = {day: ("00:00-24:00",) for day in WEEKDAYS}


class CalendarSettings(Frozen):
    """A team's business calendar: zone, weekly hours, public holidays and closed dates."""

    name: Name
    timezone: str = "UTC"
    country: str | None = None  # ISO 3166 code known to the ``holidays`` package
    subdivision: str | None = None  # a region of ``country``, e.g. "BY" for Bavaria
    hours: WeeklyHours  # or "24x7"
    extra_dates: tuple[date, ...] = ()  # closed whatever the weekday

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. 'Europe/Berlin')") from None
        return value

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().upper()
        # the codes from the package's registry: ``list_supported_countries()`` would import
        # every country's module (about 280 modules, 50-70 ms of CPU) in every process that
        # reads settings; a process that builds a calendar imports them then
        if code not in _country_codes():
            raise ValueError(f"the holidays package has no country {value!r}")
        return code

    @field_validator("subdivision")
    @classmethod
    def _known_subdivision(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        country = info.data.get("country")
        if country is None:
            if "country" not in info.data:
                return value  # the country itself was wrong: reported there
            raise ValueError("a subdivision needs a country")
        known = list(getattr(holidays_lib, country).subdivisions)  # this country's module
        for spelling in known:
            if spelling.casefold() == value.strip().casefold():
                return spelling
        raise ValueError(
            f"{country} has no subdivision {value!r}; known: {', '.join(known) or 'none'}"
        )

    @field_validator("hours", mode="before")
    @classmethod
    def _always_open(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.strip().lower() != ALWAYS_OPEN:
                raise ValueError(f'hours is a table of weekdays or "24x7", got {value!r}')
            return _FULL_WEEK
        return value

    @field_validator("hours")
    @classmethod
    def _opens_sometime(cls, value: WeeklyHours) -> WeeklyHours:
        if not value.by_weekday():
            raise ValueError("a calendar needs at least one opening period")
        return value

    @property
    def always_open(self) -> bool:
        """Open around the clock every day (it may still close on holidays)."""
        return self.hours.by_weekday() == _FULL_WEEK


class SlaConditionSettings(Frozen):
    """The ``when`` of a policy: every condition given must hold; a list means any of."""

    priority: Annotated[tuple[PriorityName, ...], BeforeValidator(_listed)] = ()
    category: Annotated[tuple[Slug, ...], BeforeValidator(_listed)] = ()
    team: Annotated[tuple[Text, ...], BeforeValidator(_listed)] = ()
    tier: Annotated[tuple[Text, ...], BeforeValidator(_listed)] = ()
    channel: Annotated[
        tuple[Literal["email", "telegram", "web"], ...], BeforeValidator(_listed)
    ] = ()


class SlaPolicySettings(Frozen):
    """Targets for the tickets that match ``when``; at least one target."""

    name: Name
    when: SlaConditionSettings = SlaConditionSettings()
    calendar: Name | None = None  # None: the team's calendar, else ``default_calendar``
    first_response: Target = None
    next_response: Target = None  # after each customer message that awaits an answer
    resolution: Target = None
    warn_share: float = Field(0.75, gt=0, lt=1)  # warn the assignee at this share of a target

    @model_validator(mode="after")
    def _some_target(self) -> SlaPolicySettings:
        if (self.first_response, self.next_response, self.resolution) == (None, None, None):
            raise ValueError("give at least one of first_response, next_response, resolution")
        return self


class EscalationStep(Frozen):
    """Who is told after a breach, and how long (business time) after it."""

    to: Name  # "assignee", "supervisor" (the team's), "manager" (sla.manager) or an agent
    after: Duration = timedelta(0)


_DEFAULT_CHAIN = (
    EscalationStep(to="assignee", after=timedelta(0)),
    EscalationStep(to="supervisor", after=timedelta(minutes=30)),
    EscalationStep(to="manager", after=timedelta(hours=2)),
)


class SlaSettings(Frozen):
    calendars: tuple[CalendarSettings, ...] = ()
    policies: tuple[SlaPolicySettings, ...] = ()  # first match wins
    escalation: tuple[EscalationStep, ...] = _DEFAULT_CHAIN
    manager: Name | None = None  # an agent name
    bump_priority_on_breach: bool = False
    team_calendars: dict[Text, Name] = {}  # team -> calendar name
    default_calendar: Name = ALWAYS_OPEN  # for a team without an entry in team_calendars

    @model_validator(mode="after")
    def _consistent(self) -> SlaSettings:
        problems: list[str] = []
        names = {ALWAYS_OPEN}
        for i, cal in enumerate(self.calendars):
            if cal.name == ALWAYS_OPEN:
                problems.append(f"calendars.{i}.name: {ALWAYS_OPEN!r} is the built-in calendar")
            elif cal.name in names:
                problems.append(f"calendars.{i}.name: duplicate calendar name {cal.name!r}")
            names.add(cal.name)
        seen: set[str] = set()
        for i, policy in enumerate(self.policies):
            if policy.name in seen:
                problems.append(f"policies.{i}.name: duplicate policy name {policy.name!r}")
            seen.add(policy.name)
        for key, name in self.calendar_references():
            if name not in names:
                problems.append(f"{key}: unknown calendar {name!r}")
        for i, (before, step) in enumerate(pairwise(self.escalation), start=1):
            if step.after < before.after:
                problems.append(
                    f"escalation.{i}.after: steps come in order, "
                    f"{_seconds(step.after)}s is before the previous step's "
                    f"{_seconds(before.after)}s"
                )
        if "escalation" in self.model_fields_set and self.manager is None:
            for i, step in enumerate(self.escalation):
                if step.to == "manager":
                    problems.append(f"escalation.{i}.to: 'manager' needs sla.manager to be set")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def calendar_references(self) -> Iterator[tuple[str, str]]:
        """``(key path, calendar)`` for every calendar named outside ``calendars``."""
        for i, policy in enumerate(self.policies):
            if policy.calendar is not None:
                yield f"policies.{i}.calendar", policy.calendar
        for team, name in self.team_calendars.items():
            yield f"team_calendars.{team}", name
        yield "default_calendar", self.default_calendar

    def team_references(self) -> Iterator[tuple[str, str]]:
        """``(key path, team)`` for every team named here, to check against ``teams``."""
        for team in self.team_calendars:
            yield f"team_calendars.{team}", team
        for i, policy in enumerate(self.policies):
            for j, team in enumerate(policy.when.team):
                yield f"policies.{i}.when.team.{j}", team

    def agent_references(self) -> Iterator[tuple[str, str]]:
        """``(key path, agent)`` for every agent named here, to check against ``agents``."""
        if self.manager is not None:
            yield "manager", self.manager
        for i, step in enumerate(self.escalation):
            if step.to not in ROLES:
                yield f"escalation.{i}.to", step.to
