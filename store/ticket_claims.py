"""Routing's side of the tickets table: the tickets it locks, with what it needs to know
of them, and the conditional UPDATE that gives one to an agent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    Select,
    Update,
    bindparam,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, aliased

from router.lifecycle import ACTIVE_STATUSES
from router.notice_texts import Requester
from router.routing_facts import TicketFacts
from router.vocabulary import Priority, Status
from store import agent_statements
from store.dialect import table
from store.models import Customer, Message, Team, Ticket


@dataclass(frozen=True)
class RoutingTicket:
    """A locked ticket as routing sees it."""

    facts: TicketFacts
    status: Status
    assignee_id: int | None
    team_id: int | None
    subject: str
    requester: Requester
    first_message: str
    queued_at: datetime
    claim_mode: bool = False  # the team offers tickets; agents claim them
    fallback_team: tuple[int, str] | None = None  # may take it after the skills timeout


def lock_routing_tickets(session: Session, ticket_ids: Sequence[int]) -> dict[int, RoutingTicket]:
    """Lock the tickets no agent has (FOR UPDATE on PostgreSQL) in id order, so two routers
    locking overlapping sets wait, never deadlock, and read what routing needs; by id. (A
    ticket someone has is not locked: a routing batch, which waits for agents after, holds
    no ticket that a writer holding its agent may wait for.)"""
    rows = session.execute(_lock_for_routing(), {"ticket_ids": list(ticket_ids)}).all()
    return {row[0]: _routing_ticket(row) for row in rows}


@cache
def _lock_for_routing() -> Executable:
    """Built once (see ``store.dialect``): routing runs it for every message, and building
    its eighteen columns, joins and subquery cost more than running it."""
    fallback = aliased(Team)
    return (
        select(
            Ticket.id,
            Ticket.status,
            Ticket.assignee_id,
            Ticket.team_id,
            Team.name,
            Ticket.priority,
            Ticket.created_at,
            Ticket.subject,
            Customer.name,
            Ticket.requester_address,
            select(Message.body_text)
            .where(Message.ticket_id == Ticket.id)
            .order_by(Message.id)
            .limit(1)
            .scalar_subquery(),
            Ticket.channel,
            Ticket.required_skills,
            Ticket.optional_skills,
            Ticket.queued_at,
            Team.claim_mode,
            fallback.id,
            fallback.name,
        )
        .join(Customer, Customer.id == Ticket.requester_id)
        .outerjoin(Team, Team.id == Ticket.team_id)
        .outerjoin(fallback, fallback.id == Team.fallback_team_id)
        .where(Ticket.id.in_(bindparam("ticket_ids", expanding=True)), Ticket.assignee_id.is_(None))
        .order_by(Ticket.id)
        .with_for_update(of=Ticket)
    )


def _routing_ticket(row: Any) -> RoutingTicket:
    return RoutingTicket(
        facts=TicketFacts(
            id=row[0],
            team=row[4] or "",
            priority=Priority(row[5]),
            created_at=row[6],
            channel=row[11],
            required_skills=dict(row[12] or {}),
            optional_skills=dict(row[13] or {}),
        ),
        status=Status(row[1]),
        assignee_id=row[2],
        team_id=row[3],
        subject=row[7],
        requester=Requester(row[8] or "", row[9], row[11]),
        first_message=row[10] or "",
        queued_at=row[14] or row[6],
        claim_mode=bool(row[15]),
        fallback_team=(row[16], row[17]) if row[16] is not None else None,
    )


def assign_many(
    session: Session, assignments: Sequence[tuple[int, int, Status | None]], now: datetime
) -> int:
    """Give each ticket to its agent unless someone has it or it is done (ticket, agent, and
    the status it takes, or None): a statement for those whose status changes and one for
    the others; how many were assigned."""
    assigned = 0
    for with_status in (True, False):
        rows = [
            {"ticket_id": t, "agent_id": a, "now": now}
            | ({"new_status": s.value} if s is not None else {})
            for t, a, s in assignments
            if (s is not None) is with_status
        ]
        if rows:
            result = session.execute(assign_if_unassigned(with_status), rows)
            assigned += int(getattr(result, "rowcount", 0))
    return assigned


def assign(
    session: Session, ticket_id: int, agent_id: int, now: datetime, status: Status | None
) -> bool:
    """Give the ticket to ``agent_id`` unless someone has it or it is done, ``status`` (when
    not None) set in the same statement; whether it took."""
    values: dict[str, Any] = {"ticket_id": ticket_id, "agent_id": agent_id, "now": now}
    if status is not None:
        values["new_status"] = status.value
    result = session.execute(assign_if_unassigned(status is not None), values)
    return bool(getattr(result, "rowcount", 0))


@cache
def assign_if_unassigned(with_status: bool) -> Update:
    """Give a ticket to an agent unless someone has it or it is done (``ticket_id``,
    ``agent_id``, ``now``, and ``new_status`` if ``with_status``); built once (see
    ``store.dialect``): the routing hot path runs it for every ticket."""
    return _assignment(with_status, bindparam("agent_id"))


@cache
def assign_to_best_free(with_status: bool) -> Select[Any]:
    """PostgreSQL: ``agent_statements.claim_best_free`` (a slot of the first agent in
    ``ranked`` that is free, whose row no other router holds) and the ticket's assignment
    to that agent (``assign_if_unassigned``, the same parameters but ``agent_id``) in one
    statement; its row: the agent claimed, and the ticket's id if it took the agent (no
    row: nobody was free, nothing changed)."""
    claimed = agent_statements.claim_best_free().cte("claimed")
    agent = select(claimed.c.id).scalar_subquery()
    assigned = (
        _assignment(with_status, agent)
        .where(agent.is_not(None))
        .returning(table(Ticket).c.id)
        .cte("assigned")
    )
    return select(claimed.c.id, assigned.c.id).select_from(claimed.outerjoin(assigned, true()))


def _assignment(with_status: bool, agent: ColumnElement[Any]) -> Update:
    """The UPDATE giving the ticket ``ticket_id`` to ``agent`` unless someone has it or it
    is done."""
    tickets = table(Ticket).c
    values: dict[str, Any] = {
        "assignee_id": agent,
        "assigned_at": bindparam("now"),
        "updated_at": bindparam("now"),
    }
    if with_status:  # (not "status": a parameter named as a column of an UPDATE's table
        # sets that column, the agents' status in ``assign_to_best_free``'s claim)
        values["status"] = bindparam("new_status")
    return (
        update(table(Ticket))
        .where(
            tickets.id == bindparam("ticket_id"),
            tickets.assignee_id.is_(None),
            # written into the statement, not a list parameter: an executemany (a batch's
            # tickets, ``assign_many_if_unassigned``) cannot expand one
            tickets.status.in_([literal_column(f"'{s.value}'") for s in ACTIVE_STATUSES]),
        )
        .values(**values)
    )
