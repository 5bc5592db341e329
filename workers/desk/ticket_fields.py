"""Edit a ticket's fields: priority, category, team, tags and custom fields.

One use case for the staff API, the workspace and the command line. The edit
is decided in ``router.ticket_edits``; here it is applied to the locked ticket
with its consequences in the same transaction: the SLA clocks planned again
when a field a policy matches on changed, and, when the team changes to one its
agent is not in, the ticket taken from that agent and put in the new team's
queue, which is drained once committed (as a transfer to a team does).
"""

from __future__ import annotations

from dataclasses import dataclass

from router.audit_origin import ActorRef
from router.customer_records import effective_tier
from router.errors import NotFound, PermanentError
from router.lifecycle import is_active
from router.ticket_edits import TicketEdit, TicketFields, describe, edited, replans_clocks
from router.vocabulary import AuditAction, Channel, Priority, Status, SystemActor
from store.db import UnitOfWork
from store.models import Ticket
from store.staff_ticket_reads import require_version
from workers.desk.sla_clocks import replan_clocks
from workers.runtime.context import Runtime
from workers.steps.drain import drain_soon


@dataclass(frozen=True)
class FieldsEdited:
    """What an edit changed (the fields' names), and the teams' queues to drain once it
    is committed (``avoid``: the agent a ticket was taken from)."""

    changed: tuple[str, ...] = ()
    drain: tuple[int, ...] = ()
    avoid: dict[int, int] | None = None


def edit_ticket(
    runtime: Runtime,
    number: int,
    edit: TicketEdit,
    *,
    actor: ActorRef = SystemActor.CLI,
    reason: str = "",
    if_match: str | None = None,
) -> tuple[str, ...]:
    """Apply ``edit`` to ticket ``number``; the names of the fields that changed.

    ``NotFound`` for no such ticket or team, ``PermanentError`` for a closed ticket,
    ``ValueError`` for an edit out of bounds, ``StaleVersion`` when ``if_match`` is not
    the ticket's version."""
    with runtime.db.unit_of_work() as uow:
        ticket = uow.tickets.get(number, for_update=True)
        if ticket is None:
            raise NotFound(f"no ticket #{number}")
        require_version(uow.session, ticket, if_match)
        done = edit_fields_in(runtime, uow, ticket, edit, actor=actor, reason=reason)
    if done.drain:
        drain_soon(runtime, list(done.drain), avoid=done.avoid)
    return done.changed


def edit_fields_in(
    runtime: Runtime,
    uow: UnitOfWork,
    ticket: Ticket,
    edit: TicketEdit,
    *,
    actor: ActorRef,
    reason: str = "",
) -> FieldsEdited:
    """Apply ``edit`` to the locked ``ticket`` in the caller's transaction (audited as
    ``actor``); the caller drains ``drain`` after its commit."""
    number = ticket.id
    drain: list[int] = []
    avoid: dict[int, int] | None = None
    if Status(ticket.status) is Status.CLOSED:
        raise PermanentError(f"ticket #{number} is closed: its fields stay as they are")
    team = uow.agents.team(edit.team) if edit.team is not None else ticket.team
    if edit.team is not None and team is None:
        raise NotFound(f"no team named {edit.team!r}")
    current = TicketFields(
        priority=ticket.priority,
        category=ticket.category,
        team=ticket.team.name if ticket.team else None,
        tags=tuple(ticket.tags or ()),
        custom_fields=dict(ticket.custom_fields or {}),
    )
    after, changes = edited(current, edit)
    if not changes:
        return FieldsEdited()
    now = runtime.now()
    priority = Priority(after.priority)
    ticket.priority, ticket.priority_rank = priority.value, priority.rank
    ticket.category = after.category
    ticket.tags = list(after.tags)
    ticket.custom_fields = dict(after.custom_fields)
    ticket.updated_at = now
    data: dict[str, object] = {
        "changes": {c.name: {"before": _plain(c.before), "after": _plain(c.after)} for c in changes}
    }
    if team is not None and team.id != ticket.team_id:
        ticket.team_id = team.id
        assignee = ticket.assignee
        if assignee is not None and team not in assignee.teams:
            uow.agents.lock([assignee.id])
            uow.agents.release_slot(assignee.id)
            drain += uow.agents.teams_served_by(assignee.id)
            avoid = {number: assignee.id}
            ticket.assignee_id, ticket.assigned_at = None, None
            data["taken_from"] = assignee.name
        if ticket.assignee_id is None:
            ticket.queued_at = now
    if (
        ticket.assignee_id is None
        and ticket.team_id is not None
        and is_active(Status(ticket.status))
    ):
        drain.append(ticket.team_id)  # its place in the queue may have changed
    uow.audit.record(
        ticket_id=number,
        actor=actor,
        action=AuditAction.TICKET_EDITED,
        detail=describe(changes)
        + (f", taken from {data['taken_from']}" if "taken_from" in data else "")
        + (f": {reason}" if reason else ""),
        now=now,
        data=data,
    )
    if replans_clocks(changes):
        requester = ticket.requester
        organisation = requester.organisation
        replan_clocks(
            runtime,
            uow,
            number,
            priority=priority,
            category=after.category,
            team=after.team,
            tier=effective_tier(requester.tier, organisation.tier if organisation else None),
            channel=Channel(ticket.channel),
            now=now,
        )
    return FieldsEdited(tuple(c.name for c in changes), tuple(drain), avoid)


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value
