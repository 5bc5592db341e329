"""How many tickets a list would show, up to a cap: the workspace's view counts.

The same conditions as the list (``store.ticket_list.filter_conditions`` and the
scope's ``visible_to``), counted over at most ``cap`` rows, so a count costs no more
than reading that many index entries however large the desk is. A page's counts (its
views', its saved searches') are asked in one statement: one round trip, not one each.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from router.access import Principal
from router.ticket_list import TicketFilters
from store.models import Ticket
from store.ticket_list import filter_conditions
from store.ticket_scope import visible_to


def capped_counts(
    session: Session,
    principal: Principal,
    lists: Sequence[TicketFilters],
    *,
    cap: int,
    now: datetime,
) -> list[int]:
    """The tickets in ``principal``'s scope that each of ``lists`` lists, counted up to
    ``cap``, in their order, asked in one statement."""
    if not lists:
        return []
    dialect = session.get_bind().dialect.name
    scope = visible_to(principal)
    counts = [
        select(func.count())
        .select_from(
            select(Ticket.id)
            .where(scope, *filter_conditions(dialect, filters, now))
            .limit(cap)
            .subquery()
        )
        .scalar_subquery()
        for filters in lists
    ]
    return [int(n or 0) for n in session.execute(select(*counts)).one()]


def capped_totals(
    session: Session,
    principal: Principal,
    lists: Sequence[Sequence[TicketFilters]],
    *,
    cap: int,
    now: datetime,
) -> list[int]:
    """For each group of ``lists`` (a view read as several queries, a saved search as one)
    its queries' counts summed, up to ``cap``; every count asked in one statement."""
    counted = iter(
        capped_counts(session, principal, [f for group in lists for f in group], cap=cap, now=now)
    )
    return [min(cap, sum(next(counted) for _ in group)) for group in lists]
