"""The ticket status lifecycle: which transitions are allowed, decided in one place.

new -> open -> pending -> resolved -> closed
        ^        |           |
        +--------+-----------+   (reopen: a customer reply or an agent)
"""

from __future__ import annotations

from router.errors import InvalidTransition
from router.vocabulary import Status

# The sets of statuses the desk asks about, each spelled out once:
# a ticket that occupies a slot of its assignee (and is open in reports and chat lists)
ACTIVE_STATUSES: tuple[Status, ...] = (Status.NEW, Status.OPEN, Status.PENDING)
# a ticket that routing may give to an agent (waiting for one while unassigned)
ROUTABLE_STATUSES: tuple[Status, ...] = (Status.NEW, Status.OPEN)
# a ticket whose request is done: resolved (a reply reopens it) or closed for good
DONE_STATUSES: tuple[Status, ...] = (Status.RESOLVED, Status.CLOSED)

_ALLOWED: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.OPEN, Status.PENDING, Status.RESOLVED, Status.CLOSED}),
    Status.OPEN: frozenset({Status.NEW, Status.PENDING, Status.RESOLVED, Status.CLOSED}),
    Status.PENDING: frozenset({Status.OPEN, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


def can_transition(current: Status, target: Status) -> bool:
    return target in _ALLOWED[current]


def check_transition(current: Status, target: Status) -> Status:
    """Return ``target`` if ``current -> target`` is allowed, else raise."""
    if not can_transition(current, target):
        allowed = ", ".join(sorted(s.value for s in _ALLOWED[current])) or "none"
        raise InvalidTransition(
            f"a {current.value} ticket cannot become {target.value} (allowed: {allowed})",
            current.value,
            target.value,
        )
    return target


def status_after_customer_reply(current: Status) -> Status | None:
    """The status a customer's reply moves a ticket to; ``None`` if it needs a new ticket.

    A reply to a pending or resolved ticket reopens it; a closed ticket is final,
    so the reply starts a new ticket (linked to the old one).
    """
    if current is Status.CLOSED:
        return None
    if current in (Status.PENDING, Status.RESOLVED):
        return Status.OPEN
    return current


def is_active(status: Status) -> bool:
    """Whether a ticket with this status occupies a slot of its assignee."""
    return status in ACTIVE_STATUSES
