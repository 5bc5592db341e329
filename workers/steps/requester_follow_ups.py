"""The scheduled step that moves waiting tickets on (``router.followups``): a pending
ticket reminds its requester, then is resolved without an answer; a resolved ticket is
closed. Each move is audited, each ticket locked and looked at again before it moves."""

from __future__ import annotations

import logging
from datetime import timedelta

from router.business_calendar import BusinessCalendar, weekdays
from router.followups import FollowUp, FollowUpDays, pending_follow_up, resolved_follow_up
from router.sla_policy import ALWAYS_OPEN
from router.vocabulary import AuditAction, Status, SystemActor
from workers.desk.pending_notices import tell_requester_pending
from workers.desk.ticket_status import change_ticket_status
from workers.runtime.context import Runtime

log = logging.getLogger(__name__)


def follow_up_days(runtime: Runtime, team: str | None) -> FollowUpDays:
    """The desk's [requester] days, with the team's own where it has them."""
    desk = runtime.settings.requester
    own = next((t for t in runtime.settings.teams if t.name == team), None)

    def pick(mine: int | None, default: int) -> int:
        return default if mine is None else mine

    return FollowUpDays(
        remind=pick(own.pending_remind_days if own else None, desk.pending_remind_days),
        resolve=pick(own.pending_resolve_days if own else None, desk.pending_resolve_days),
        close=pick(own.resolved_close_days if own else None, desk.resolved_close_days),
    )


def follow_up_calendar(runtime: Runtime, team: str | None) -> BusinessCalendar:
    """The team's SLA business calendar (``sla.team_calendars``, else
    ``sla.default_calendar``); Monday to Friday in ``helpdesk.timezone`` when that is
    the built-in 24x7 one (no business days there: every day would count)."""
    sla = runtime.settings.sla
    name = sla.team_calendars.get(team or "", sla.default_calendar)
    calendar = runtime.calendars.get(name)
    if name == ALWAYS_OPEN or calendar is None:
        return weekdays(runtime.settings.helpdesk.timezone)
    return calendar


def follow_up(runtime: Runtime, *, limit: int = 200) -> dict[FollowUp, int]:
    """Remind, resolve and close what is due now; returns how many of each."""
    now = runtime.now()
    done = dict.fromkeys(FollowUp, 0)
    with runtime.db.unit_of_work() as uow:
        waiting = uow.tickets.waiting_on_requesters(
            pending_before=now - timedelta(days=1), resolved_before=now, limit=limit
        )
    for number, status, since, reminded_at, team in waiting:
        days = follow_up_days(runtime, team)
        calendar = follow_up_calendar(runtime, team)
        due = (
            pending_follow_up(since, reminded_at, now, days, calendar)
            if status == Status.PENDING.value
            else resolved_follow_up(since, now, days, calendar)
        )
        if due is None:
            continue
        with runtime.db.unit_of_work() as uow:
            ticket = uow.tickets.get(number, for_update=True)
            if ticket is None or ticket.status != status:
                continue  # it moved meanwhile
            if due is FollowUp.REMIND:
                if ticket.reminded_at is not None:
                    continue
                tell_requester_pending(runtime, uow, ticket, reminder=True)
                ticket.reminded_at = now
                uow.audit.record(
                    ticket_id=number,
                    actor=SystemActor.FOLLOW_UP,
                    action=AuditAction.TICKET_REMINDED,
                    detail=f"pending for {days.remind} business days: the requester is reminded",
                    now=now,
                )
            elif due is FollowUp.RESOLVE:
                change_ticket_status(
                    runtime,
                    uow,
                    number,
                    Status.RESOLVED,
                    actor=SystemActor.FOLLOW_UP,
                    reason=f"no answer from the requester in {days.resolve} business days",
                )
            else:
                change_ticket_status(
                    runtime,
                    uow,
                    number,
                    Status.CLOSED,
                    actor=SystemActor.FOLLOW_UP,
                    reason=f"resolved {days.close} business days ago",
                )
        done[due] += 1
    if any(done.values()):
        log.info("follow-ups: %s", ", ".join(f"{k.value} {n}" for k, n in done.items() if n))
    return done
