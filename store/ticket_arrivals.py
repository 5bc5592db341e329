"""Tickets as they arrived, for replaying them through classification rules.

A ticket's arrival is its first inbound message (text and headers as stored), its
inbox row's envelope (source, hints, language) when it has one, the ticket's
subject, form and custom fields, and its requester's tier and organisation (their
own tier, else their organisation's, as ingest reads them: as they are now), and what
became of it: when it was created, first answered, resolved and done, and each change
of its status (pending, open again, resolved, reopened: its audit events), which the
SLA replay moves its clocks by. Read in two statements (the tickets, their status
changes) whose rows stream in batches in ticket order and are merged as they come, so a
long period takes constant memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from router.envelopes import InboundMessage
from router.rule_facts import facts_from_message
from router.rule_simulation import Arrival
from router.vocabulary import AuditAction, Channel, Direction, Status
from store.models import AuditEvent, Customer, InboxItem, Message, Organisation, Team, Ticket

PAGE = 1000
# the audit events of a status change, each with its data's from and to
STATUS_ACTIONS = (AuditAction.TICKET_STATUS.value, AuditAction.TICKET_REOPENED.value)

_Times = tuple[datetime, datetime | None, datetime | None, datetime | None]
_Row = tuple[int, InboundMessage, str | None, str | None, _Times]  # number, message, tier, org


class TicketArrivals:
    def __init__(self, session: Session) -> None:
        self.session = session

    def count(self, start: datetime, end: datetime, teams: Sequence[str] = ()) -> int:
        query = select(func.count(Ticket.id))
        return int(self.session.scalar(self._within(query, start, end, teams)) or 0)

    def between(
        self, start: datetime, end: datetime, teams: Sequence[str] = ()
    ) -> Iterator[Arrival]:
        """The tickets created in ``[start, end)`` (of ``teams``, if named), by number."""
        moves = self._moves(start, end, teams)
        ahead = next(moves, None)
        for number, message, tier, org, (created, responded, resolved, done) in self._read(
            start, end, teams
        ):
            mine: list[tuple[datetime, Status, Status]] = []
            while ahead is not None and ahead[0] <= number:
                if ahead[0] == number:
                    mine.append(ahead[1])
                ahead = next(moves, None)
            yield Arrival(
                number=number,
                facts=facts_from_message(
                    message, tier=tier, organisation=org, template=message.template
                ),
                category_hint=message.category_hint,
                priority_hint=message.priority_hint,
                arrived_at=created,
                responded_at=responded,
                resolved_at=resolved,
                done_at=done,
                moves=tuple(mine),
            )

    def messages(
        self, start: datetime, end: datetime, teams: Sequence[str] = ()
    ) -> Iterator[tuple[int, InboundMessage, str | None, str | None]]:
        """Each ticket's number, the message it arrived with as ``between`` reads it, and
        its requester's tier and organisation (to replay the message itself)."""
        for number, message, tier, org, _times in self._read(start, end, teams):
            yield number, message, tier, org

    def _read(self, start: datetime, end: datetime, teams: Sequence[str]) -> Iterator[_Row]:
        """One statement whose rows stream in batches of ``PAGE`` (a server-side cursor on
        PostgreSQL), so a long period holds one batch at a time; each ticket's first
        inbound message joined by its number."""
        tickets = self._within(select(Ticket.id), start, end, teams)
        first = (
            select(Message.ticket_id, func.min(Message.id).label("message_id"))
            .where(Message.ticket_id.in_(tickets), Message.direction == Direction.INBOUND.value)
            .group_by(Message.ticket_id)
            .subquery()
        )
        query = (
            self._within(self._columns(), start, end, teams)
            .join(first, first.c.ticket_id == Ticket.id)
            .join(Message, Message.id == first.c.message_id)
            .join(Customer, Customer.id == Ticket.requester_id)
            .outerjoin(Organisation, Organisation.id == Customer.organisation_id)
            .outerjoin(InboxItem, InboxItem.id == Message.inbox_id)
            .order_by(Ticket.id)
            .execution_options(yield_per=PAGE)
        )
        yield from self._rows(self.session.execute(query))

    def _moves(
        self, start: datetime, end: datetime, teams: Sequence[str]
    ) -> Iterator[tuple[int, tuple[datetime, Status, Status]]]:
        """Each status change of the period's tickets, by ticket and then in order."""
        tickets = self._within(select(Ticket.id), start, end, teams)
        query = (
            select(AuditEvent.ticket_id, AuditEvent.created_at, AuditEvent.data)
            .where(AuditEvent.action.in_(STATUS_ACTIONS), AuditEvent.ticket_id.in_(tickets))
            .order_by(AuditEvent.ticket_id, AuditEvent.id)
            .execution_options(yield_per=PAGE)
        )
        for number, at, data in self.session.execute(query):
            try:
                yield number, (at, Status(data["from"]), Status(data["to"]))
            except (KeyError, TypeError, ValueError):
                continue  # not a change between statuses the lifecycle knows

    @staticmethod
    def _within(query: Select[Any], start: datetime, end: datetime, teams: Sequence[str]) -> Any:
        query = query.where(Ticket.created_at >= start, Ticket.created_at < end)
        if teams:
            query = query.where(Ticket.team_id.in_(select(Team.id).where(Team.name.in_(teams))))
        return query

    @staticmethod
    def _columns() -> Select[Any]:
        return select(
            Ticket.id,
            Ticket.channel,
            Ticket.subject,
            Ticket.form,
            Ticket.custom_fields,
            Ticket.requester_address,
            Message.body_text,
            Message.headers,
            InboxItem.payload,
            func.coalesce(Customer.tier, Organisation.tier),
            Organisation.name,
            Ticket.created_at,
            Ticket.first_response_at,
            Ticket.resolved_at,
            Ticket.done_at,
        )

    def _rows(self, rows: Any) -> Iterator[_Row]:
        for (
            number,
            channel,
            subject,
            form,
            fields,
            sender,
            body,
            headers,
            payload,
            tier,
            org,
            created,
            responded,
            resolved,
            done,
        ) in rows:
            stored = {
                "subject": subject,
                "body_text": body or "",
                "headers": dict(headers or {}),
                "custom_fields": dict(fields or {}),
                "template": form,
            }
            message = _message(channel, sender, payload, stored)
            yield number, message, tier, org, (created, responded, resolved, done)


def _message(
    channel: str, sender: str, payload: dict[str, Any] | None, stored: dict[str, Any]
) -> InboundMessage:
    """The envelope the ticket arrived in with what the ticket stores of it; one made of
    the ticket's own columns without it."""
    if payload:
        try:
            return replace(InboundMessage.from_payload(payload), **stored)
        except (KeyError, TypeError, ValueError):
            pass
    return InboundMessage(
        channel=Channel(channel), idempotency_key="", sender_address=sender, **stored
    )
