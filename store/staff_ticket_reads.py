"""A ticket in full as staff see it, and its version (the staff API's ETag).

The version changes with whatever an agent could overwrite or would want to have
read first: the ticket's fields (status, priority, category, team, assignee,
tags, custom fields, subject) and its conversation (a new message or note). It
does not change with deliveries or SLA warnings, so an agent's next action is not
refused because the mail they just sent went out.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, load_only

from router.customer_records import effective_tier
from router.errors import StaleVersion
from router.staff_ticket_views import (
    AuditEntry,
    ClockView,
    StaffAttachment,
    StaffMessage,
    StaffTicket,
    clock_state,
    quoted_history,
)
from router.vocabulary import Direction
from store.models import (
    Agent,
    Attachment,
    AuditEvent,
    Customer,
    Message,
    Organisation,
    SlaTimer,
    Team,
    Ticket,
)


def version_of(ticket: Ticket, conversation: tuple[int | None, int]) -> str:
    """The ticket's version: a digest of what changes it (see the module's docstring);
    ``conversation``: its last message's id and how many it has (a merge moves older
    messages in)."""
    facts = [
        ticket.id,
        ticket.subject,
        ticket.status,
        ticket.priority,
        ticket.category,
        ticket.team_id,
        ticket.assignee_id,
        ticket.parent_id,
        ticket.merged_into_id,
        sorted(ticket.tags or ()),
        ticket.custom_fields or {},
        *conversation,
    ]
    digest = hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()
    return f"{ticket.id}-{digest[:20]}"


def require_version(session: Session, ticket: Ticket, expected: str | None) -> None:
    """``StaleVersion`` unless ``ticket`` (locked by the caller) is at version ``expected``
    (None: any version)."""
    if expected is None:
        return
    current = StaffTicketReads(session).version(ticket)
    if current != expected:
        raise StaleVersion(
            f"ticket #{ticket.id} changed since it was read (now {current}): read it again"
        )


SHOWN = select(Ticket).options(
    load_only(
        Ticket.subject,
        Ticket.status,
        Ticket.priority,
        Ticket.category,
        Ticket.channel,
        Ticket.requester_id,
        Ticket.requester_address,
        Ticket.assignee_id,
        Ticket.team_id,
        Ticket.parent_id,
        Ticket.merged_into_id,
        Ticket.custom_fields,
        Ticket.tags,
        Ticket.form,
        Ticket.created_at,
        Ticket.updated_at,
        Ticket.assigned_at,
        Ticket.first_response_at,
        Ticket.resolved_at,
        Ticket.closed_at,
    ),
    joinedload(Ticket.requester)
    .load_only(Customer.name, Customer.tier, Customer.organisation_id)
    .joinedload(Customer.organisation)
    .load_only(Organisation.name, Organisation.tier),
    joinedload(Ticket.assignee).load_only(Agent.name),
    joinedload(Ticket.team).load_only(Team.name),
    joinedload(Ticket.messages)
    .load_only(
        Message.direction,
        Message.channel,
        Message.author,
        Message.body_text,
        Message.full_text,
        Message.merged_from_id,
        Message.created_at,
    )
    .joinedload(Message.attachments)
    .load_only(
        Attachment.filename,
        Attachment.content_type,
        Attachment.size,
        Attachment.sha256,
        Attachment.skipped,
    ),
)
"""What a staff ticket read loads (``StaffTicketReads.ticket``); built once."""


class StaffTicketReads:
    def __init__(self, session: Session) -> None:
        self.session = session

    def conversation(self, number: int) -> tuple[int | None, int]:
        """The ticket's last message's id and its number of messages."""
        row = self.session.execute(
            select(func.max(Message.id), func.count(Message.id)).where(Message.ticket_id == number)
        ).one()
        return row[0], int(row[1])

    def version(self, ticket: Ticket) -> str:
        return version_of(ticket, self.conversation(ticket.id))

    def versioned(self, number: int) -> tuple[Ticket, str] | None:
        """Ticket ``number`` and its version, in one statement; None: no such ticket."""
        of_ticket = Message.ticket_id == Ticket.id
        row = self.session.execute(
            select(
                Ticket,
                select(func.max(Message.id)).where(of_ticket).scalar_subquery(),
                select(func.count(Message.id)).where(of_ticket).scalar_subquery(),
            ).where(Ticket.id == number)
        ).first()
        if row is None:
            return None
        ticket, last, count = row
        return ticket, version_of(ticket, (last, int(count)))

    def ticket(self, number: int) -> Ticket | None:
        """Ticket ``number`` with its people and its conversation (each message with its
        attachments) in one statement, or None: its scope (``store.ticket_scope.scope_of``)
        and its version come from the same row. Only the columns ``in_full`` shows are
        read (``SHOWN``): the ticket's and its people's are repeated on every message's row,
        so each one left out (the JSON ones most) is left out hundreds of times for a
        long conversation."""
        return self.session.scalars(SHOWN.where(Ticket.id == number)).unique().one_or_none()

    def read(self, number: int) -> StaffTicket | None:
        ticket = self.ticket(number)
        return None if ticket is None else self.in_full(ticket)

    def in_full(self, ticket: Ticket) -> StaffTicket:
        """``ticket`` (as ``ticket`` reads it) in full: with its clocks and audit log."""
        number = ticket.id
        organisation = ticket.requester.organisation
        messages = ticket.messages
        timers = self.session.scalars(
            select(SlaTimer).where(SlaTimer.ticket_id == number).order_by(SlaTimer.id)
        )
        events = self.session.scalars(
            select(AuditEvent).where(AuditEvent.ticket_id == number).order_by(AuditEvent.id)
        )
        return StaffTicket(
            number=ticket.id,
            subject=ticket.subject,
            status=ticket.status,
            priority=ticket.priority,
            category=ticket.category,
            channel=ticket.channel,
            team=ticket.team.name if ticket.team else None,
            assignee=ticket.assignee.name if ticket.assignee else None,
            requester_name=ticket.requester.name,
            requester_address=ticket.requester_address,
            customer_id=ticket.requester_id,
            organisation=organisation.name if organisation else None,
            tier=effective_tier(ticket.requester.tier, organisation.tier if organisation else None),
            tags=tuple(ticket.tags or ()),
            custom_fields=dict(ticket.custom_fields or {}),
            form=ticket.form,
            parent=ticket.parent_id,
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            assigned_at=ticket.assigned_at,
            first_response_at=ticket.first_response_at,
            resolved_at=ticket.resolved_at,
            closed_at=ticket.closed_at,
            messages=tuple(_message(m) for m in messages),
            clocks=tuple(_clock(t) for t in timers),
            audit=tuple(
                AuditEntry(
                    id=e.id,
                    at=e.created_at,
                    actor=e.actor,
                    action=e.action,
                    detail=e.detail,
                    data=dict(e.data or {}),
                )
                for e in events
            ),
            merged_into=ticket.merged_into_id,
            version=version_of(ticket, (messages[-1].id if messages else None, len(messages))),
        )

    def attachment(self, attachment_id: int) -> tuple[int, Attachment] | None:
        """An attachment and the ticket it belongs to, or None."""
        row = self.session.execute(
            select(Message.ticket_id, Attachment)
            .join(Message, Message.id == Attachment.message_id)
            .where(Attachment.id == attachment_id)
        ).first()
        return None if row is None else (row[0], row[1])


def _message(m: Message) -> StaffMessage:
    return StaffMessage(
        id=m.id,
        direction=m.direction,
        internal=m.direction == Direction.INTERNAL.value,
        channel=m.channel,
        author=m.author,
        body_text=m.body_text,
        created_at=m.created_at,
        quoted=quoted_history(m.full_text, m.body_text),
        merged_from=m.merged_from_id,
        attachments=tuple(
            StaffAttachment(
                id=a.id,
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                kept=a.sha256 is not None,
                note=a.skipped or "",
            )
            for a in m.attachments
        ),
    )


def _clock(t: SlaTimer) -> ClockView:
    return ClockView(
        kind=t.kind,
        policy=t.policy,
        calendar=t.calendar,
        state=clock_state(
            target_s=t.target_s,
            paused=t.paused,
            stopped=t.stopped_at is not None,
            breached=t.breached_at is not None,
        ),
        target_s=t.target_s,
        consumed_s=t.consumed_s,
        started_at=t.started_at,
        warn_at=t.warn_at,
        due_at=t.due_at,
        warned_at=t.warned_at,
        breached_at=t.breached_at,
        stopped_at=t.stopped_at,
    )
