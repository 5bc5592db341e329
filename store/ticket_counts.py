"""How many tickets a list would show, up to a cap: the workspace's view counts.

The same conditions as the list (``store.ticket_list.filter_conditions`` and the
scope's ``visible_to``), counted over at most ``cap`` rows, so a count costs no more
than reading that many index entries however large the desk is.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from router.access import Principal
from router.ticket_list import TicketFilters
from store.models import Ticket
from store.ticket_list import filter_conditions
from store.ticket_scope import visible_to


def capped_count(
    session: Session, principal: Principal, filters: TicketFilters, *, cap: int, now: datetime
) -> int:
    """The tickets in ``principal``'s scope that ``filters`` list, counted up to ``cap``."""
    dialect = session.get_bind().dialect.name
    where = [visible_to(principal), *filter_conditions(dialect, filters, now)]
    first = select(Ticket.id).where(*where).limit(cap).subquery()
    return session.scalar(select(func.count()).select_from(first)) or 0
