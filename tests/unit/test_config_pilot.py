"""A pilot's candidate decides for its teams only: at ingest (classification in two
steps, router/pilot.py) and for every later decision (``ConfigSlot.for_team``)."""

from __future__ import annotations

from config import load_settings
from router.pilot import PilotPlan, classify_in_pilot, teams_it_cannot_run_on
from router.rule_facts import MessageFacts
from router.rule_simulation import RuleSetup
from workers.runtime.desk_config import ConfigSlot, DeskConfig
from workers.runtime.rule_book import rule_setup

INVOICE = MessageFacts(subject="refund", body="my invoice is wrong")
OTHER = MessageFacts(subject="help", body="it is broken")


def _setup(**env: str) -> RuleSetup:
    environ = {f"RELAYDESK_{k.upper()}": v for k, v in env.items()}
    return rule_setup(load_settings(environ=environ))


def test_the_candidate_classifies_only_tickets_both_versions_send_to_a_pilot_team() -> None:
    current = _setup()
    urgent = _setup(helpdesk__default_priority="urgent")
    made = classify_in_pilot(INVOICE, current, urgent, {"billing"})
    assert made.by_candidate and made.decision.team == "billing"
    assert made.decision.priority.value == "urgent"
    made = classify_in_pilot(OTHER, current, urgent, {"billing"})  # support: not piloted
    assert not made.by_candidate and made.decision.priority.value == "normal"


def test_a_pilot_neither_takes_a_ticket_from_the_rest_nor_hands_one_to_it() -> None:
    current = _setup()
    # the candidate sends everything without a rule to billing, and invoices to support
    moved = _setup(helpdesk__default_team="billing", rules__first_match="[]")
    made = classify_in_pilot(OTHER, current, moved, {"billing"})  # support now: kept
    assert not made.by_candidate and made.decision.team == "support"
    made = classify_in_pilot(INVOICE, current, moved, {"support"})  # billing now: kept
    assert not made.by_candidate and made.decision.team == "billing"
    made = classify_in_pilot(INVOICE, current, moved, {"billing"})  # no rule: billing, in both
    assert made.by_candidate and made.decision.team == "billing"
    assert made.decision.category != current.decide(INVOICE).category


def test_a_pilot_runs_only_on_teams_of_both_the_current_configuration_and_the_candidate() -> None:
    current, candidate = {"support", "billing"}, {"billing", "sales"}
    named = ["sales", "billing", "support", "nowhere"]
    assert teams_it_cannot_run_on(named, current, candidate) == ("sales", "support", "nowhere")
    assert teams_it_cannot_run_on(["billing"], current, candidate) == ()
    assert teams_it_cannot_run_on([], current, candidate) == ()


def test_a_plan_chooses_the_candidate_for_its_teams_and_the_current_for_the_rest() -> None:
    plan = PilotPlan("current", "candidate", frozenset({"billing"}))
    assert plan.deciding("billing") == "candidate"
    assert plan.deciding("support") == "current"
    assert plan.deciding(None) == "current"


def test_inside_for_team_the_teams_version_decides_and_the_desks_after() -> None:
    base = DeskConfig.of(load_settings())
    candidate = DeskConfig.of(
        load_settings(environ={"RELAYDESK_HELPDESK__DEFAULT_PRIORITY": "urgent"})
    )
    slot = ConfigSlot(DeskConfig(base.settings, base.version, (candidate, frozenset({"billing"}))))
    with slot.for_team("billing") as deciding:
        assert deciding is candidate and slot.current() is candidate
        assert slot.desk().pilot is not None  # the desk's, with its pilot, stays reachable
        with slot.for_team("support"):  # another ticket in the same step
            assert slot.current().version == base.version
        assert slot.current() is candidate
    assert slot.current().version == base.version
    decision, by = slot.desk().classify(INVOICE)
    assert by is candidate and decision.priority.value == "urgent"
