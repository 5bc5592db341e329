"""The staff ticket list: filters, order, keyset pages and full-text search, in one query.

Only the tickets in the caller's scope (``store.ticket_scope.visible_to``); a
page continues after the sort values of the last ticket of the one before
(``router.ticket_list``'s cursor), so it reads an index range, never an offset.
The search is ``store.ticket_search``'s (PostgreSQL full-text, SQLite FTS5).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, type_coerce
from sqlalchemy.orm import Session, aliased

from router.access import Principal
from router.staff_ticket_views import TicketPage, TicketSummary
from router.ticket_list import (
    ORDER_KEYS,
    TIME_KEYS,
    CursorKey,
    TicketFilters,
    TicketOrder,
    due_before,
    encode_cursor,
)
from store.models import Agent, Customer, Organisation, SlaTimer, Team, Ticket
from store.models.base import UTCDateTime
from store.ticket_export import has_any_tag
from store.ticket_scope import visible_to
from store.ticket_search import matches

SORT_COLUMNS: dict[str, Any] = {
    "updated_at": Ticket.updated_at,
    "created_at": Ticket.created_at,
    "priority_rank": Ticket.priority_rank,
    "number": Ticket.id,
}


def filter_conditions(
    dialect: str, filters: TicketFilters, now: datetime
) -> list[ColumnElement[bool]]:
    """WHERE-clauses for ``filters`` (scope not included)."""
    where: list[ColumnElement[bool]] = []
    named: tuple[tuple[Any, Sequence[object]], ...] = (
        (Ticket.status, filters.status),
        (Ticket.priority, filters.priority),
        (Ticket.channel, filters.channel),
        (Ticket.category, filters.category),
        (Ticket.requester_id, filters.customer),
    )
    for column, values in named:
        if values:
            where.append(column.in_(list(values)))
    if filters.team:
        where.append(Ticket.team_id.in_(select(Team.id).where(Team.name.in_(filters.team))))
    assignees: list[ColumnElement[bool]] = []
    if filters.assignee:
        by_name = select(Agent.id).where(Agent.name.in_(filters.assignee))
        assignees.append(Ticket.assignee_id.in_(by_name))
    if filters.unassigned:
        assignees.append(Ticket.assignee_id.is_(None))
    if assignees:
        where.append(or_(false(), *assignees))
    if filters.organisation:
        of_organisation = (
            select(Customer.id)
            .join(Organisation, Organisation.id == Customer.organisation_id)
            .where(Organisation.name.in_(filters.organisation))
        )
        where.append(Ticket.requester_id.in_(of_organisation))
    ranges: tuple[tuple[Any, datetime | None, datetime | None], ...] = (
        (Ticket.created_at, filters.created_from, filters.created_to),
        (Ticket.updated_at, filters.updated_from, filters.updated_to),
    )
    for column, start, end in ranges:
        if start is not None:
            where.append(column >= start)
        if end is not None:
            where.append(column < end)
    if filters.tag:
        where.append(has_any_tag(dialect, filters.tag))
    if filters.breached:
        where.append(
            exists(
                select(1).where(
                    SlaTimer.ticket_id == Ticket.id,
                    SlaTimer.breached_at.is_not(None),
                    SlaTimer.stopped_at.is_(None),
                )
            )
        )
    before = due_before(filters, now)
    if before is not None:
        where.append(
            exists(
                select(1).where(
                    SlaTimer.ticket_id == Ticket.id,
                    SlaTimer.due_at.is_not(None),
                    SlaTimer.due_at <= before,
                    SlaTimer.paused.is_(False),
                )
            )
        )
    if filters.q.strip():
        where.append(matches(dialect, filters.q))
    return where


def after_key(order: TicketOrder, key: CursorKey) -> ColumnElement[bool]:
    """The tickets that come after sort values ``key`` in ``order`` (lexicographic)."""
    keys = ORDER_KEYS[order]
    values = [
        datetime.fromisoformat(v) if name in TIME_KEYS and isinstance(v, str) else v
        for (name, _), v in zip(keys, key, strict=True)
    ]
    alternatives: list[ColumnElement[bool]] = []
    for i, (name, descending) in enumerate(keys):
        column = SORT_COLUMNS[name]
        equal = [SORT_COLUMNS[n] == values[j] for j, (n, _) in enumerate(keys[:i])]
        beyond = column < values[i] if descending else column > values[i]
        alternatives.append(and_(*equal, beyond))
    return or_(*alternatives)


def _key_of(order: TicketOrder, row: Any) -> CursorKey:
    values: list[int | str] = []
    for name, _ in ORDER_KEYS[order]:
        value = getattr(row, name)
        values.append(value.isoformat() if isinstance(value, datetime) else int(value))
    return tuple(values)


class TicketList:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    def page(
        self,
        principal: Principal,
        filters: TicketFilters,
        *,
        order: TicketOrder,
        after: CursorKey | None,
        limit: int,
        now: datetime,
    ) -> TicketPage:
        """Up to ``limit`` tickets in ``principal``'s scope, after ``after``."""
        assignee, team = aliased(Agent), aliased(Team)
        next_due = type_coerce(  # MIN() keeps no column type: read it back as UTC
            select(func.min(SlaTimer.due_at))
            .where(SlaTimer.ticket_id == Ticket.id, SlaTimer.paused.is_(False))
            .scalar_subquery(),
            UTCDateTime(),
        )
        breached = exists(
            select(1).where(
                SlaTimer.ticket_id == Ticket.id,
                SlaTimer.breached_at.is_not(None),
                SlaTimer.stopped_at.is_(None),
            )
        )
        where = [visible_to(principal), *filter_conditions(self.dialect, filters, now)]
        if after is not None:
            where.append(after_key(order, after))
        ordering = [
            SORT_COLUMNS[name].desc() if descending else SORT_COLUMNS[name].asc()
            for name, descending in ORDER_KEYS[order]
        ]
        query = (
            select(
                Ticket.id.label("number"),
                Ticket.subject,
                Ticket.status,
                Ticket.priority,
                Ticket.priority_rank,
                Ticket.category,
                Ticket.channel,
                team.name.label("team"),
                assignee.name.label("assignee"),
                Customer.name.label("requester_name"),
                Ticket.requester_address,
                Ticket.requester_id,
                Organisation.name.label("organisation"),
                Ticket.tags,
                Ticket.created_at,
                Ticket.updated_at,
                next_due.label("next_due_at"),
                breached.label("breached"),
            )
            .join(Customer, Customer.id == Ticket.requester_id)
            .outerjoin(Organisation, Organisation.id == Customer.organisation_id)
            .outerjoin(team, team.id == Ticket.team_id)
            .outerjoin(assignee, assignee.id == Ticket.assignee_id)
            .where(*where)
            .order_by(*ordering)
            .limit(limit + 1)
        )
        rows: Sequence[Any] = self.session.execute(query).all()
        more = len(rows) > limit
        rows = rows[:limit]
        cursor = encode_cursor(order, _key_of(order, rows[-1])) if more and rows else None
        return TicketPage(tickets=tuple(_summary(r) for r in rows), next_cursor=cursor)


def _summary(row: Any) -> TicketSummary:
    return TicketSummary(
        number=row.number,
        subject=row.subject,
        status=row.status,
        priority=row.priority,
        category=row.category,
        channel=row.channel,
        team=row.team,
        assignee=row.assignee,
        requester_name=row.requester_name,
        requester_address=row.requester_address,
        customer_id=row.requester_id,
        organisation=row.organisation,
        tags=tuple(row.tags or ()),
        created_at=row.created_at,
        updated_at=row.updated_at,
        next_due_at=row.next_due_at,
        breached=bool(row.breached),
    )
