"""The tickets created per requester, and the ten requesters with the most, in SQL.

A requester is named as the customer is now (else by the least address they wrote from
among the tickets counted); two of one name count together. The tickets are counted
per requester id first (integers, from an index alone), then the names joined to the
counts. The top ten are ranked and cut in the database (most tickets first, then the
name by code point, as ``router.report_figures.top_ten``).

A year of a large desk has some 200,000 requesters, so ``top_requesters`` names only
the requesters who can be in the top ten, and is exact:

- a customer is *alone* when their name is not empty and no other customer has it: an
  alone requester's count is their name's (unless an unnamed requester's address is
  that name: see below), and ten alone requesters are ten names;
- ``cut`` is the count of the tenth alone requester (most first): ten names have at
  least that many, so a name with fewer is not in the top ten;
- the candidates are every requester who is not alone (no name, or a name shared: their
  names are summed from all of them), the alone ones with ``cut`` tickets or more, and
  the alone ones whose name is an address an unnamed requester wrote from in the
  period (whose tickets may count under that name). Every name with ``cut`` tickets or
  more has all its requesters among them, so the top ten of the candidates' names is the
  top ten of all (``tests/integration/test_report_requesters.py`` holds it to
  ``requester_counts`` on crafted ties, shared names and addresses).

Which customers are not alone comes from ``report_shared_names`` (kept by the refresh;
a name changed since counts as shared: ``store.report_requester_bounds.not_alone``),
not from counting every customer's name.

Before counting every requester, the requesters are walked from the most tickets of
all time down (``store.report_requester_bounds.walked_requesters``): when the walk
proves that no requester below it can rank, only the walked, those not alone and those
named like an unnamed requester's address are counted (a year of the benchmark's desk:
a few hundred requesters instead of 200,000). Otherwise every requester is counted: on
PostgreSQL with hash aggregation off (``SET LOCAL``, on again after it), so the counts
per requester are streamed, over a long period in requester order from
``ix_tickets_requester_created``, over a short one sorted, rather than hashed (a year:
a million tickets into 200,000 requesters, which took 3 to 4 times as long as the
stream at any load measured).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, case, func, inspect, or_, select, text
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.util import ClauseAdapter

from router.report_figures import TOP
from store.models import Customer, Ticket
from store.report_requester_bounds import not_alone, walked_requesters

IDS_MAX = 10_000
"""The most requesters counted by their ids (one bound parameter each: SQLite takes at
most 32,766 in a statement, PostgreSQL 65,535); a desk with more customers not alone
with their name (many unnamed senders) counts every requester instead."""


def requester_counts(session: Session, where: list[ColumnElement[bool]]) -> Counter[str]:
    """Tickets ``where`` per requester's name."""
    counts: Counter[str] = Counter()
    for name, n in session.execute(_per_name(_per_requester(where), where)):
        counts[name] += int(n)
    return counts


def top_requesters(
    session: Session,
    where: list[ColumnElement[bool]],
    limit: int = TOP,
    *,
    teams: Sequence[str] = (),
) -> tuple[tuple[str, int], ...]:
    """``top_ten(requester_counts(session, where))``, ranked in the database; ``teams``
    the report's team filter (the walk's bound, ``store.report_requester_bounds``)."""
    unnamed = select(Customer.id).where(Customer.name == "")
    named_as_address = select(Customer.id).where(
        Customer.name.in_(
            select(Ticket.requester_address).where(*where, Ticket.requester_id.in_(unnamed))
        )
    )
    shared = not_alone().cte("shared")
    counted = list(where)
    walked = walked_requesters(session, where, teams, limit)
    if walked is not None:  # only they, those not alone and those named as an address
        ids = set(walked)
        for others in (not_alone(), named_as_address):
            ids.update(session.scalars(others.limit(IDS_MAX + 1)))
        if len(ids) <= IDS_MAX:  # else every requester is counted (one IN list too long)
            counted.append(Ticket.requester_id.in_(sorted(ids)))
    per = _per_requester(counted).cte("per_requester")
    cut = (
        select(per.c.n)
        .where(per.c.rid.not_in(select(shared.c.id)))
        .order_by(per.c.n.desc())
        .offset(limit - 1)
        .limit(1)
        .scalar_subquery()
    )
    candidates = (
        select(per.c.rid, per.c.n)
        .where(
            or_(
                per.c.n >= func.coalesce(cut, 0),
                per.c.rid.in_(select(shared.c.id)),
                per.c.rid.in_(named_as_address),
            )
        )
        .subquery("candidates")
    )
    label = (
        select(_label(candidates.c.rid, where))
        .where(Customer.id == candidates.c.rid)
        .scalar_subquery()
    )
    labelled = select(label.label("name"), candidates.c.n).subquery("labelled")
    total = func.sum(labelled.c.n)
    name: Any = labelled.c.name
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:  # SQLite compares by code point
        name = name.collate("C")
    query = (
        select(labelled.c.name, total)
        .group_by(labelled.c.name)
        .order_by(total.desc(), name)
        .limit(limit)
    )
    if postgresql:
        session.execute(text("SET LOCAL enable_hashagg = off"))
    try:
        return tuple((str(who), int(n)) for who, n in session.execute(query))
    finally:
        if postgresql:
            session.execute(text("SET LOCAL enable_hashagg = on"))


def _per_requester(where: list[ColumnElement[bool]]) -> Any:
    return (
        select(Ticket.requester_id.label("rid"), func.count().label("n"))
        .where(*where)
        .group_by(Ticket.requester_id)
    )


def _per_name(counts: Any, where: list[ColumnElement[bool]]) -> Any:
    """``counts`` (``_per_requester``: requester ids ``rid`` with counts ``n``) summed per
    requester's name."""
    per = counts.subquery("per_requester")
    label = _label(per.c.rid, where)
    return (
        select(label.label("name"), func.sum(per.c.n).label("n"))
        .join(Customer, Customer.id == per.c.rid)
        .group_by(label)
    )


def _label(rid: Any, where: list[ColumnElement[bool]]) -> Any:
    """The name of customer ``rid`` (joined as ``Customer``), else the least address
    they wrote from among the tickets ``where``."""
    other = aliased(Ticket)
    address = (
        select(func.min(other.requester_address))
        .where(other.requester_id == rid, *_retargeted(where, other))
        .correlate_except(other)
        .scalar_subquery()
    )
    named = func.nullif(Customer.name, "")
    return case((named.is_(None), address), else_=named)


def _retargeted(where: list[ColumnElement[bool]], alias: Any) -> list[ColumnElement[bool]]:
    """``where`` on ``tickets`` said of ``alias`` of it instead."""
    adapter = ClauseAdapter(inspect(alias).selectable)
    return [adapter.traverse(clause) for clause in where]
