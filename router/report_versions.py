"""Which configuration version a ticket counts for in the reports, and its hand-offs.

Every audit event records the configuration version in force where it was written
(``audit_events.config_version``); during a pilot, the version of the ticket's team
decides each of its decisions (``router.pilot``). The reports' one definition:

- a ticket's **configuration version** is the one recorded on its creation event
  (``ticket.created``): the version that classified it and planned its SLA clocks (a
  pilot's candidate for a ticket of a pilot team). A ticket made before versions were
  kept has none, and no version filter admits it. The filter ``config_version`` (any
  of the versions given) narrows every figure and the export alike: the store says it
  in SQL once (``store.report_versions.decided_by``).
- a ticket's **transfers** are its ``ticket.transferred`` events (a person moved it to
  another agent or team, with a reason); its **reassignments** are its ``ticket.assigned``
  and ``ticket.claimed`` events after the first (it was given to another agent without a
  transfer: a supervisor's assignment, a claim or routing after it was unassigned). A
  ticket is **moved** when it has either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from router.vocabulary import AuditAction

VERSION_EVENT = AuditAction.TICKET_CREATED
TRANSFERS = frozenset({AuditAction.TICKET_TRANSFERRED.value})
ASSIGNMENTS = frozenset({AuditAction.TICKET_ASSIGNED.value, AuditAction.TICKET_CLAIMED.value})


@dataclass(frozen=True)
class Moves:
    """Hand-offs of some tickets: transfers, reassignments, and the tickets with either."""

    transfers: int = 0
    reassignments: int = 0
    moved: int = 0

    def __add__(self, other: Moves) -> Moves:
        return Moves(
            self.transfers + other.transfers,
            self.reassignments + other.reassignments,
            self.moved + other.moved,
        )


def ticket_moves(actions: Iterable[str]) -> Moves:
    """One ticket's hand-offs from the actions of its audit events."""
    listed = list(actions)
    transfers = sum(1 for a in listed if a in TRANSFERS)
    reassignments = max(sum(1 for a in listed if a in ASSIGNMENTS) - 1, 0)
    return Moves(transfers, reassignments, int(transfers + reassignments > 0))
