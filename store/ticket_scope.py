"""``router.access.visible`` as a SQL condition on tickets, for lists and searches.

A ticket list must show exactly the tickets a principal could open one by one:
a test holds this condition and the pure rule to the same answers.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.orm import Session

from router.access import Ability, Principal, TicketScope, require
from router.vocabulary import Role
from store.models import Ticket


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """WHERE-clause: the tickets in ``principal``'s scope."""
    if principal.role is Role.ADMIN:
        return true()
    conditions: list[ColumnElement[bool]] = [Ticket.assignee_id == principal.agent_id]
    if principal.supervised:
        conditions.append(Ticket.team_id.in_(sorted(principal.supervised)))
    if principal.teams:
        conditions.append(
            and_(Ticket.assignee_id.is_(None), Ticket.team_id.in_(sorted(principal.teams)))
        )
    return or_(false(), *conditions)


def scope_of_ticket(ticket: Ticket) -> TicketScope:
    """The facts ``router.access`` decides ``ticket``'s scope on, from its row already read."""
    return TicketScope(number=ticket.id, team_id=ticket.team_id, assignee_id=ticket.assignee_id)


def scope_of(session: Session, number: int) -> TicketScope | None:
    """The facts ``router.access`` decides a ticket's scope on, or None: no such ticket."""
    row = session.execute(
        select(Ticket.team_id, Ticket.assignee_id).where(Ticket.id == number)
    ).first()
    if row is None:
        return None
    return TicketScope(number=number, team_id=row[0], assignee_id=row[1])


def require_scope(principal: Principal, ability: Ability, ticket: Ticket | None) -> None:
    """``OutOfScope`` unless ``principal`` sees ``ticket`` (None: there is none), ``NotAllowed``
    unless their role may do ``ability`` to it (``router.access.require``): the staff gate's
    decision, made on a row the caller read (and locked) for the change."""
    require(principal, ability, scope_of_ticket(ticket) if ticket is not None else None)
