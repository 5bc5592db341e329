"""The requesters who can be in a period's top ten, found from the most tickets down.

``report_requester_totals`` keeps every requester's tickets of all time (``team_id``
0) and of each team, which no period's count, whatever its filters, can exceed. Its
rows are walked from the most tickets down (``ix_report_requester_totals_rank``; the
team's rows when the report is of one team), each walked requester's count in the
period is taken from the tickets, and the walk stops once the bound of the next
requester is below the ``limit``-th count among the walked requesters who are alone
with their name (see ``store.report_requesters``): ``limit`` names have at least that
many, so no requester below can rank by their own tickets, and the cut the ranking
makes (the ``limit``-th alone requester's count) is found among the walked. The
requesters who are not alone, and those named like an address an unnamed requester
wrote from, are candidates whatever their count, as in the statement of every
requester, so the ranking over the walked and them is the ranking of all.

The totals are brought up to date by each refresh (``fold_changes``: triggers on the
tickets write a change for every ticket added, removed or moved to another requester
or team); a change committed after the last refresh and before the report's snapshot
is still in ``report_requester_changes``: its requesters are counted as walked.

A walk that does not stop within ``WALK_MAX`` requesters, or that is plainly far from
stopping (the next bound more than ``GIVE_UP`` times the cut: a short period on a
long history, filters that keep a small share of the tickets), returns ``None``, and
the caller counts every requester instead. On the benchmark's year of 1,000,000
tickets a year's top ten stops within a few hundred requesters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import ColumnElement, CompoundSelect, delete, func, insert, literal, select, union
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from store.models import (
    Customer,
    ReportNameChange,
    ReportRequesterChange,
    ReportRequesterTotal,
    ReportSharedName,
    Team,
    Ticket,
)

EVERY_TEAM = 0  # the totals' team_id of a requester's every ticket
FIRST_WALK = 128  # requesters walked first; then eight times as many each time
WALK_MAX = 8192
GIVE_UP = 2  # the next bound over twice the cut after a walk: count every requester
_ROWS = 5000


def fold_changes(session: Session) -> None:
    """Add the changes committed so far to the totals, check the names changed, and
    delete both."""
    taken = session.execute(
        delete(ReportRequesterChange).returning(
            ReportRequesterChange.requester_id,
            ReportRequesterChange.team_id,
            ReportRequesterChange.delta,
        )
    ).all()
    sums: Counter[tuple[int, int]] = Counter()
    for requester, team, delta in taken:
        sums[(requester, EVERY_TEAM)] += delta
        if team is not None:
            sums[(requester, team)] += delta
    rows = [
        {"requester_id": requester, "team_id": team, "tickets": n}
        for (requester, team), n in sorted(sums.items())
        if n
    ]
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for start in range(0, len(rows), _ROWS):
        statement = make(ReportRequesterTotal).values(rows[start : start + _ROWS])
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[ReportRequesterTotal.requester_id, ReportRequesterTotal.team_id],
                set_={"tickets": ReportRequesterTotal.tickets + statement.excluded.tickets},
            )
        )
    _check_names(session)


def _check_names(session: Session) -> None:
    """Mark the names given or taken since as shared, or no more, as the customers
    have them now."""
    taken = session.scalars(delete(ReportNameChange).returning(ReportNameChange.name)).all()
    names = sorted(set(taken) - {""})
    for start in range(0, len(names), _ROWS):
        part = names[start : start + _ROWS]
        shared = select(Customer.name).where(Customer.name.in_(part)).group_by(Customer.name)
        now = set(session.scalars(shared.having(func.count() > 1)))
        session.execute(delete(ReportSharedName).where(ReportSharedName.name.in_(part)))
        if now:
            session.execute(insert(ReportSharedName), [{"name": n} for n in sorted(now)])


def not_alone() -> CompoundSelect[tuple[int]]:
    """The customers without a name, or with a name marked shared (or given or taken
    since the last refresh): every other customer is alone with their name."""
    marked = union(select(ReportSharedName.name), select(ReportNameChange.name))
    return union(  # not an OR: each part along ix_customers_name, not every customer
        select(Customer.id).where(Customer.name == ""),
        select(Customer.id).where(Customer.name.in_(marked)),
    )


def walked_requesters(
    session: Session,
    where: list[ColumnElement[bool]],
    teams: Sequence[str],
    limit: int,
) -> list[int] | None:
    """Requester ids among which (with those not alone and those named like an unnamed
    requester's address) are the top ``limit`` of the tickets ``where``; ``None`` when
    the walk does not prove it soon (count every requester)."""
    pending = set(session.scalars(select(ReportRequesterChange.requester_id).distinct()))
    if len(pending) > WALK_MAX:
        return None
    team = _team(session, teams)
    size = FIRST_WALK
    while size <= WALK_MAX:
        rows = session.execute(
            select(ReportRequesterTotal.requester_id, ReportRequesterTotal.tickets)
            .where(ReportRequesterTotal.team_id == team)
            .order_by(ReportRequesterTotal.tickets.desc(), ReportRequesterTotal.requester_id.desc())
            .limit(size + 1)
        ).all()
        known = sorted({rid for rid, _ in rows[:size]} | pending)
        if len(rows) <= size:  # every requester with a ticket walked
            return known
        below = rows[size][1]
        counts = sorted(_alone_counts(session, where, known), reverse=True)
        if len(counts) >= limit:
            cut = counts[limit - 1]
            if below < cut:
                return known
            if below > GIVE_UP * cut:
                return None
        size *= 8
    return None


def _team(session: Session, teams: Sequence[str]) -> int:
    """The totals' team of a report on ``teams``: the team's, when one, else every team."""
    if len(teams) != 1:
        return EVERY_TEAM
    found = session.scalar(select(Team.id).where(Team.name == teams[0]))
    return EVERY_TEAM if found is None else found


def _alone_counts(
    session: Session, where: list[ColumnElement[bool]], requesters: list[int]
) -> list[int]:
    """The counts of the tickets ``where`` of ``requesters`` who are alone with their
    name (``not_alone``)."""
    found: list[int] = []
    for start in range(0, len(requesters), _ROWS):
        part = requesters[start : start + _ROWS]
        query = (
            select(func.count())
            .select_from(Ticket)
            .where(*where, Ticket.requester_id.in_(part), Ticket.requester_id.not_in(not_alone()))
            .group_by(Ticket.requester_id)
        )
        found += [int(n) for n in session.scalars(query)]
    return found


def count_totals(session: Session | Connection) -> None:
    """Count the totals and the names shared anew from the tickets and customers (for
    rows written with the triggers off: a seed in bulk), dropping the changes not
    folded yet."""
    for table in (ReportRequesterChange, ReportRequesterTotal, ReportNameChange, ReportSharedName):
        session.execute(delete(table))
    every = select(Ticket.requester_id, literal(EVERY_TEAM), func.count()).group_by(
        Ticket.requester_id
    )
    per_team = (
        select(Ticket.requester_id, Ticket.team_id, func.count())
        .where(Ticket.team_id.is_not(None))
        .group_by(Ticket.requester_id, Ticket.team_id)
    )
    columns = ["requester_id", "team_id", "tickets"]
    for query in (every, per_team):
        session.execute(insert(ReportRequesterTotal).from_select(columns, query))
    shared = (
        select(Customer.name)
        .where(Customer.name != "")
        .group_by(Customer.name)
        .having(func.count() > 1)
    )
    session.execute(insert(ReportSharedName).from_select(["name"], shared))
