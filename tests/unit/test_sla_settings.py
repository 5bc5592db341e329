"""The [sla] section: its TOML shape, its checks with key paths, and its conversion."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from config import problems_of
from config.sla_settings import BUSINESS_DAY, SlaSettings, parse_duration
from router.business_calendar import add_business_time, is_open
from router.sla_clock import SlaEvent, SlaTargets, TicketClocks, apply, deadlines
from router.sla_policy import EscalationStep, PolicyCondition, SlaPolicy, calendar_for
from router.sla_policy import choose_policy as choose
from router.vocabulary import Channel, Priority
from workers.runtime.sla_policies import business_calendars, escalation_steps, sla_policies

EXAMPLE = """
[sla]
manager = "sam"
bump_priority_on_breach = true
team_calendars = { support = "berlin" }

[[sla.calendars]]
name = "berlin"
timezone = "Europe/Berlin"
country = "DE"
subdivision = "BY"
hours = { mon = ["09:00-12:00", "13:00-17:00"], tue = ["09:00-17:00"], wed = ["09:00-17:00"], \
thu = ["09:00-17:00"], fri = ["09:00-15:00"] }
extra_dates = [2026-12-24, 2026-12-31]

[[sla.policies]]
name = "urgent"
when = { priority = ["urgent"] }
calendar = "24x7"
first_response = "30m"
resolution = "4h"

[[sla.policies]]
name = "standard"
calendar = "berlin"
first_response = "4h"
next_response = "8h"
resolution = "3d"
warn_share = 0.75

