"""A requester rates the help with a resolution: from the page, the mail's link or a chat
button; one rating per resolution, changeable for a week, audited."""

from __future__ import annotations

from router.audit_origin import ActorRef
from router.ratings import (
    RatedVia,
    RatingOutcome,
    RatingView,
    clean_comment,
    rating_refusal,
    resolution_number,
)
from router.vocabulary import AuditAction, Status
from store.db import UnitOfWork
from store.ratings import RatingFacts
from workers.runtime.context import Runtime


def rate_in(
    runtime: Runtime,
    uow: UnitOfWork,
    number: int,
    *,
    good: bool,
    comment: str,
    via: RatedVia,
    actor: ActorRef,
) -> RatingOutcome:
    """Within ``uow``: keep the rating of ticket ``number``'s latest resolution."""
    now = runtime.now()
    ticket = uow.tickets.get(number, for_update=True)
    if ticket is None:
        return RatingOutcome.NOT_RESOLVED
    asked = runtime.settings.requester.ratings
    refusal = rating_refusal(Status(ticket.status), ticket.resolved_at, now, asked=asked)
    if refusal is not None:
        return refusal
    facts = RatingFacts(
        ticket_id=ticket.id,
        resolution=resolution_number(ticket.reopen_count or 0),
        agent_id=ticket.assignee_id,
        team_id=ticket.team_id,
    )
    comment = clean_comment(comment)
    rating, before = uow.ratings.record(facts, good=good, comment=comment, via=via, now=now)
    said = "good" if good else "bad"
    uow.audit.record(
        ticket_id=ticket.id,
        actor=actor,
        action=AuditAction.TICKET_RATED,
        detail=f"rated {said} via {via.value}"
        + (f" (was {'good' if before.good else 'bad'})" if before is not None else ""),
        now=now,
        data={"good": good, "comment": comment, "resolution": rating.resolution},
    )
    return RatingOutcome.RECORDED if before is None else RatingOutcome.CHANGED


def rate_ticket(
    runtime: Runtime,
    number: int,
    *,
    good: bool,
    comment: str = "",
    via: RatedVia,
    actor: ActorRef,
) -> RatingOutcome:
    with runtime.db.unit_of_work() as uow:
        return rate_in(runtime, uow, number, good=good, comment=comment, via=via, actor=actor)


def rating_of(runtime: Runtime, number: int) -> RatingView:
    """The requester's rating of ticket ``number``'s latest resolution, and whether they
    may give or change it now."""
    with runtime.db.unit_of_work() as uow:
        ticket = uow.tickets.get(number)
        if ticket is None:
            return RatingView(can_rate=False)
        asked = runtime.settings.requester.ratings
        refusal = rating_refusal(
            Status(ticket.status), ticket.resolved_at, runtime.now(), asked=asked
        )
        can_rate = refusal is None
        if ticket.resolved_at is None or not asked:
            return RatingView(can_rate=can_rate)
        found = uow.ratings.of(ticket.id, resolution_number(ticket.reopen_count or 0))
        if found is None:
            return RatingView(can_rate=can_rate)
        return RatingView(can_rate=can_rate, good=found.good, comment=found.comment)
