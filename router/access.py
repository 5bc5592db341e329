"""Who may do what: a signed-in principal, a ticket's scope facts, and the one check.

Pure rules, no IO. Every staff operation is decided here: ``check(principal, ability)``
for one about no ticket, ``ticket_verdict(principal, ability, ticket)`` for one on a ticket
looked up by its number (the staff gate, the ticket's read, the workspace's ticket page
and the answers that lock the row all ask it), and ``require`` when the verdict is to be
raised. The verdict, and the answer it gets (the one rule, stated here):

- ``HIDDEN`` (404): the ticket is outside the principal's scope, or no ticket has that
  number; both answer the same, as if it did not exist, so nobody learns which numbers
  exist elsewhere. Scope is decided first: a ticket out of scope is 404 whatever the role.
- ``FORBIDDEN`` (403): the principal sees the ticket (or the operation needs
  none) but their role may not do this.
- ``ALLOWED``.

Scope: an admin sees every ticket; a supervisor every ticket of the teams they
supervise; everyone their own tickets and the unassigned tickets of their
teams. Roles: ``MINIMUM_ROLE`` below; an ability on a ticket that needs a
supervisor needs one *of that ticket's team* (or an admin).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from router.errors import NotAllowed, OutOfScope
from router.vocabulary import Role


class Ability(StrEnum):
    """What a principal may be allowed to do; the staff API's operations map onto these."""

    # on a ticket (needs the ticket in scope)
    VIEW_TICKET = "ticket.view"
    REPLY = "ticket.reply"
    NOTE = "ticket.note"
    CHANGE_STATUS = "ticket.status"
    EDIT_FIELDS = "ticket.edit"
    CLAIM = "ticket.claim"
    ASSIGN = "ticket.assign"  # assign, transfer or unassign: give a ticket to someone else
    MERGE = "ticket.merge"  # merge into another ticket of the requester (in scope too)
    # not about one ticket
    LIST_TICKETS = "tickets.list"
    LIST_AGENTS = "agents.list"
    SET_OWN_STATUS = "agents.own_status"
    VIEW_REPORTS = "reports.view"
    VIEW_BOARD = "board.view"  # the supervisor's board of their teams
    VIEW_CUSTOMERS = "customers.view"  # customers and organisations (router.customer_records)
    EDIT_CUSTOMERS = "customers.edit"  # create, update, merge; organisations too
    MANAGE_ACCOUNTS = "accounts.manage"
    MANAGE_TOKENS = "tokens.manage"
    MANAGE_WEBHOOKS = "webhooks.manage"
    MANAGE_MACROS = "macros.manage"  # make, change, remove the macros kept by the API
    SIMULATE_CONFIG = "config.simulate"  # replay past tickets through a candidate configuration


MINIMUM_ROLE: dict[Ability, Role] = {
    Ability.VIEW_TICKET: Role.AGENT,
    Ability.REPLY: Role.AGENT,
    Ability.NOTE: Role.AGENT,
    Ability.CHANGE_STATUS: Role.AGENT,
    Ability.EDIT_FIELDS: Role.AGENT,
    Ability.CLAIM: Role.AGENT,
    Ability.ASSIGN: Role.SUPERVISOR,
    Ability.MERGE: Role.AGENT,
    Ability.LIST_TICKETS: Role.AGENT,
    Ability.LIST_AGENTS: Role.AGENT,
    Ability.SET_OWN_STATUS: Role.AGENT,
    Ability.VIEW_REPORTS: Role.SUPERVISOR,
    Ability.VIEW_BOARD: Role.SUPERVISOR,
    Ability.VIEW_CUSTOMERS: Role.AGENT,
    Ability.EDIT_CUSTOMERS: Role.SUPERVISOR,
    Ability.MANAGE_ACCOUNTS: Role.ADMIN,
    Ability.MANAGE_TOKENS: Role.ADMIN,
    Ability.MANAGE_WEBHOOKS: Role.ADMIN,
    Ability.MANAGE_MACROS: Role.ADMIN,
    Ability.SIMULATE_CONFIG: Role.ADMIN,
}

TICKET_ABILITIES = frozenset(a for a in Ability if a.value.startswith("ticket."))


class Verdict(StrEnum):
    ALLOWED = "allowed"
    FORBIDDEN = "forbidden"  # 403: the role may not
    HIDDEN = "hidden"  # 404: outside the principal's scope, as if it did not exist


