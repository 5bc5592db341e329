"""The tickets created per requester, and the ten requesters with the most, in SQL.

A requester is named as the customer is now (else by the least address they wrote from
among the tickets counted); two of one name count together. The tickets are counted
per requester id first (integers, from the index ``ix_tickets_created_requester``
alone), then the names joined to the counts. The top ten are ranked and cut in the
database (most tickets first, then the name by code point, as
``router.report_figures.top_ten``): a year of a large desk has some 200,000 requesters,
and handing every one of them to Python took longer than counting them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import ColumnElement, case, func, inspect, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.util import ClauseAdapter

from router.report_figures import TOP
from store.models import Customer, Ticket


def requester_counts(session: Session, where: list[ColumnElement[bool]]) -> Counter[str]:
    """Tickets ``where`` per requester's name."""
    counts: Counter[str] = Counter()
    for name, n in session.execute(_per_name(where)):
        counts[name] += int(n)
    return counts


def top_requesters(
    session: Session, where: list[ColumnElement[bool]], limit: int = TOP
) -> tuple[tuple[str, int], ...]:
    """``top_ten(requester_counts(session, where))``, ranked in the database."""
    per = _per_name(where).subquery("per_name")
    name: Any = per.c.name
    if session.get_bind().dialect.name == "postgresql":  # SQLite compares by code point
        name = name.collate("C")
    query = select(per.c.name, per.c.n).order_by(per.c.n.desc(), name).limit(limit)
    return tuple((str(label), int(n)) for label, n in session.execute(query))


def _per_name(where: list[ColumnElement[bool]]) -> Any:
    per = (
        select(Ticket.requester_id.label("rid"), func.count().label("n"))
        .where(*where)
        .group_by(Ticket.requester_id)
        .subquery("per_requester")
    )
    other = aliased(Ticket)
    address = (
        select(func.min(other.requester_address))
        .where(other.requester_id == per.c.rid, *_retargeted(where, other))
        .scalar_subquery()
    )
    named = func.nullif(Customer.name, "")
    label = case((named.is_(None), address), else_=named)
    return (
        select(label.label("name"), func.sum(per.c.n).label("n"))
        .join(Customer, Customer.id == per.c.rid)
        .group_by(label)
    )


def _retargeted(where: list[ColumnElement[bool]], alias: Any) -> list[ColumnElement[bool]]:
    """``where`` on ``tickets`` said of ``alias`` of it instead."""
    adapter = ClauseAdapter(inspect(alias).selectable)
    return [adapter.traverse(clause) for clause in where]
