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
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Executable, bindparam, func, select
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
from store.dialect import table
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


def require_version(
    session: Session,
    ticket: Ticket,
    expected: str | None,
    conversation: tuple[int | None, int] | None = None,
) -> None:
    """``StaleVersion`` unless ``ticket`` (locked by the caller) is at version ``expected``
    (None: any version); ``conversation``: its facts when read with it (else read now)."""
    if expected is None:
        return
    if conversation is None:
        conversation = StaffTicketReads(session).conversation(ticket.id)
    current = version_of(ticket, conversation)
    if current != expected:
        raise StaleVersion(
            f"ticket #{ticket.id} changed since it was read (now {current}): read it again"
        )


SHOWN = (
    select(
        Ticket,
        Customer.name.label("requester_name"),
        Customer.tier.label("requester_tier"),
        Organisation.name.label("organisation"),
        Organisation.tier.label("organisation_tier"),
        Team.name.label("team_name"),
        Agent.name.label("assignee_name"),
        Message.id.label("message_id"),
        Message.direction,
        Message.channel.label("message_channel"),
        Message.author,
        Message.body_text,
        Message.full_text,
        Message.merged_from_id,
        Message.created_at.label("message_created_at"),
        Attachment.id.label("file_id"),
        Attachment.filename,
        Attachment.content_type,
        Attachment.size,
        Attachment.sha256,
        Attachment.skipped,
    )
    .options(
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
        )
    )
    .join(Customer, Customer.id == Ticket.requester_id)
    .outerjoin(Organisation, Organisation.id == Customer.organisation_id)
    .outerjoin(Team, Team.id == Ticket.team_id)
    .outerjoin(Agent, Agent.id == Ticket.assignee_id)
    .outerjoin(Message, Message.ticket_id == Ticket.id)
    .outerjoin(Attachment, Attachment.message_id == Message.id)
    .order_by(Message.id, Attachment.id)
)
"""What a staff ticket read loads (``StaffTicketReads.ticket``), built once: the ticket (the
columns it shows) with its people's names, a row per message and file. The messages and
files are plain columns, not ORM objects (200 messages as objects cost 3 times the
rows' reading), and the ticket's own columns, repeated on every row, are only those
shown (a JSON column left out is 200 decodings saved)."""


