"""Merge a ticket into another of the same requester (the same question asked twice).

The source closes as merged (status closed, ``merged_into`` the target; its SLA
clocks stop and its agent's slot frees, as any close does); its messages move to
the target, each marked with the ticket it came from; its requester is told on
their channel that the conversation goes on in the target. Whatever arrives
later on the source's thread (a mail answering it or tagged with it, its chat,
its requester's page) joins the target (``store.merged_tickets.follow_merges``, asked
by ingest). Both tickets' audit logs say so; the source's ``ticket.merged`` event
is the webhook event of that name.
"""

from __future__ import annotations

from router.audit_origin import ActorRef
from router.errors import NotFound, PermanentError
from router.ticket_merges import MergeSide, merge_refusal
from router.vocabulary import AuditAction, Channel, Status, SystemActor
from store.db import UnitOfWork
from store.models import Ticket
from store.staff_ticket_reads import require_version
from workers.desk.ticket_status import change_ticket_status
from workers.runtime.context import Runtime


def merge_tickets(
    runtime: Runtime,
    source: int,
    target: int,
    *,
    actor: ActorRef = SystemActor.CLI,
    if_match: str | None = None,
) -> int:
    """Merge ticket ``source`` into ``target``; how many messages moved. ``NotFound`` for a
    ticket that does not exist, ``PermanentError`` for a merge refused (``merge_refusal``),
    ``StaleVersion`` when ``source`` is no longer at version ``if_match``."""
    if source == target:
        raise PermanentError(f"ticket #{source} cannot be merged into itself")
    with runtime.db.unit_of_work() as uow:
        locked = {n: uow.tickets.get(n, for_update=True) for n in sorted((source, target))}
        old, new = locked[source], locked[target]  # locked in number order: no deadlock
        if old is None:
            raise NotFound(f"no ticket #{source}")
        if new is None:
            raise NotFound(f"no ticket #{target}")
        require_version(uow.session, old, if_match)
        refusal = merge_refusal(_side(old), _side(new))
        if refusal is not None:
            raise PermanentError(refusal)
        return _merge(runtime, uow, old, new, actor)


def _side(ticket: Ticket) -> MergeSide:
    return MergeSide(
        number=ticket.id,
        status=Status(ticket.status),
        requester_id=ticket.requester_id,
        merged_into=ticket.merged_into_id,
    )


def _merge(runtime: Runtime, uow: UnitOfWork, old: Ticket, new: Ticket, actor: ActorRef) -> int:
    now = runtime.now()
    # told first: the notice answers the thread the requester knows (the source's)
    answering = runtime.channels.answering(Channel(old.channel))
    answering.tell_merged(runtime, uow, old, new)
    moved = uow.messages.move_merged(old.id, new.id)
    uow.session.expire(old, ["messages"])
    old.merged_into_id = new.id
    new.updated_at = now
    change_ticket_status(
        runtime, uow, old.id, Status.CLOSED, actor=actor, reason=f"merged into #{new.id}"
    )
    facts = {"source": old.id, "target": new.id, "messages": moved}
    uow.audit.record(
        ticket_id=old.id,
        actor=actor,
        action=AuditAction.TICKET_MERGED,
        detail=f"merged into #{new.id}: {moved} messages moved there",
        now=now,
        data=facts,
    )
    uow.audit.record(
        ticket_id=new.id,
        actor=actor,
        action=AuditAction.TICKET_MERGED_IN,
        detail=f"#{old.id} merged into it: its {moved} messages are here now",
        now=now,
        data=facts,
    )
    return moved