[[sla.escalation]]
to = "assignee"
after = "0m"
[[sla.escalation]]
to = "supervisor"
after = "30m"
[[sla.escalation]]
to = "manager"
after = "2h"
"""

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
OFFICE = '{ mon = "09:00-17:00" }'


def sla(text: str) -> SlaSettings:
    return SlaSettings.model_validate(tomllib.loads(text).get("sla", {}))


def problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        sla(text)
    return problems_of(caught.value)


def from_dict(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        SlaSettings.model_validate(data)
    return problems_of(caught.value)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


# --- the example -------------------------------------------------------------------------


def test_the_example_loads_with_durations_as_business_time() -> None:
    settings = sla(EXAMPLE)
    urgent, standard = settings.policies
    assert (urgent.first_response, urgent.next_response, urgent.resolution) == (
        timedelta(minutes=30),
        None,
        4 * H,
    )
    assert urgent.when.priority == ("urgent",)
    assert (standard.first_response, standard.next_response) == (4 * H, 8 * H)
    assert standard.resolution == 24 * H  # 3d = three business days of 8 h
    assert [(s.to, s.after) for s in settings.escalation] == [
        ("assignee", timedelta(0)),
        ("supervisor", timedelta(minutes=30)),
        ("manager", 2 * H),
    ]
    calendar = settings.calendars[0]
    assert calendar.hours.by_weekday()["mon"] == ("09:00-12:00", "13:00-17:00")
    assert calendar.extra_dates == (date(2026, 12, 24), date(2026, 12, 31))
    assert (settings.manager, settings.bump_priority_on_breach) == ("sam", True)
    assert settings.team_calendars == {"support": "berlin"}


def test_no_sla_section_gives_no_policies_and_the_default_chain() -> None:
    settings = sla("")
    assert (settings.calendars, settings.policies, settings.manager) == ((), (), None)
    assert [(s.to, s.after) for s in settings.escalation] == [
        ("assignee", timedelta(0)),
        ("supervisor", timedelta(minutes=30)),
        ("manager", 2 * H),
    ]
    assert settings.default_calendar == "24x7"
    assert not settings.bump_priority_on_breach


def test_a_dumped_configuration_reads_back_the_same() -> None:
    settings = sla(EXAMPLE)
    dumped = settings.model_dump(mode="json")
    assert dumped["policies"][1]["resolution"] == 24 * 3600  # seconds, not "3d"
    assert SlaSettings.model_validate(dumped) == settings


def test_single_values_are_lists_of_one_and_times_are_normalised() -> None:
    settings = sla(
        '[[sla.calendars]]\nname = "office"\nhours = { mon = "9:00-17:00" }\n'
        '[[sla.policies]]\nname = "p"\nresolution = 3600\n'
        'when = { priority = "high", channel = "telegram", category = "Billing", tier = "gold" }\n'
    )
    assert settings.calendars[0].hours.mon == ("09:00-17:00",)
    when = settings.policies[0].when
    assert (when.priority, when.channel, when.category, when.tier) == (
        ("high",),
        ("telegram",),
        ("billing",),
        ("gold",),
    )


# --- durations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("4h", 4 * H),
        ("1h30m", timedelta(minutes=90)),
        (" 2 h 15 m ", timedelta(hours=2, minutes=15)),
        ("1.5h", timedelta(minutes=90)),
        ("90s", timedelta(seconds=90)),
        ("0m", timedelta(0)),
        ("4H", 4 * H),
        ("1d", 8 * H),
        ("2d", 16 * H),
        ("1d4h", 12 * H),
        (3600, H),
        (0, timedelta(0)),
    ],
)
def test_durations_are_seconds_or_unit_strings(text: str | int, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_a_day_is_eight_business_hours_not_twenty_four() -> None:
    assert BUSINESS_DAY == 8 * H
    assert parse_duration("3d") == parse_duration("24h")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("4x", "a duration looks like '30m', '4h', '1h30m' or '2d' (d = 8 business hours)"),
        ("h", "a duration looks like"),
        ("", "a duration looks like"),
        ("3600", "a duration looks like"),
        ("-1h", "a duration looks like"),
        ("30m1h", "give each unit once, largest first"),
        ("1h1h", "give each unit once, largest first"),
        ("366d", "a duration over 365d"),
        (-5, "a duration cannot be negative"),
        (True, "a duration is a number of seconds or a string like '4h'"),
        (1.5, "a duration is a number of seconds or a string like '4h'"),
    ],
)
def test_bad_durations_are_reported_on_their_key(value: object, message: str) -> None:
    found = from_dict({"policies": [{"name": "p", "resolution": value}]})
    assert len(found) == 1
    key, text = found[0]
    assert key == "policies.0.resolution"
    assert text.startswith(message)


def test_the_three_day_resolution_of_the_berlin_office_is_24_business_hours() -> None:
    # Mon 7 h (lunch), Tue 8 h, Wed 8 h: 23 h; the last hour is Thursday 9-10.
    calendar = business_calendars(sla(EXAMPLE))["berlin"]
    standard = sla_policies(sla(EXAMPLE))[1]
    assert standard.resolution is not None
    due = add_business_time(calendar, berlin(2026, 3, 2, 9), standard.resolution)
    assert due == berlin(2026, 3, 5, 10)


# --- calendar checks -----------------------------------------------------------------


def test_calendar_mistakes_are_reported_with_their_key_paths() -> None:
    found = from_dict(
        {
            "calendars": [
                {
                    "name": "c",
                    "timezone": "Mars/Olympus",
                    "hours": {
                        "mon": "9-17",
                        "tue": ["09:00-12:00", "11:00-13:00"],
                        "wed": "17:00-09:00",
                        "thu": "08:00-24:30",
                        "sonday": "09:00-12:00",
                    },
                }
            ]
        }
    )
    assert found == [
        ("calendars.0.timezone", "unknown time zone 'Mars/Olympus' (e.g. 'Europe/Berlin')"),
        (
            "calendars.0.hours.mon.0",
            "a period looks like '09:00-17:00' (times 00:00 to 24:00), got '9-17'",
        ),
        ("calendars.0.hours.tue", "periods overlap: 09:00-12:00 and 11:00-13:00"),
        (
            "calendars.0.hours.wed.0",
            "a period must end after it starts (same day), got '17:00-09:00'",
        ),
        (
            "calendars.0.hours.thu.0",
            "a period looks like '09:00-17:00' (times 00:00 to 24:00), got '08:00-24:30'",
        ),
        ("calendars.0.hours.sonday", "Extra inputs are not permitted"),
    ]


def test_a_calendar_needs_an_opening_and_hours_is_a_table_or_24x7() -> None:
    found = from_dict(
        {"calendars": [{"name": "shut", "hours": {}}, {"name": "odd", "hours": "24/7"}]}
    )
    assert found == [
        ("calendars.0.hours", "a calendar needs at least one opening period"),
        ("calendars.1.hours", "hours is a table of weekdays or \"24x7\", got '24/7'"),
    ]


def test_holiday_countries_and_subdivisions_are_checked_with_the_holidays_package() -> None:
    found = from_dict(
        {
            "calendars": [
                {"name": "a", "country": "XX", "subdivision": "BY", "hours": "24x7"},
                {"name": "b", "country": "DE", "subdivision": "ZZ", "hours": "24x7"},
                {"name": "c", "subdivision": "BY", "hours": "24x7"},
            ]
        }
    )
    assert [key for key, _ in found] == [
        "calendars.0.country",
        "calendars.1.subdivision",
        "calendars.2.subdivision",
    ]
    assert found[0][1] == "the holidays package has no country 'XX'"
    assert found[1][1].startswith("DE has no subdivision 'ZZ'; known: BB, BE, BW, BY")
    assert found[2][1] == "a subdivision needs a country"


def test_country_and_subdivision_are_read_in_any_case() -> None:
    calendar = sla(
        '[[sla.calendars]]\nname = "munich"\ncountry = "de"\nsubdivision = "by"\n'
        f"hours = {OFFICE}\n"
    ).calendars[0]
    assert (calendar.country, calendar.subdivision) == ("DE", "BY")


# --- policy and cross checks ------------------------------------------------------------


def test_policy_mistakes_are_reported_with_their_key_paths() -> None:
    found = from_dict(
        {
            "policies": [
                {"name": "none"},
                {"name": "zero", "first_response": "0m"},
                {"name": "share", "resolution": "1h", "warn_share": 1.0},
                {
                    "name": "when",
                    "resolution": "1h",
                    "when": {"priority": ["asap"], "channel": "fax", "prority": "high"},
                },
                {"name": "bad name!", "resolution": "1h"},
            ]
        }
    )
    assert [key for key, _ in found] == [
        "policies.0",
        "policies.1.first_response",
        "policies.2.warn_share",
        "policies.3.when.priority.0",
        "policies.3.when.channel.0",
        "policies.3.when.prority",
        "policies.4.name",
    ]
    assert found[0][1] == "give at least one of first_response, next_response, resolution"
    assert found[1][1] == "a target must be longer than zero"


def test_unknown_calendars_and_duplicate_names_are_reported_with_their_key_paths() -> None:
    found = problems(
        '[sla]\nteam_calendars = { billing = "lisbon" }\ndefault_calendar = "nowhere"\n'
        f'[[sla.calendars]]\nname = "berlin"\nhours = {OFFICE}\n'
        f'[[sla.calendars]]\nname = "berlin"\nhours = {OFFICE}\n'
        f'[[sla.calendars]]\nname = "24x7"\nhours = "24x7"\n'
        '[[sla.policies]]\nname = "p"\ncalendar = "paris"\nresolution = "1d"\n'
        '[[sla.policies]]\nname = "p"\nresolution = "1d"\n'
    )
    assert found == [
        ("calendars.1.name", "duplicate calendar name 'berlin'"),
        ("calendars.2.name", "'24x7' is the built-in calendar"),
        ("policies.1.name", "duplicate policy name 'p'"),
        ("policies.0.calendar", "unknown calendar 'paris'"),
        ("team_calendars.billing", "unknown calendar 'lisbon'"),
        ("default_calendar", "unknown calendar 'nowhere'"),
    ]


def test_escalation_steps_must_not_go_back_in_time() -> None:
    found = problems(
        '[sla]\nmanager = "sam"\n'
        '[[sla.escalation]]\nto = "assignee"\n'
        '[[sla.escalation]]\nto = "manager"\nafter = "2h"\n'
        '[[sla.escalation]]\nto = "supervisor"\nafter = "30m"\n'
    )
    assert found == [
        ("escalation.2.after", "steps come in order, 1800s is before the previous step's 7200s")
    ]


def test_a_manager_step_needs_a_manager_unless_it_is_the_default_chain() -> None:
    found = problems('[[sla.escalation]]\nto = "manager"\nafter = "1h"\n')
    assert found == [("escalation.0.to", "'manager' needs sla.manager to be set")]
    assert sla("[sla]\nbump_priority_on_breach = true\n").manager is None  # default chain is fine


def test_references_name_the_teams_agents_and_calendars_to_check() -> None:
    settings = sla(
        EXAMPLE
        + '[[sla.escalation]]\nto = "ana"\nafter = "4h"\n'
        + '[[sla.policies]]\nname = "billing"\nwhen = { team = ["billing", "sales"] }\n'
        + 'resolution = "1d"\n'
    )
    assert list(settings.agent_references()) == [("manager", "sam"), ("escalation.3.to", "ana")]
    assert list(settings.team_references()) == [
        ("team_calendars.support", "support"),
        ("policies.2.when.team.0", "billing"),
        ("policies.2.when.team.1", "sales"),
    ]
    assert list(settings.calendar_references()) == [
        ("policies.0.calendar", "24x7"),
        ("policies.1.calendar", "berlin"),
        ("team_calendars.support", "berlin"),
        ("default_calendar", "24x7"),
    ]


# --- converted to the router's objects ---------------------------------------------------


def test_the_bavarian_calendar_closes_on_epiphany_and_on_the_extra_dates() -> None:
    calendar = business_calendars(sla(EXAMPLE))["berlin"]
    assert not is_open(calendar, berlin(2026, 1, 6, 10))  # Tuesday, Heilige Drei Könige
    assert is_open(calendar, berlin(2026, 1, 7, 10))
    assert not is_open(calendar, berlin(2026, 12, 24, 10))  # a Thursday, closed by config
    assert not is_open(calendar, berlin(2026, 3, 2, 12, 30))  # Monday's lunch break
    assert is_open(calendar, berlin(2026, 3, 3, 12, 30))  # no lunch break on Tuesday


def test_a_calendar_without_a_country_keeps_only_its_extra_dates() -> None:
    calendar = business_calendars(
        sla(
            f'[[sla.calendars]]\nname = "hq"\ntimezone = "Europe/Berlin"\nhours = {OFFICE}\n'
            "extra_dates = [2026-01-05]\n"
        )
    )["hq"]
    assert calendar.country is None
    assert not is_open(calendar, berlin(2026, 1, 5, 10))
    assert is_open(calendar, berlin(2026, 1, 12, 10))


def test_24x7_hours_are_always_open_unless_holidays_close_them() -> None:
    calendars = business_calendars(
        sla(
            '[[sla.calendars]]\nname = "noc"\ntimezone = "Asia/Tokyo"\nhours = "24x7"\n'
            '[[sla.calendars]]\nname = "noc-de"\ncountry = "DE"\nhours = "24x7"\n'
        )
    )
    assert calendars["noc"].is_24x7 and calendars["24x7"].is_24x7
    assert calendars["noc"].timezone == "Asia/Tokyo"
    assert not calendars["noc-de"].is_24x7
    assert is_open(calendars["noc-de"], datetime(2026, 1, 2, 3, tzinfo=UTC))
    assert not is_open(calendars["noc-de"], datetime(2026, 1, 1, 3, tzinfo=UTC))


def test_policies_and_escalation_steps_convert_in_order() -> None:
    settings = sla(EXAMPLE)
    assert sla_policies(settings) == (
        SlaPolicy(
            name="urgent",
            first_response=timedelta(minutes=30),
            resolution=4 * H,
            calendar="24x7",
            when=PolicyCondition(priority=(Priority.URGENT,)),
        ),
        SlaPolicy(
            name="standard",
            first_response=4 * H,
            next_response=8 * H,
            resolution=24 * H,
            calendar="berlin",
        ),
    )
    assert escalation_steps(settings) == (
        EscalationStep("assignee", timedelta(0)),
        EscalationStep("supervisor", timedelta(minutes=30)),
        EscalationStep("manager", 2 * H),
    )


def test_a_normal_email_ticket_gets_the_standard_policy_on_the_berlin_calendar() -> None:
    settings = sla(EXAMPLE)
    policy, reasons = choose(
        sla_policies(settings), priority=Priority.NORMAL, team="support", channel=Channel.EMAIL
    )
    assert policy is not None and policy.name == "standard"
    assert reasons == (
        "SLA policy urgent skipped: priority: normal is not urgent",
        "SLA policy standard: no conditions, matches every ticket",
    )
    name, _ = calendar_for(
        policy,
        team="support",
        team_calendars=settings.team_calendars,
        default=settings.default_calendar,
    )
    calendar = business_calendars(settings)[name]
    assert policy.first_response and policy.next_response and policy.resolution
    targets = SlaTargets(
        policy.first_response, policy.next_response, policy.resolution, policy.warn_share
    )
    friday = berlin(2026, 3, 6, 14)  # open until 15:00 on Fridays
    clocks = apply(TicketClocks(), SlaEvent.CUSTOMER_MESSAGE, targets, calendar, friday)
    assert clocks.first_response is not None
    warn_at, due_at = deadlines(clocks.first_response, calendar)
    assert warn_at == berlin(2026, 3, 9, 11)  # 3 h: Friday 14-15, Monday 9-11
    assert due_at == berlin(2026, 3, 9, 12)  # before Monday's lunch break
