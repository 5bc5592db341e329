"""The staff ticket list: filters, order, keyset pages and full-text search, in one query.

Only the tickets in the caller's scope (``store.ticket_scope.visible_to``); a
page continues after the sort values of the last ticket of the one before
(``router.ticket_list``'s cursor), so it reads an index range, never an offset.
The search is ``store.ticket_search``'s (PostgreSQL full-text, SQLite FTS5); sorted by
relevance, its ranked matches are joined.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select
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
    ordered_by,
    search_words,
)
from store.models import Agent, Customer, Organisation, SlaTimer, Team, Ticket
from store.ticket_export import has_any_tag
from store.ticket_scope import visible_to
from store.ticket_search import few_matches, matches, ranked

SORT_COLUMNS: dict[str, Any] = {
    "updated_at": Ticket.updated_at,
    "created_at": Ticket.created_at,
    "priority_rank": Ticket.priority_rank,
    "number": Ticket.id,
}


@dataclass(frozen=True)
class KnownIds:
    """The ids of the teams and agents a list's filters name, read before its query (None:
    not read: the query looks the names up itself)."""

    teams: list[int] | None = None
    agents: list[int] | None = None


def filter_conditions(
    dialect: str, filters: TicketFilters, now: datetime, known: KnownIds = KnownIds()
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
        teams = known.teams
        if teams is None:
            where.append(Ticket.team_id.in_(select(Team.id).where(Team.name.in_(filters.team))))
        else:
            where.append(Ticket.team_id.in_(teams))
    assignees: list[ColumnElement[bool]] = []
    if filters.assignee:
        agents = known.agents
        if agents is None:
            agents_named = select(Agent.id).where(Agent.name.in_(filters.assignee))
            assignees.append(Ticket.assignee_id.in_(agents_named))
        else:
            assignees.append(Ticket.assignee_id.in_(agents))
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


def after_key(
    order: TicketOrder, key: CursorKey, columns: dict[str, Any] = SORT_COLUMNS
) -> ColumnElement[bool]:
    """The tickets that come after sort values ``key`` in ``order`` (lexicographic), each
    sort key read from ``columns``."""
    keys = ORDER_KEYS[order]
    values = [
        datetime.fromisoformat(v) if name in TIME_KEYS and isinstance(v, str) else v
        for (name, _), v in zip(keys, key, strict=True)
    ]
    alternatives: list[ColumnElement[bool]] = []
    for i, (name, descending) in enumerate(keys):
        column = columns[name]
        equal = [columns[n] == values[j] for j, (n, _) in enumerate(keys[:i])]
        beyond = column < values[i] if descending else column > values[i]
        alternatives.append(and_(*equal, beyond))
    return or_(*alternatives)


def _key_of(order: TicketOrder, row: Any) -> CursorKey:
    values: list[int | str] = []
    for name, _ in ORDER_KEYS[order]:
        value = getattr(row, name)
        values.append(value.isoformat() if isinstance(value, datetime) else int(value))
    return tuple(values)


# made once: a new alias per query spent milliseconds finding its columns again
ASSIGNEE, TEAM = aliased(Agent, name="list_assignee"), aliased(Team, name="list_team")

# The SLA facts a row shows, asked of each ticket of the page once it is cut (the outer
# query joins the page's numbers): the next running clock's due time, and whether a clock
# is breached and still running. In the page's own query (before its limit) the planner
# read every running breach of the desk to answer for 25 tickets; as a statement of their
# own they were a round trip more for every list and search.
_OF_ROW = SlaTimer.ticket_id == Ticket.id
PAGE_CLOCKS = (
    select(func.min(SlaTimer.due_at))
    .where(_OF_ROW, SlaTimer.due_at.is_not(None), SlaTimer.paused.is_(False))
    .scalar_subquery()
    .label("next_due_at"),
    # a count, not EXISTS: the planner turns an EXISTS into a hash of every running breach
    select(func.count(SlaTimer.id))
    .where(_OF_ROW, SlaTimer.breached_at.is_not(None), SlaTimer.stopped_at.is_(None))
    .scalar_subquery()
    .label("breached"),
)


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
        """Up to ``limit`` tickets in ``principal``'s scope, after ``after``. A page is a
        short index walk: read it through ``Database.reading`` (no parallel workers)."""
        ordered_by(order, filters)
        assignee, team = ASSIGNEE, TEAM
        columns, extra = SORT_COLUMNS, []
        by_rank = order is TicketOrder.RELEVANCE
        if by_rank:  # the ranked matches are joined: they are the search's condition too
            matched = ranked(self.dialect, filters.q)
            columns = {**SORT_COLUMNS, "rank": matched.c.rank}
            extra = [matched.c.rank.label("rank")]
            filters = replace(filters, q="")
        found: list[int] | None = None
        if not by_rank and self.dialect == "postgresql" and search_words(filters.q):
            found = few_matches(self.session, filters.q)
            if found is not None:  # a rare word: its tickets by number (few_matches)
                filters = replace(filters, q="")
        where = [
            visible_to(principal),
            *filter_conditions(
                self.dialect, filters, now, known=self.known_ids(filters, principal)
            ),
        ]
        if found is not None:
            where.append(Ticket.id.in_(found))
        if after is not None:
            where.append(after_key(order, after, columns))
        ordering = [
            columns[name].desc() if descending else columns[name].asc()
            for name, descending in ORDER_KEYS[order]
        ]
        # the page's numbers first, from tickets alone (an index walk or a short sort),
        # then what a row shows joined to those few: a join before the sort and limit
        # was made for every ticket of the filter (an agent's 900 tickets: 40 ms)
        keys = (
            select(Ticket.id.label("number"), *extra)
            .where(*where)
            .order_by(*ordering)
            .limit(limit + 1)
        )
        if by_rank:
            keys = keys.join(matched, matched.c.ticket_id == Ticket.id)
        page_keys = keys.subquery("page")
        shown = {**SORT_COLUMNS, "rank": page_keys.c.rank} if by_rank else SORT_COLUMNS
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
                *PAGE_CLOCKS,
                *([page_keys.c.rank] if by_rank else []),
            )
            .join(page_keys, page_keys.c.number == Ticket.id)
            .join(Customer, Customer.id == Ticket.requester_id)
            .outerjoin(Organisation, Organisation.id == Customer.organisation_id)
            .outerjoin(team, team.id == Ticket.team_id)
            .outerjoin(assignee, assignee.id == Ticket.assignee_id)
            .order_by(
                *(
                    shown[name].desc() if descending else shown[name].asc()
                    for name, descending in ORDER_KEYS[order]
                )
            )
        )
        rows: Sequence[Any] = self.session.execute(query).all()
        more = len(rows) > limit
        rows = rows[:limit]
        cursor = encode_cursor(order, _key_of(order, rows[-1])) if more and rows else None
        return TicketPage(tickets=tuple(_summary(r) for r in rows), next_cursor=cursor)

    def known_ids(self, filters: TicketFilters, principal: Principal) -> KnownIds:
        """The ids of the teams and agents ``filters`` name (two small tables): as numbers in
        the list's query, an index of (team, updated) serves a team's list in order, where
        a subquery of names left the planner to read and sort all of the team's tickets.
        The caller's own list (assigned to ``principal`` alone: the workspace's "mine"
        views) takes their id as it is, without a statement."""
        teams = agents = None
        if filters.team:
            teams = list(self.session.scalars(select(Team.id).where(Team.name.in_(filters.team))))
        if filters.assignee == (principal.name,):
            agents = [principal.agent_id]
        elif filters.assignee:
            agents = list(
                self.session.scalars(select(Agent.id).where(Agent.name.in_(filters.assignee)))
            )
        return KnownIds(teams=teams, agents=agents)


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
