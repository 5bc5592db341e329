"""Who may do what: roles, scope and the verdicts of ``router.access.check``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from router.access import (
    TICKET_ABILITIES,
    Ability,
    Account,
    Principal,
    TicketScope,
    Verdict,
    account_role,
    check,
    may_grant,
    principal_of,
    require,
    ticket_verdict,
    visible,
)
from router.audit_origin import Origin, Via, cli_as
from router.credentials import SessionPolicy, parse_lifetime, token_usable
from router.errors import NotAllowed, OutOfScope
from router.sign_in_limits import FailureCount, SignInLimit, retry_after_seconds
from router.vocabulary import Role

SUPPORT, BILLING, SALES = 1, 2, 3
ANA, BEN, SAM, ROOT = 10, 11, 12, 13
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def account(
    agent_id: int,
    role: Role = Role.AGENT,
    teams: tuple[int, ...] = (SUPPORT,),
    supervises: tuple[int, ...] = (),
) -> Account:
    return Account(
        agent_id=agent_id,
        name=f"a{agent_id}",
        role=role,
        teams=frozenset(teams),
        supervises=frozenset(supervises),
    )


AGENT = principal_of(account(ANA))
SUPERVISOR = principal_of(account(SAM, teams=(), supervises=(SUPPORT,)))
ADMIN = principal_of(account(ROOT, Role.ADMIN, teams=()))

OWN = TicketScope(number=1, team_id=SUPPORT, assignee_id=ANA)
TEAM_UNASSIGNED = TicketScope(number=2, team_id=SUPPORT, assignee_id=None)
TEAM_COLLEAGUES = TicketScope(number=3, team_id=SUPPORT, assignee_id=BEN)
OTHER_TEAM = TicketScope(number=4, team_id=BILLING, assignee_id=None)
NO_TEAM = TicketScope(number=5, team_id=None, assignee_id=None)


@pytest.mark.parametrize(
    ("principal", "ticket", "seen"),
    [
        (AGENT, OWN, True),
        (AGENT, TEAM_UNASSIGNED, True),
        (AGENT, TEAM_COLLEAGUES, False),
        (AGENT, OTHER_TEAM, False),
        (AGENT, NO_TEAM, False),
        (SUPERVISOR, OWN, True),
        (SUPERVISOR, TEAM_UNASSIGNED, True),
        (SUPERVISOR, TEAM_COLLEAGUES, True),
        (SUPERVISOR, OTHER_TEAM, False),
        (ADMIN, OTHER_TEAM, True),
        (ADMIN, NO_TEAM, True),
    ],
)
def test_scope_is_own_tickets_teams_unassigned_supervised_teams_or_everything(
    principal: Principal, ticket: TicketScope, seen: bool
) -> None:
    assert visible(principal, ticket) is seen


def test_a_ticket_outside_scope_is_hidden_whatever_the_ability() -> None:
    for ability in TICKET_ABILITIES:
        assert check(AGENT, ability, OTHER_TEAM) is Verdict.HIDDEN


def test_an_agent_may_work_a_visible_ticket_but_not_give_it_to_someone_else() -> None:
    assert check(AGENT, Ability.REPLY, OWN) is Verdict.ALLOWED
    assert check(AGENT, Ability.CLAIM, TEAM_UNASSIGNED) is Verdict.ALLOWED
    assert check(AGENT, Ability.ASSIGN, OWN) is Verdict.FORBIDDEN


def test_a_supervisor_reassigns_only_in_the_teams_they_supervise() -> None:
    sam = principal_of(account(SAM, teams=(BILLING,), supervises=(SUPPORT,)))
    assert check(sam, Ability.ASSIGN, TEAM_COLLEAGUES) is Verdict.ALLOWED
    billing_unassigned = TicketScope(number=6, team_id=BILLING, assignee_id=None)
    assert check(sam, Ability.VIEW_TICKET, billing_unassigned) is Verdict.ALLOWED
    assert check(sam, Ability.ASSIGN, billing_unassigned) is Verdict.FORBIDDEN


def test_administration_is_for_admins_and_reports_for_supervisors() -> None:
    for ability in (Ability.MANAGE_TOKENS, Ability.MANAGE_ACCOUNTS, Ability.MANAGE_WEBHOOKS):
        assert check(AGENT, ability) is Verdict.FORBIDDEN
        assert check(SUPERVISOR, ability) is Verdict.FORBIDDEN
        assert check(ADMIN, ability) is Verdict.ALLOWED
    assert check(AGENT, Ability.VIEW_REPORTS) is Verdict.FORBIDDEN
    assert check(SUPERVISOR, Ability.VIEW_REPORTS) is Verdict.ALLOWED
    assert check(AGENT, Ability.LIST_AGENTS) is Verdict.ALLOWED


@pytest.mark.parametrize("principal", [AGENT, SUPERVISOR, ADMIN])
@pytest.mark.parametrize("ability", sorted(TICKET_ABILITIES))
def test_a_number_no_ticket_has_is_hidden_as_a_ticket_out_of_scope(
    principal: Principal, ability: Ability
) -> None:
    assert ticket_verdict(principal, ability, None) is Verdict.HIDDEN
    with pytest.raises(OutOfScope):
        require(principal, ability, None)


@pytest.mark.parametrize("principal", [AGENT, SUPERVISOR, ADMIN])
@pytest.mark.parametrize("ticket", [OWN, TEAM_UNASSIGNED, TEAM_COLLEAGUES, OTHER_TEAM, NO_TEAM])
@pytest.mark.parametrize("ability", sorted(TICKET_ABILITIES))
def test_a_found_ticket_is_decided_by_check_and_raised_as_its_verdict(
    principal: Principal, ticket: TicketScope, ability: Ability
) -> None:
    verdict = ticket_verdict(principal, ability, ticket)
    assert verdict is check(principal, ability, ticket)
    raised = {Verdict.HIDDEN: OutOfScope, Verdict.FORBIDDEN: NotAllowed}.get(verdict)
    if raised is None:
        require(principal, ability, ticket)
    else:
        with pytest.raises(raised):
            require(principal, ability, ticket)


def test_scope_is_decided_before_the_role() -> None:
    # an agent may not assign any ticket, but one out of their scope is 404, not 403
    assert ticket_verdict(AGENT, Ability.ASSIGN, OTHER_TEAM) is Verdict.HIDDEN
    assert ticket_verdict(AGENT, Ability.ASSIGN, OWN) is Verdict.FORBIDDEN
    with pytest.raises(NotAllowed, match=r"an? agent may not do this \(ticket\.assign\)"):
        require(AGENT, Ability.ASSIGN, OWN)


def test_an_ability_on_a_ticket_needs_the_ticket() -> None:
    with pytest.raises(ValueError, match=r"ticket\.reply"):
        check(ADMIN, Ability.REPLY)


def test_every_ability_has_a_minimum_role() -> None:
    for ability in Ability:
        check(ADMIN, ability, OWN if ability in TICKET_ABILITIES else None)


def test_a_team_that_names_an_agent_its_supervisor_makes_them_a_supervisor_of_it() -> None:
    named = account(SAM, teams=(BILLING,), supervises=(SUPPORT,))
    assert account_role(named) is Role.SUPERVISOR
    assert principal_of(named).supervised == {SUPPORT}  # not billing: there a member


def test_a_configured_supervisor_supervises_the_teams_they_are_in() -> None:
    configured = account(SAM, Role.SUPERVISOR, teams=(BILLING,), supervises=(SUPPORT,))
    assert principal_of(configured).supervised == {SUPPORT, BILLING}


def test_a_token_role_narrows_the_account_and_never_widens_it() -> None:
    sam = account(SAM, teams=(BILLING,), supervises=(SUPPORT,))
    as_agent = principal_of(sam, token_role=Role.AGENT, token_id=7)
    assert as_agent.role is Role.AGENT
    assert as_agent.supervised == frozenset()
    assert as_agent.token_id == 7
    assert check(as_agent, Ability.VIEW_TICKET, TEAM_COLLEAGUES) is Verdict.HIDDEN
    assert principal_of(sam, token_role=Role.ADMIN).role is Role.SUPERVISOR
    assert may_grant(sam, Role.SUPERVISOR) and not may_grant(sam, Role.ADMIN)


def test_an_origin_is_recorded_under_its_actor_with_how_and_from_where() -> None:
    origin = Origin(
        actor="agent:ana", via=Via.TOKEN, address="203.0.113.9", token_id=4, token_name="crm"
    )
    assert str(origin) == "agent:ana"
    assert origin.audit_data() == {
        "via": "token",
        "address": "203.0.113.9",
        "token_id": 4,
        "token_name": "crm",
    }
    assert cli_as("ben").audit_data() == {"via": "cli", "claimed_as": "ben"}


@pytest.mark.parametrize(
    ("text", "lifetime"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("90m", timedelta(minutes=90)),
        (" 2W ", timedelta(weeks=2)),
        ("never", None),
    ],
)
def test_a_token_lifetime_is_a_number_and_a_unit_or_never(
    text: str, lifetime: timedelta | None
) -> None:
    assert parse_lifetime(text) == lifetime


@pytest.mark.parametrize("text", ["30", "d", "0d", "-1d", "3y", "1.5d", "99999w", ""])
def test_a_lifetime_that_is_not_one_says_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match=r"30d|too long"):
        parse_lifetime(text)


def test_a_session_ends_when_idle_when_too_old_or_when_revoked() -> None:
    policy = SessionPolicy(idle=timedelta(hours=8), max_age=timedelta(days=7))
    signed_in = NOW - timedelta(days=2)

    def alive(
        last_seen: datetime, revoked: datetime | None = None, created: datetime = signed_in
    ) -> bool:
        return policy.alive(created_at=created, last_seen_at=last_seen, revoked_at=revoked, now=NOW)

    assert alive(NOW - timedelta(hours=7, minutes=59))
    assert not alive(NOW - timedelta(hours=8))
    assert not alive(NOW - timedelta(minutes=1), created=NOW - timedelta(days=7))
    assert not alive(NOW - timedelta(minutes=1), revoked=NOW - timedelta(seconds=1))
    assert policy.needs_touch(NOW - timedelta(seconds=61), NOW)
    assert not policy.needs_touch(NOW - timedelta(seconds=5), NOW)


def test_a_token_is_usable_until_it_expires_or_is_revoked() -> None:
    assert token_usable(expires_at=None, revoked_at=None, now=NOW)
    assert token_usable(expires_at=NOW + timedelta(seconds=1), revoked_at=None, now=NOW)
    assert not token_usable(expires_at=NOW, revoked_at=None, now=NOW)
    assert not token_usable(expires_at=None, revoked_at=NOW, now=NOW)


def test_sign_in_waits_once_the_window_holds_the_most_failures_allowed() -> None:
    limit = SignInLimit(max_failures=3, window=timedelta(minutes=15))
    count = None
    for _ in range(2):
        count = limit.after_failure(count, NOW)
        assert limit.wait(count, NOW) is None
    count = limit.after_failure(count, NOW + timedelta(minutes=5))
    assert count == FailureCount(3, NOW)
    assert limit.wait(count, NOW + timedelta(minutes=5)) == timedelta(minutes=10)
    assert limit.wait(count, NOW + timedelta(minutes=15)) is None
    assert limit.after_failure(count, NOW + timedelta(minutes=15)) == FailureCount(
        1, NOW + timedelta(minutes=15)
    )


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    assert retry_after_seconds(timedelta(seconds=0.2)) == 1
    assert retry_after_seconds(timedelta(seconds=59.01)) == 60


def test_failures_count_per_account_name_and_per_address_or_ipv6_network() -> None:
    from router.sign_in_limits import account_key, address_key

    assert account_key(" Ana ") == "account:ana"
    assert address_key("203.0.113.9") == "address:203.0.113.9"
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::7")
    assert address_key("2001:db8:1:2::1") == "address:2001:db8:1:2::/64"
    assert address_key("::ffff:203.0.113.9") == "address:203.0.113.9"
    assert address_key(None) == "address:unknown"
