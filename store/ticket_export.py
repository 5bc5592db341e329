"""Tickets and their messages read out by ticket number, for exports.

One query ``WHERE id > after ORDER BY id`` read through a server-side cursor a
page at a time (PostgreSQL; SQLite's cursor reads as it goes): the database
streams the rows while the export writes them, only a page is in memory, and an
export that stopped continues after the last ticket it wrote (its cursor). The
names a ticket points to come from the same query; its messages are read per page.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ARRAY, Text, exists, func, literal, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from router.export_format import ExportFilters
from store.models import Agent, Customer, Message, Organisation, Team, Ticket
from store.report_versions import decided_by


def export_conditions(dialect: str, filters: ExportFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    for column, values in (
        (Ticket.status, filters.status),
        (Ticket.priority, filters.priority),
        (Ticket.channel, filters.channel),
        (Ticket.category, filters.category),
        (Ticket.form, filters.form),
    ):
        if values:
            where.append(column.in_(values))
    if filters.organisation:
        where.append(
            Ticket.requester_id.in_(
                select(Customer.id)
                .join(Organisation, Organisation.id == Customer.organisation_id)
                .where(Organisation.name.in_(filters.organisation))
            )
        )
    if filters.team:
        where.append(Ticket.team_id.in_(select(Team.id).where(Team.name.in_(filters.team))))
    if filters.assignee:
        named = select(Agent.id).where(Agent.name.in_(filters.assignee))
        where.append(Ticket.assignee_id.in_(named))
    if filters.created_from is not None:
        where.append(Ticket.created_at >= filters.created_from)
    if filters.created_to is not None:
        where.append(Ticket.created_at < filters.created_to)
    if filters.tag:
        where.append(has_any_tag(dialect, filters.tag))
    if filters.config_version:
        where.append(decided_by(filters.config_version))
    return where


def has_any_tag(dialect: str, tags: Sequence[str]) -> ColumnElement[bool]:
    if dialect == "postgresql":  # jsonb ?| text[]: any of these strings is an element
        return Ticket.tags.op("?|")(literal(list(tags), type_=ARRAY(Text)))
    each = func.json_each(Ticket.tags).table_valued("value")
    return exists(select(1).select_from(each).where(each.c.value.in_(list(tags))))


class TicketExport:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    def pages(self, filters: ExportFilters, *, after: int, size: int) -> Iterator[Sequence[Any]]:
        """The tickets after number ``after``, ``size`` at a time, with the names they point
        to, in the order of ``router.export_format.TICKET_COLUMNS``."""
        assignee = aliased(Agent)
        query = (
            select(
                Ticket.id,
                Ticket.subject,
                Ticket.status,
                Ticket.priority,
                Ticket.category,
                Ticket.channel,
                Team.name,
                assignee.name,
                Customer.name,
                Ticket.requester_address,
                Organisation.name,
                Ticket.tags,
                Ticket.created_at,
                Ticket.first_response_at,
                Ticket.resolved_at,
                Ticket.closed_at,
                Ticket.updated_at,
            )
            .join(Customer, Customer.id == Ticket.requester_id)
            .outerjoin(Organisation, Organisation.id == Customer.organisation_id)
            .outerjoin(Team, Team.id == Ticket.team_id)
            .outerjoin(assignee, assignee.id == Ticket.assignee_id)
            .where(Ticket.id > after, *export_conditions(self.dialect, filters))
            .order_by(Ticket.id)
        )
        streamed = self.session.connection().execution_options(stream_results=True)
        yield from streamed.execute(query).partitions(size)

    def messages(self, ticket_ids: Sequence[int]) -> Sequence[Any]:
        """The messages of these tickets (internal notes included: exports are for staff),
        by ticket then in order; columns as ``MESSAGE_COLUMNS``."""
        if not ticket_ids:
            return []
        query = (
            select(
                Message.ticket_id,
                Message.id,
                Message.created_at,
                Message.direction,
                Message.channel,
                Message.author,
                Message.body_text,
            )
            .where(Message.ticket_id.in_(list(ticket_ids)))
            .order_by(Message.ticket_id, Message.id)
        )
        return self.session.connection().execute(query).all()