@dataclass(frozen=True)
class TicketRead:
    """A ticket as ``StaffTicketReads.ticket`` reads it: its row (the scope and version are
    decided on it), its people's names and its conversation."""

    ticket: Ticket
    people: Any  # the first row: requester_name, _tier, organisation(_tier), team_name, ...
    messages: tuple[StaffMessage, ...]


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
        row = self.session.execute(
            select(Ticket, *_conversation_facts()).where(Ticket.id == number)
        ).first()
        if row is None:
            return None
        ticket, last, count = row
        return ticket, version_of(ticket, (last, int(count)))

    def locked_for_answer(
        self, number: int, agent_name: str
    ) -> tuple[Ticket, Agent | None, tuple[int | None, int]] | None:
        """Ticket ``number`` locked for an answer (FOR UPDATE), with its requester, the
        answering agent ``agent_name`` (None: no such agent) and its conversation's facts
        (``conversation``: its version), in one statement; None: no such ticket."""
        row = self.session.execute(
            _locked_for_answer(), {"number": number, "agent_name": agent_name}
        ).first()
        if row is None:
            return None
        ticket, agent, last, count = row
        return ticket, agent, (last, int(count))

    def ticket(self, number: int) -> TicketRead | None:
        """Ticket ``number`` with its people and its conversation (each message with its
        attachments) in one statement (``SHOWN``), or None: its scope
        (``store.ticket_scope.scope_of_ticket``) and its version come from the same rows."""
        rows = self.session.execute(_shown_ticket(), {"number": number}).all()
        if not rows:
            return None
        return TicketRead(ticket=rows[0][0], people=rows[0], messages=_conversation(rows))

    def read(self, number: int) -> StaffTicket | None:
        found = self.ticket(number)
        return None if found is None else self.in_full(found)

    def in_full(self, found: TicketRead) -> StaffTicket:
        """A ticket as ``ticket`` read it, in full: with its clocks and audit log."""
        ticket, people, messages = found.ticket, found.people, found.messages
        number = ticket.id
        timers = self.session.execute(_clocks(), {"number": number})
        events = self.session.execute(_audit_log(), {"number": number})
        return StaffTicket(
            number=ticket.id,
            subject=ticket.subject,
            status=ticket.status,
            priority=ticket.priority,
            category=ticket.category,
            channel=ticket.channel,
            team=people.team_name,
            assignee=people.assignee_name,
            requester_name=people.requester_name,
            requester_address=ticket.requester_address,
            customer_id=ticket.requester_id,
            organisation=people.organisation,
            tier=effective_tier(people.requester_tier, people.organisation_tier),
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
            messages=messages,
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


def _conversation_facts() -> tuple[Any, Any]:
    """``conversation``'s two facts (the last message's id, the number of messages) as
    scalar subqueries of a statement that selects ``Ticket``."""
    of_ticket = Message.ticket_id == Ticket.id
    return (
        select(func.max(Message.id)).where(of_ticket).scalar_subquery(),
        select(func.count(Message.id)).where(of_ticket).scalar_subquery(),
    )


def _conversation(rows: Sequence[Any]) -> tuple[StaffMessage, ...]:
    """The messages of ``SHOWN``'s rows (a row per message and file, in order), each with
    its files."""
    messages: dict[int, tuple[Any, list[StaffAttachment]]] = {}
    for row in rows:
        if row.message_id is None:  # a ticket without messages: its one row
            continue
        _, files = messages.setdefault(row.message_id, (row, []))
        if row.file_id is not None:
            files.append(
                StaffAttachment(
                    id=row.file_id,
                    filename=row.filename,
                    content_type=row.content_type,
                    size=row.size,
                    kept=row.sha256 is not None,
                    note=row.skipped or "",
                )
            )
    return tuple(_message(row, files) for row, files in messages.values())


def _message(m: Any, files: list[StaffAttachment]) -> StaffMessage:
    return StaffMessage(
        id=m.message_id,
        direction=m.direction,
        internal=m.direction == Direction.INTERNAL.value,
        channel=m.message_channel,
        author=m.author,
        body_text=m.body_text,
        created_at=m.message_created_at,
        quoted=quoted_history(m.full_text, m.body_text),
        merged_from=m.merged_from_id,
        attachments=tuple(files),
    )


def _clock(t: Any) -> ClockView:
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


# The read's and the answer's statements, built once with bound parameters: building one
# anew (and computing its cache key again) cost more than running it.


@cache
def _locked_for_answer() -> Executable:
    return (
        select(Ticket, Agent, *_conversation_facts())
        .outerjoin(Agent, Agent.name == bindparam("agent_name"))
        .where(Ticket.id == bindparam("number"))
        .options(joinedload(Ticket.requester, innerjoin=True))
        .with_for_update(of=Ticket)
        .execution_options(populate_existing=True)
    )


@cache
def _shown_ticket() -> Executable:
    return SHOWN.where(Ticket.id == bindparam("number"))


@cache
def _clocks() -> Executable:
    """The ticket's SLA clocks as plain rows (Core: no ORM objects for a read)."""
    timers = table(SlaTimer)
    return select(timers).where(timers.c.ticket_id == bindparam("number")).order_by(timers.c.id)


@cache
def _audit_log() -> Executable:
    """The ticket's audit log as plain rows (Core: no ORM objects for a read)."""
    events = table(AuditEvent)
    return (
        select(
            events.c.id,
            events.c.created_at,
            events.c.actor,
            events.c.action,
            events.c.detail,
            events.c.data,
        )
        .where(events.c.ticket_id == bindparam("number"))
        .order_by(events.c.id)
    )
