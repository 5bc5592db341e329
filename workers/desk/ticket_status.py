"""Ticket status: move a ticket through the lifecycle, its agent's slot and SLA clocks with it
(and, once it is resolved, what the chats show of it).

Writes its audit event in the same transaction; when the move frees the
assignee's slot, drains that agent's teams once committed (inline in embedded
mode, through the broker otherwise).
"""

from __future__ import annotations

from router.audit_origin import ActorRef
from router.errors import NotFound
from router.lifecycle import DONE_STATUSES, is_active
from router.sla_clock import status_event
from router.vocabulary import AuditAction, Status, SystemActor
from store.db import UnitOfWork
from store.staff_ticket_reads import require_version
from workers.desk.pending_notices import after_pending
from workers.desk.resolution_notices import after_resolution
from workers.desk.sla_clocks import clock_event
from workers.runtime.context import Runtime
from workers.steps.drain import drain_soon


def set_ticket_status(
    runtime: Runtime,
    number: int,
    target: Status,
    *,
    actor: ActorRef = SystemActor.CLI,
    reason: str = "",
    if_match: str | None = None,
) -> Status:
    """Move a ticket through the lifecycle (validated in router); drains when a slot frees.

    ``if_match``: the version the caller read (``StaleVersion`` if it changed since)."""
    with runtime.db.unit_of_work() as uow:
        return change_ticket_status(
            runtime, uow, number, target, actor=actor, reason=reason, if_match=if_match
        )


def change_ticket_status(
    runtime: Runtime,
    uow: UnitOfWork,
    number: int,
    target: Status,
    *,
    actor: ActorRef,
    reason: str = "",
    if_match: str | None = None,
) -> Status:
    """Within ``uow``: lock, move (the agent's slot and the SLA clocks with it), audit;
    drains the freed agent's teams once committed. Returns the status before."""
    now = runtime.now()
    ticket = uow.tickets.get(number, for_update=True)
    if ticket is None:
        raise NotFound(f"no ticket #{number}")
    require_version(uow.session, ticket, if_match)
    before = uow.tickets.set_status(ticket, target, now)  # moves the agent's slot too
    moved = status_event(before, target)
    if moved is not None:
        clock_event(runtime, uow, number, moved, now)
    freed = ticket.assignee_id is not None and is_active(before) and not is_active(target)
    uow.audit.record(
        ticket_id=number,
        actor=actor,
        action=AuditAction.TICKET_STATUS,
        detail=f"{before.value} -> {target.value}" + (f": {reason}" if reason else ""),
        now=now,
        data={"from": before.value, "to": target.value},
    )
    if target in DONE_STATUSES and before not in DONE_STATUSES:
        after_resolution(runtime, uow, ticket, target)
    if target is Status.PENDING and before is not Status.PENDING:
        after_pending(runtime, uow, ticket)
    team_ids = uow.agents.teams_served_by(ticket.assignee_id) if freed else []
    uow.after_commit(lambda: drain_soon(runtime, team_ids))
    return before
