"""An agent locked with everything it holds: its row and its tickets, none missed.

Writers lock tickets before agents: a router locks the ticket it routes, then
claims a slot on the agent's row; a hand assignment or a status change locks
the ticket, then moves its agent's slot. Locking an agent's tickets first and
its row second keeps that order, but the first read cannot see a ticket that a
router is assigning right now: the router holds the agent's row from its claim
and commits before that row is ours. So the tickets are read again once the row
is locked (no assignment to the agent can commit while it is), and any new one
is taken without waiting: whoever holds it may be waiting for the agent's row,
which we hold. If someone does, the row is given back (to a savepoint) and it
starts again, tickets first.

SQLite has no row locks; its writers run one at a time from their first
statement, so the first read is complete.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from router.vocabulary import Status
from store.models import Agent, Ticket

ATTEMPTS = 5  # times a new ticket was held by another writer before we wait for it
_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a NOWAIT that found a lock


def lock_agent_holding(
    session: Session, agent_id: int, statuses: Sequence[Status]
) -> tuple[Agent, list[Ticket]]:
    """Lock the agent's tickets in ``statuses``, then the agent's row; both, fresh from
    the store, with every ticket the agent holds once its row is ours (oldest first)."""
    if session.get_bind().dialect.name != "postgresql":
        return _agent(session, agent_id), _tickets(session, agent_id, statuses)
    for attempt in range(ATTEMPTS + 1):
        tickets = _tickets(session, agent_id, statuses)
        savepoint = session.begin_nested()
        try:
            agent = _agent(session, agent_id)
            tickets += _newly_assigned(
                session, agent_id, statuses, {t.id for t in tickets}, wait=attempt == ATTEMPTS
            )
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
                raise
            savepoint.rollback()  # lets the agent's row go: whoever holds the ticket goes on
            continue
        savepoint.commit()
        return agent, sorted(tickets, key=lambda t: t.id)
    raise AssertionError("unreachable: the last attempt waits")


def _agent(session: Session, agent_id: int) -> Agent:
    agent = session.get(Agent, agent_id, with_for_update=True, populate_existing=True)
    if agent is None:
        raise LookupError(f"no agent {agent_id}")
    return agent


def _tickets(session: Session, agent_id: int, statuses: Sequence[Status]) -> list[Ticket]:
    return list(
        session.scalars(
            _held(agent_id, statuses).with_for_update().execution_options(populate_existing=True)
        )
    )


def _newly_assigned(
    session: Session, agent_id: int, statuses: Sequence[Status], known: set[int], *, wait: bool
) -> list[Ticket]:
    """The agent's tickets assigned since ``known`` was read, locked (NOWAIT unless
    ``wait``); the agent's row is ours, so the list is final."""
    ids = [i for i in session.scalars(_held(agent_id, statuses).with_only_columns(Ticket.id))]
    new = [i for i in ids if i not in known]
    if not new:
        return []
    query = (
        select(Ticket)
        .where(Ticket.id.in_(new))
        .order_by(Ticket.id)
        .with_for_update(nowait=not wait)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(query))


def _held(agent_id: int, statuses: Sequence[Status]) -> Select[Ticket]:
    return (
        select(Ticket)
        .where(Ticket.assignee_id == agent_id, Ticket.status.in_([s.value for s in statuses]))
        .order_by(Ticket.id)
    )