@dataclass(frozen=True)
class Account:
    """A staff account as the store knows it: the input to ``principal_of``."""

    agent_id: int
    name: str
    role: Role  # as configured (``role = ...`` on the agent; "agent" when not given)
    teams: frozenset[int]  # the teams the agent is a member of
    supervises: frozenset[int]  # the teams that name the agent as their supervisor


@dataclass(frozen=True)
class Principal:
    """Who is asking, with the role and scope they act with right now.

    ``token_id`` is set when the request came with an API token (whose role may
    be narrower than the account's), None for a signed-in session.
    """

    agent_id: int
    name: str
    role: Role
    teams: frozenset[int]
    supervised: frozenset[int]  # empty unless ``role`` is supervisor (an admin sees all)
    token_id: int | None = None

    @property
    def actor(self) -> str:
        """The audit log's name for this person."""
        return f"agent:{self.name}"


@dataclass(frozen=True)
class TicketScope:
    """The facts of a ticket that scope depends on."""

    number: int
    team_id: int | None
    assignee_id: int | None


def account_role(account: Account) -> Role:
    """The role an account has: as configured, and at least supervisor when a team names
    the agent as its supervisor."""
    if account.supervises and not account.role.at_least(Role.SUPERVISOR):
        return Role.SUPERVISOR
    return account.role


def principal_of(
    account: Account, *, token_role: Role | None = None, token_id: int | None = None
) -> Principal:
    """The principal acting for ``account``: with a token, its role, but never wider than
    the account's own (an account demoted later narrows its tokens with it)."""
    role = account_role(account)
    if token_role is not None and token_role.rank < role.rank:
        role = token_role
    supervised: frozenset[int] = frozenset()
    if role is Role.SUPERVISOR:
        # a configured supervisor supervises the teams they are in, too
        own = account.teams if account.role.at_least(Role.SUPERVISOR) else frozenset()
        supervised = account.supervises | own
    return Principal(
        agent_id=account.agent_id,
        name=account.name,
        role=role,
        teams=account.teams,
        supervised=supervised,
        token_id=token_id,
    )


def may_grant(account: Account, role: Role) -> bool:
    """Whether a token for ``account`` may carry ``role``: narrower or equal, never wider."""
    return account_role(account).at_least(role)


def visible(principal: Principal, ticket: TicketScope) -> bool:
    """Whether ``ticket`` is in ``principal``'s scope."""
    if principal.role is Role.ADMIN:
        return True
    if ticket.team_id is not None and ticket.team_id in principal.supervised:
        return True
    if ticket.assignee_id is not None:
        return ticket.assignee_id == principal.agent_id
    return ticket.team_id is not None and ticket.team_id in principal.teams


def check(principal: Principal, ability: Ability, ticket: TicketScope | None = None) -> Verdict:
    """May ``principal`` do ``ability`` (to ``ticket``, for the abilities on a ticket)?"""
    if ability in TICKET_ABILITIES:
        if ticket is None:
            raise ValueError(f"{ability.value} is about a ticket: pass its scope")
        if not visible(principal, ticket):
            return Verdict.HIDDEN
    minimum = MINIMUM_ROLE[ability]
    if not principal.role.at_least(minimum):
        return Verdict.FORBIDDEN
    if (
        ticket is not None
        and minimum is Role.SUPERVISOR
        and principal.role is Role.SUPERVISOR
        and ticket.team_id not in principal.supervised
    ):
        return Verdict.FORBIDDEN  # a supervisor, but not of this ticket's team
    return Verdict.ALLOWED


def ticket_verdict(principal: Principal, ability: Ability, ticket: TicketScope | None) -> Verdict:
    """May ``principal`` do ``ability`` to a ticket looked up by its number: ``ticket`` its
    scope facts, None when no ticket has that number (``HIDDEN``, as one out of scope)."""
    if ticket is None:
        return Verdict.HIDDEN
    return check(principal, ability, ticket)


def require(principal: Principal, ability: Ability, ticket: TicketScope | None) -> None:
    """``ticket_verdict`` raised, for a use case that decides on the row it locks:
    ``OutOfScope`` (answered 404) for ``HIDDEN``, ``NotAllowed`` (403) for ``FORBIDDEN``."""
    verdict = ticket_verdict(principal, ability, ticket)
    if verdict is Verdict.HIDDEN:
        raise OutOfScope("ticket not found")
    if verdict is Verdict.FORBIDDEN:
        raise NotAllowed(refusal(principal, ability))


def refusal(principal: Principal, ability: Ability) -> str:
    """Why a ``FORBIDDEN`` verdict: the words of a 403."""
    return f"a {principal.role.value} may not do this ({ability.value})"
