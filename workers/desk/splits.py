"""Split a customer's message out into a new ticket of the same requester (a second
question in one mail): the message (its files with it) moves to the new ticket, which
takes the old one's channel, team, priority and category, starts its own SLA clocks and is
routed; both tickets' audit logs say so."""

from __future__ import annotations

import secrets

from router.audit_origin import ActorRef
from router.errors import NotFound, PermanentError
from router.vocabulary import AuditAction, Channel, Direction, Priority, Status
from store.models import Message
from store.staff_ticket_reads import require_version
from workers.desk.sla_clocks import start_clocks
from workers.runtime.context import Runtime
from workers.steps.route import route_soon

MAX_SUBJECT = 998


def split_message(
    runtime: Runtime,
    number: int,
    message_id: int,
    *,
    subject: str,
    actor: ActorRef,
    if_match: str | None = None,
) -> int:
    """Move message ``message_id`` of ticket ``number`` into a new ticket; its number.
    ``NotFound`` for a message that is not the ticket's; ``PermanentError`` for one that
    cannot be split out (not the customer's, the ticket's first, or a closed ticket);
    ``StaleVersion`` when the ticket is no longer at version ``if_match``."""
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        ticket = uow.tickets.get(number, for_update=True)
        if ticket is None:
            raise NotFound(f"no ticket #{number}")
        require_version(uow.session, ticket, if_match)
        message = uow.session.get(Message, message_id)
        if message is None or message.ticket_id != number:
            raise NotFound(f"no message {message_id} on ticket #{number}")
        if message.direction != Direction.INBOUND.value:
            raise PermanentError("only a customer's message can be split out")
        if Status(ticket.status) is Status.CLOSED:
            raise PermanentError(f"ticket #{number} is closed")
        first = min(m.id for m in ticket.messages)
        if message.id == first:
            raise PermanentError("the ticket's first message stays: split out a later one")
        title = (subject.strip() or f"{ticket.subject} (split from #{number})")[:MAX_SUBJECT]
        team = ticket.team.name if ticket.team else None
        new = uow.tickets.create(
            subject=title,
            channel=Channel(ticket.channel),
            requester_id=ticket.requester_id,
            requester_address=ticket.requester_address,
            priority=Priority(ticket.priority),
            category=ticket.category,
            team_id=ticket.team_id,
            now=now,
            parent_id=number,
            access_key=secrets.token_urlsafe(18),
            tags=list(ticket.tags or []),
            reply_address=ticket.reply_address,
        )
        message.ticket_id = new
        ticket.updated_at = now
        uow.audit.record(
            ticket_id=number,
            actor=actor,
            action=AuditAction.TICKET_SPLIT,
            detail=f"message {message_id} split out into #{new}",
            now=now,
            data={"message": message_id, "into": new},
        )
        uow.audit.record(
            ticket_id=new,
            actor=actor,
            action=AuditAction.TICKET_CREATED,
            detail=f"split from #{number} (message {message_id})",
            now=now,
            data={"split_from": number, "message": message_id},
        )
        start_clocks(
            runtime,
            uow,
            new,
            priority=Priority(ticket.priority),
            category=ticket.category,
            team=team,
            tier=ticket.requester.tier
            or (ticket.requester.organisation.tier if ticket.requester.organisation else None),
            channel=Channel(ticket.channel),
            now=now,
            opened=True,
        )
    route_soon(runtime, [new])
    return new
