"""Choosing an SLA policy with reasons, the ticket's calendar, escalation plans, bumps."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.business_calendar import BusinessCalendar
from router.sla_policy import (
    EscalationStep,
    EscalationTarget,
    PolicyCondition,
    SlaPolicy,
    bumped,
    calendar_for,
    choose_policy,
    escalation_targets,
)
from router.vocabulary import Channel, Priority

H = timedelta(hours=1)
M = timedelta(minutes=1)
BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessCalendar("Europe/Berlin", {d: ((time(9), time(17)),) for d in range(5)})
BREACH = datetime(2026, 3, 3, 10, tzinfo=UTC)
CHAIN = (
    EscalationStep("assignee"),
    EscalationStep("supervisor", 30 * M),
    EscalationStep("manager", 2 * H),
)

URGENT = SlaPolicy(
    "urgent-24x7",
    first_response=30 * M,
    resolution=4 * H,
    calendar="24x7",
    when=PolicyCondition(priority=(Priority.URGENT,)),
)
VIP_BILLING = SlaPolicy(
    "vip-billing",
    first_response=H,
    when=PolicyCondition(
        category=("billing",), tier=("gold", "platinum"), channel=(Channel.EMAIL, Channel.WEB)
    ),
)
STANDARD = SlaPolicy("standard", first_response=4 * H, next_response=8 * H, resolution=24 * H)
POLICIES = (URGENT, VIP_BILLING, STANDARD)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


# --- policies ------------------------------------------------------------------------


def test_the_first_matching_policy_wins_and_says_why() -> None:
    policy, reasons = choose_policy(POLICIES, priority=Priority.URGENT, category="billing")
    assert policy is URGENT
    assert reasons == ("SLA policy urgent-24x7: priority urgent",)


def test_the_policies_tried_before_the_match_are_in_the_reasons_with_what_failed() -> None:
    policy, reasons = choose_policy(
        POLICIES, priority=Priority.HIGH, category="billing", tier="silver", channel=Channel.EMAIL
    )
    assert policy is STANDARD
    assert reasons == (
        "SLA policy urgent-24x7 skipped: priority: high is not urgent",
        "SLA policy vip-billing skipped: tier: silver is not one of gold, platinum",
        "SLA policy standard: no conditions, matches every ticket",
    )


def test_every_condition_of_a_policy_must_hold_and_text_ignores_case() -> None:
    policy, reasons = choose_policy(
        POLICIES, priority=Priority.LOW, category="Billing", tier="GOLD", channel=Channel.WEB
    )
    assert policy is VIP_BILLING
    assert reasons[-1] == "SLA policy vip-billing: category Billing, tier GOLD, channel web"


def test_a_missing_fact_does_not_match_a_condition_on_it() -> None:
    _, reasons = choose_policy(POLICIES, priority=Priority.NORMAL, category="billing")
    assert reasons[1] == (
        "SLA policy vip-billing skipped: tier: none given, wanted one of gold, platinum"
    )


def test_no_matching_policy_means_no_clocks_and_the_log_says_so() -> None:
    policy, reasons = choose_policy((URGENT,), priority=Priority.LOW, team="support")
    assert policy is None
    assert reasons == (
        "SLA policy urgent-24x7 skipped: priority: low is not urgent",
        "no SLA policy matches: no SLA clocks",
    )
    assert choose_policy((), priority=Priority.LOW) == (
        None,
        ("no SLA policy matches: no SLA clocks",),
    )


def test_a_policy_tracks_only_the_targets_it_gives() -> None:
    assert URGENT.target("first_response") == 30 * M
    assert URGENT.tracks("resolution")
    assert not URGENT.tracks("next_response")
    assert URGENT.target("next_response") is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "SLA policy 'p' has no target"),
        ({"resolution": timedelta(0)}, "SLA policy 'p' has a target that is not positive"),
        ({"resolution": H, "warn_share": 1.0}, "warn_share is a share of the target in (0, 1)"),
        ({"resolution": H, "warn_share": 0.0}, "warn_share is a share of the target in (0, 1)"),
    ],
)
def test_a_policy_without_a_sensible_target_is_refused(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        SlaPolicy("p", **kwargs)
    assert str(caught.value).startswith(message)


def test_the_calendar_is_the_policys_then_the_teams_then_the_default() -> None:
    teams = {"support": "berlin"}
    assert calendar_for(URGENT, team="support", team_calendars=teams) == (
        "24x7",
        "calendar 24x7: set by SLA policy urgent-24x7",
    )
    assert calendar_for(STANDARD, team="support", team_calendars=teams) == (
        "berlin",
        "calendar berlin: of team support",
    )
    assert calendar_for(STANDARD, team="sales", team_calendars=teams, default="hq") == (
        "hq",
        "calendar hq: the default",
    )
    assert calendar_for(None, team=None, team_calendars=teams)[0] == "24x7"


# --- escalation -----------------------------------------------------------------------


def test_the_chain_tells_assignee_supervisor_and_manager_after_their_delays() -> None:
    plan = escalation_targets(
        CHAIN, assignee="ana", team_supervisor="sue", manager="sam", breached_at=BREACH
    )
    assert plan == (
        EscalationTarget(BREACH, "ana", "assignee"),
        EscalationTarget(BREACH + 30 * M, "sue", "supervisor"),
        EscalationTarget(BREACH + 2 * H, "sam", "manager"),
    )
    when, recipient, role = plan[1]
    assert (when, recipient, role) == (BREACH + 30 * M, "sue", "supervisor")


def test_a_team_without_a_supervisor_skips_that_step() -> None:
    plan = escalation_targets(
        CHAIN, assignee="ana", team_supervisor=None, manager="sam", breached_at=BREACH
    )
    assert [(t.recipient, t.role) for t in plan] == [("ana", "assignee"), ("sam", "manager")]


def test_an_unassigned_ticket_without_a_manager_goes_to_the_supervisor_only() -> None:
    plan = escalation_targets(
        CHAIN, assignee=None, team_supervisor="sue", manager=None, breached_at=BREACH
    )
    assert plan == (EscalationTarget(BREACH + 30 * M, "sue", "supervisor"),)


def test_the_same_person_is_told_once_at_their_first_step() -> None:
    plan = escalation_targets(
        CHAIN, assignee="sue", team_supervisor="sue", manager="sue", breached_at=BREACH
    )
    assert plan == (EscalationTarget(BREACH, "sue", "assignee"),)
    plan = escalation_targets(
        (*CHAIN, EscalationStep("sam", 4 * H), EscalationStep("olga", 5 * H)),
        assignee="ana",
        team_supervisor="sam",
        manager="sam",
        breached_at=BREACH,
    )
    assert [(t.recipient, t.role, t.at) for t in plan] == [
        ("ana", "assignee", BREACH),
        ("sam", "supervisor", BREACH + 30 * M),
        ("olga", "agent", BREACH + 5 * H),
    ]


def test_with_a_calendar_the_delays_are_business_time_but_the_first_step_is_immediate() -> None:
    friday_evening = berlin(2026, 3, 6, 16, 45)
    plan = escalation_targets(
        CHAIN,
        assignee="ana",
        team_supervisor="sue",
        manager="sam",
        breached_at=friday_evening,
        calendar=OFFICE,
    )
    assert [t.at for t in plan] == [
        friday_evening,
        berlin(2026, 3, 9, 9, 15),  # 15 min on Friday, 15 on Monday
        berlin(2026, 3, 9, 10, 45),
    ]
    saturday = berlin(2026, 3, 7, 11)
    plan = escalation_targets(
        CHAIN[:1],
        assignee="ana",
        team_supervisor=None,
        manager=None,
        breached_at=saturday,
        calendar=OFFICE,
    )
    assert plan[0].at == saturday


def test_plan_times_are_utc_and_a_naive_breach_is_refused() -> None:
    local = datetime(2026, 3, 3, 11, tzinfo=BERLIN)
    plan = escalation_targets(
        CHAIN[:2], assignee="ana", team_supervisor="sue", manager=None, breached_at=local
    )
    assert [t.at.tzinfo for t in plan] == [UTC, UTC]
    assert plan[0].at == BREACH
    with pytest.raises(ValueError, match="naive"):
        escalation_targets(
            CHAIN,
            assignee="ana",
            team_supervisor=None,
            manager=None,
            breached_at=datetime(2026, 3, 3, 10),
        )


people = st.one_of(st.none(), st.sampled_from(["ana", "sue", "sam", "olga"]))


@given(
    assignee=people,
    supervisor=people,
    manager=people,
    extra=st.lists(st.sampled_from(["ana", "olga", "manager", "assignee"]), max_size=3),
)
def test_a_plan_names_each_person_once_in_step_order(
    assignee: str | None, supervisor: str | None, manager: str | None, extra: list[str]
) -> None:
    steps = (*CHAIN, *(EscalationStep(to, (3 + i) * H) for i, to in enumerate(extra)))
    plan = escalation_targets(
        steps, assignee=assignee, team_supervisor=supervisor, manager=manager, breached_at=BREACH
    )
    recipients = [t.recipient for t in plan]
    assert len(recipients) == len(set(recipients))
    assert [t.at for t in plan] == sorted(t.at for t in plan)
    named = {assignee, supervisor, manager, *(e for e in extra if e in {"ana", "olga"})}
    assert set(recipients) == named - {None}


# --- priority bump --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (Priority.LOW, Priority.NORMAL),
        (Priority.NORMAL, Priority.HIGH),
        (Priority.HIGH, Priority.URGENT),
        (Priority.URGENT, Priority.URGENT),
    ],
)
def test_a_breach_bumps_the_priority_one_step_and_urgent_stays_urgent(
    before: Priority, after: Priority
) -> None:
    assert bumped(before) is after
