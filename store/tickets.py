"""Tickets: creation, look-ups, status, the backlog, views.

Routing's locks and its claim of a ticket are in ``store.ticket_claims``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, literal, literal_column, select, tuple_
from sqlalchemy.orm import Session, selectinload

from router.lifecycle import ROUTABLE_STATUSES, check_transition, is_active
from router.routing_facts import TicketFacts
from router.storable import is_id
from router.ticket_views import AttachmentView, MessageView, TicketView
from router.vocabulary import Channel, Priority, Status
from store import ticket_claims
from store.agents import AgentRepository
from store.chats import open_in_chat_clause
from store.models import Agent, SlaTimer, Team, Ticket
from store.models.base import UTCDateTime
from store.ticket_claims import RoutingTicket, lock_routing_tickets
from store.ticket_rows import insert_tickets, ticket_row

BacklogKey = tuple[int, datetime, datetime, int]  # priority rank, SLA due, created, id
NEVER_DUE = datetime(9999, 1, 1, tzinfo=UTC)  # orders tickets without an SLA clock last


class TicketRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, number: int, *, for_update: bool = False) -> Ticket | None:
        if not is_id(number):  # out of the key's range: no such ticket, not a database error
            return None
        return self.session.get(
            Ticket, number, with_for_update=for_update, populate_existing=for_update
        )

    def create(
        self,
        *,
        subject: str,
        channel: Channel,
        requester_id: int,
        requester_address: str,
        priority: Priority,
        category: str,
        team_id: int | None,
        now: datetime,
        custom_fields: dict[str, Any] | None = None,
        parent_id: int | None = None,
        access_key: str | None = None,
        required_skills: dict[str, int] | None = None,
        optional_skills: dict[str, int] | None = None,
        tags: list[str] | None = None,
        reply_address: str | None = None,
        form: str | None = None,
    ) -> int:
        """Open a new ticket, waiting for an agent from now; returns its number.

        ``reply_address``: the address of ours the requester wrote to (None: the
        helpdesk's); our mail to the requester goes out from it."""
        row = ticket_row(
            subject=subject,
            channel=channel,
            requester_id=requester_id,
            requester_address=requester_address,
            priority=priority,
            category=category,
            team_id=team_id,
            now=now,
            custom_fields=custom_fields,
            parent_id=parent_id,
            access_key=access_key,
            required_skills=required_skills,
            optional_skills=optional_skills,
            tags=tags,
            reply_address=reply_address,
            form=form,
        )
        return self.create_many([row])[0]

    def create_many(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Open the new tickets of ``rows`` (``store.ticket_rows.ticket_row``): one statement
        for many; their numbers, in the order given."""
        return insert_tickets(self.session, rows)

    def lock_for_routing(self, ticket_id: int) -> RoutingTicket | None:
        """Lock the ticket row (FOR UPDATE on PostgreSQL) and read what routing needs; None
        when it is gone or someone has it."""
        return self.lock_many_for_routing([ticket_id]).get(ticket_id)

    def lock_many_for_routing(self, ticket_ids: Sequence[int]) -> dict[int, RoutingTicket]:
        """``lock_for_routing`` for many tickets in one statement, locked in id order
        (so two routers locking overlapping sets wait, never deadlock); by id."""
        return lock_routing_tickets(self.session, ticket_ids)

    def assign_if_unassigned(
        self, ticket_id: int, agent_id: int, now: datetime, *, status: Status | None = None
    ) -> bool:
        """Give the ticket to ``agent_id`` unless someone already has it (atomic).

        ``status``, when given, is set in the same statement (new -> open).
        """
        return ticket_claims.assign(self.session, ticket_id, agent_id, now, status)

    def assign_many_if_unassigned(
        self, assignments: Sequence[tuple[int, int, Status | None]], now: datetime
    ) -> int:
        """``assign_if_unassigned`` for many (ticket, agent, status or None); how many took."""
        return ticket_claims.assign_many(self.session, assignments, now)

    def for_sla(self, ticket_ids: Sequence[int]) -> dict[int, Ticket]:
        """Tickets with their assignee, team and supervisor, in one query (for the sweep)."""
        if not ticket_ids:
            return {}
        query = (
            select(Ticket)
            .where(Ticket.id.in_(list(ticket_ids)))
            .options(
                selectinload(Ticket.assignee),
                selectinload(Ticket.requester),
                selectinload(Ticket.team).selectinload(Team.supervisor),
            )
        )
        return {t.id: t for t in self.session.scalars(query)}

    def assigned_to(
        self, agent_id: int, statuses: Sequence[Status], *, for_update: bool = False
    ) -> list[Ticket]:
        """The agent's tickets in ``statuses``, oldest first (locked when asked)."""
        query = (
            select(Ticket)
            .where(Ticket.assignee_id == agent_id, Ticket.status.in_([s.value for s in statuses]))
            .order_by(Ticket.id)
        )
        if for_update:
            query = query.with_for_update()
        return list(self.session.scalars(query))

    def set_status(self, ticket: Ticket, target: Status, now: datetime) -> Status:
        """Move the ticket through the lifecycle (validated); returns the old status.

        The assignee's load follows: leaving an active status frees the slot,
        coming back (a reopen) takes it again, even past capacity, since the
        ticket is already theirs. This is the one place that keeps
        ``agents.load`` equal to their active assigned tickets after assignment.
        """
        current = Status(ticket.status)
        if current is target:
            return current
        check_transition(current, target)
        if ticket.assignee_id is not None and is_active(current) != is_active(target):
            agents = AgentRepository(self.session)
            if is_active(target):
                agents.reclaim_slot(ticket.assignee_id)
            else:
                agents.release_slot(ticket.assignee_id)
        ticket.status = target.value
        ticket.updated_at = now
        ticket.pending_since = now if target is Status.PENDING else None
        ticket.reminded_at = None
        if target is Status.RESOLVED:
            ticket.resolved_at = now
            ticket.done_at = now
        elif target is Status.CLOSED:
            ticket.closed_at = now
            ticket.done_at = ticket.done_at or now  # closed unresolved: done now
        elif target is Status.OPEN and current in (Status.RESOLVED,):
            ticket.resolved_at = None
            ticket.prior_done_at, ticket.done_at = ticket.done_at, None
            ticket.reopen_count = (ticket.reopen_count or 0) + 1
        return current

    def waiting_facts(
        self, team_ids: Collection[int], limit: int, *, after: BacklogKey | None = None
    ) -> list[tuple[BacklogKey, TicketFacts, datetime]]:
        """A page of the teams' backlog, as one, in order (priority, then the nearest SLA due
        time, then age), after the ``after`` key: each ticket's order key, routing facts
        and time queued. Pages by key, not offset, so tickets taken meanwhile by other
        routers never make the next page skip one."""
        next_due = (
            select(func.min(SlaTimer.due_at))
            .where(SlaTimer.ticket_id == Ticket.id, SlaTimer.due_at.is_not(None))
            .correlate(Ticket)
            .scalar_subquery()
        )
        due = func.coalesce(next_due, literal(NEVER_DUE, UTCDateTime()))
        key = tuple_(Ticket.priority_rank, due, Ticket.created_at, Ticket.id)
        query = (
            select(
                Ticket.priority_rank,
                due,
                Ticket.created_at,
                Ticket.id,
                Ticket.priority,
                Ticket.channel,
                Ticket.required_skills,
                Ticket.optional_skills,
                Ticket.queued_at,
                Team.name,
            )
            .join(Team, Team.id == Ticket.team_id)
            .where(
                Ticket.team_id.in_(list(team_ids)),
                Ticket.assignee_id.is_(None),
                Ticket.status.in_([s.value for s in ROUTABLE_STATUSES]),
            )
            .order_by(Ticket.priority_rank, due, Ticket.created_at, Ticket.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(key > tuple_(*after))
        return [
            (
                (r[0], r[1] or NEVER_DUE, r[2], r[3]),
                TicketFacts(
                    id=r[3],
                    team=r[9],
                    priority=Priority(r[4]),
                    created_at=r[2],
                    channel=r[5],
                    required_skills=dict(r[6] or {}),
                    optional_skills=dict(r[7] or {}),
                    sla_due_at=None if r[1] == NEVER_DUE else r[1],
                ),
                r[8] or r[2],
            )
            for r in self.session.execute(query)
        ]

    def teams_with_backlog(self) -> list[int]:
        return list(
            self.session.scalars(
                select(Ticket.team_id)
                .where(
                    Ticket.assignee_id.is_(None),
                    Ticket.team_id.is_not(None),
                    Ticket.status.in_([s.value for s in ROUTABLE_STATUSES]),
                )
                .distinct()
            )
        )

    def of_requester(self, customer_id: int, *, limit: int = 10) -> list[Ticket]:
        """A requester's latest tickets, newest first (what ``/status`` lists)."""
        return list(
            self.session.scalars(
                select(Ticket)
                .where(Ticket.requester_id == customer_id)
                .order_by(Ticket.id.desc())
                .limit(limit)
            )
        )

    def open_in_chat(
        self, customer_id: int, channel: str, *, for_update: bool = False
    ) -> Ticket | None:
        """The requester's newest ticket in ``channel`` that is not closed (a message on a
        resolved one reopens it, as an email reply does), or that was merged into another
        (the caller follows it there: ``store.merged_tickets``)."""
        query = (
            select(Ticket)
            .where(open_in_chat_clause([customer_id], channel))
            .order_by(Ticket.id.desc())
            .limit(1)
        )
        found = self.session.scalars(query).first()
        return self.get(found.id, for_update=True) if found and for_update else found

    def recent(
        self,
        *,
        status: Status | None = None,
        assignee: str | None = None,
        team: str | None = None,
        limit: int = 50,
    ) -> list[Ticket]:
        query = (
            select(Ticket)
            .options(
                selectinload(Ticket.assignee),
                selectinload(Ticket.team),
                selectinload(Ticket.requester),
            )
            .order_by(Ticket.id.desc())
            .limit(limit)
        )
        if status is not None:
            query = query.where(Ticket.status == status.value)
        if assignee is not None:
            query = query.join(Ticket.assignee).where(Agent.name == assignee)
        if team is not None:
            query = query.join(Ticket.team).where(Team.name == team)
        return list(self.session.scalars(query))

    def waiting_on_requesters(
        self, *, pending_before: datetime, resolved_before: datetime, limit: int
    ) -> list[tuple[int, str, datetime, datetime | None, str | None]]:
        """Pending tickets waiting since before ``pending_before`` and resolved ones since
        before ``resolved_before``, oldest first: (number, status, since, reminded_at,
        team name), for the follow-ups to decide on. The statuses are literals: a generic
        plan can then read them in ``ix_tickets_waiting_on_requesters``."""
        was = {s: Ticket.status == literal_column(f"'{s.value}'") for s in Status}
        pending = was[Status.PENDING] & (Ticket.pending_since <= pending_before)
        resolved = was[Status.RESOLVED] & (Ticket.resolved_at <= resolved_before)
        rows = self.session.execute(
            select(
                Ticket.id,
                Ticket.status,
                func.coalesce(Ticket.pending_since, Ticket.resolved_at),
                Ticket.reminded_at,
                Team.name,
            )
            .outerjoin(Team, Team.id == Ticket.team_id)
            .where(pending | resolved)
            .order_by(Ticket.id)
            .limit(limit)
        )
        return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def view(self, number: int, *, with_messages: bool = True) -> TicketView | None:
        ticket = self.get(number)
        if ticket is None:
            return None
        return view_of(ticket, with_messages=with_messages)


def view_of(ticket: Ticket, *, with_messages: bool = False) -> TicketView:
    """The ticket as the edges see it, internal notes included: an edge facing the
    requester (the web API) leaves those out, one facing agents (the CLI) shows them."""
    messages: tuple[MessageView, ...] = ()
    if with_messages:
        messages = tuple(
            MessageView(
                direction=m.direction,
                channel=m.channel,
                author=m.author,
                body_text=m.body_text,
                created_at=m.created_at,
                attachments=tuple(
                    AttachmentView(
                        filename=a.filename,
                        content_type=a.content_type,
                        size=a.size,
                        kept=a.sha256 is not None,
                        note=a.skipped or "",
                        sha256=a.sha256,
                    )
                    for a in m.attachments
                ),
            )
            for m in ticket.messages
        )
    return TicketView(
        number=ticket.id,
        subject=ticket.subject,
        status=ticket.status,
        priority=ticket.priority,
        category=ticket.category,
        channel=ticket.channel,
        requester_name=ticket.requester.name,
        requester_address=ticket.requester_address,
        assignee=ticket.assignee.name if ticket.assignee else None,
        team=ticket.team.name if ticket.team else None,
        created_at=ticket.created_at,
        first_response_at=ticket.first_response_at,
        resolved_at=ticket.resolved_at,
        closed_at=ticket.closed_at,
        messages=messages,
        parent=ticket.parent_id,
        merged_into=ticket.merged_into_id,
        access_key=ticket.access_key,
        assignee_display_name=ticket.assignee.display_name if ticket.assignee else "",
        organisation=organisation.name if (organisation := ticket.requester.organisation) else None,
        requester_language=ticket.requester.language,
    )
