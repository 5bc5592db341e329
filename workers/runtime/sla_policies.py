"""The SLA settings as the router's policies, calendars and escalation chain.

Built once at start-up: a country's holidays are checked here, so a calendar that
cannot be built fails the start rather than the first deadline.
"""

from __future__ import annotations

from config.sla_settings import WEEKDAYS, CalendarSettings, SlaPolicySettings, SlaSettings
from router.business_calendar import BusinessCalendar, Period, always_open, parse_period
from router.sla_policy import ALWAYS_OPEN, EscalationStep, PolicyCondition, SlaPolicy
from router.vocabulary import Channel, Priority


def sla_policies(settings: SlaSettings) -> tuple[SlaPolicy, ...]:
    """The policies in configuration order (the first match wins)."""
    return tuple(_policy(p) for p in settings.policies)


def business_calendars(settings: SlaSettings) -> dict[str, BusinessCalendar]:
    """Every calendar by name, the built-in ``"24x7"`` (UTC) included."""
    calendars = {ALWAYS_OPEN: always_open("UTC")}
    calendars.update((c.name, _calendar(c)) for c in settings.calendars)
    return calendars


def escalation_steps(settings: SlaSettings) -> tuple[EscalationStep, ...]:
    return tuple(EscalationStep(to=s.to, after=s.after) for s in settings.escalation)


def _policy(settings: SlaPolicySettings) -> SlaPolicy:
    when = settings.when
    return SlaPolicy(
        name=settings.name,
        first_response=settings.first_response,
        next_response=settings.next_response,
        resolution=settings.resolution,
        warn_share=settings.warn_share,
        calendar=settings.calendar,
        when=PolicyCondition(
            priority=tuple(Priority(p) for p in when.priority),
            category=when.category,
            team=when.team,
            tier=when.tier,
            channel=tuple(Channel(c) for c in when.channel),
        ),
    )


def _calendar(settings: CalendarSettings) -> BusinessCalendar:
    if settings.always_open and settings.country is None and not settings.extra_dates:
        return always_open(settings.timezone)
    weekly: dict[int, tuple[Period, ...]] = {
        WEEKDAYS.index(day): tuple(parse_period(p) for p in periods)
        for day, periods in settings.hours.by_weekday().items()
    }
    if settings.country is None:
        return BusinessCalendar(settings.timezone, weekly, frozenset(settings.extra_dates))
    return BusinessCalendar.from_country(
        settings.country,
        settings.subdivision,
        timezone=settings.timezone,
        weekly=weekly,
        extra_dates=settings.extra_dates,
    )
