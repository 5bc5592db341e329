"""SLA clocks kept up to date: started with a ticket, moved by what happens to it.

Every change goes through the pure reducer (``router.sla_clock.apply``) and is
saved with fresh deadlines in the same transaction as its cause; nothing here
reads or sends anything on its own (the sweep in ``workers.steps.sla_sweep`` does).
"""

from __future__ import annotations

from datetime import datetime

from router.sla_clock import SlaEvent, SlaTargets, TicketClocks, apply, retarget
from router.sla_policy import SlaPolicy, calendar_for, choose_policy
from router.vocabulary import AuditAction, Channel, Priority, SystemActor
from store.db import UnitOfWork
from store.sla import StoredClocks
from workers.runtime.context import Runtime


def _targets(policy: SlaPolicy) -> SlaTargets:
    return SlaTargets(
        first_response=policy.first_response,
        next_response=policy.next_response,
        resolution=policy.resolution,
        warn_share=policy.warn_share,
    )


def start_clocks(
    runtime: Runtime,
    uow: UnitOfWork,
    ticket_id: int,
    *,
    priority: Priority,
    category: str,
    team: str | None,
    tier: str | None,
    channel: Channel,
    now: datetime,
    opened: bool = False,
) -> None:
    """Choose the ticket's SLA policy (first match) and start its clocks. ``opened``: the
    ticket was opened in this transaction, so it has no clocks to read and lock (a batch's
    new tickets' clocks are then written together, at the session's next flush)."""
    policies = runtime.sla_policies
    if not policies:
        return  # no SLA configured
    policy, reasons = choose_policy(
        policies, priority=priority, category=category, team=team, tier=tier, channel=channel
    )
    if policy is None:
        uow.audit.record(
            ticket_id=ticket_id,
            actor=SystemActor.SLA,
            action=AuditAction.SLA_NONE,
            detail=reasons[-1],
            now=now,
        )
        return
    sla = runtime.settings.sla
    name, why = calendar_for(
        policy, team=team, team_calendars=sla.team_calendars, default=sla.default_calendar
    )
    calendar = runtime.calendars[name]
    clocks = apply(TicketClocks(), SlaEvent.CUSTOMER_MESSAGE, _targets(policy), calendar, now)
    uow.sla.save(
        ticket_id,
        clocks,
        policy=policy.name,
        calendar_name=name,
        calendar=calendar,
        locked_rows={} if opened else None,
    )
    uow.audit.record(
        ticket_id=ticket_id,
        actor=SystemActor.SLA,
        action=AuditAction.SLA_POLICY,
        detail=f"{reasons[-1]}; {why}",
        now=now,
        data={"policy": policy.name, "calendar": name},
    )


def clock_event(
    runtime: Runtime, uow: UnitOfWork, ticket_id: int, event: SlaEvent, now: datetime
) -> None:
    """Move the ticket's clocks for ``event`` (a reply, a status change); no-op without.
    The version of the ticket's team decides (a pilot team's: its candidate)."""
    stored = uow.sla.clocks(ticket_id, for_update=True)
    if stored is None:
        return
    with runtime.configs.for_team(_team_in_pilot(runtime, uow, ticket_id)):
        _move(runtime, uow, ticket_id, stored, event, now)


def _team_in_pilot(runtime: Runtime, uow: UnitOfWork, ticket_id: int) -> str | None:
    """The ticket's team while a pilot runs (it chooses the version), else None (unread)."""
    if runtime.configs.desk().pilot is None:
        return None
    ticket = uow.tickets.get(ticket_id)
    return ticket.team.name if ticket is not None and ticket.team is not None else None


def _move(
    runtime: Runtime,
    uow: UnitOfWork,
    ticket_id: int,
    stored: StoredClocks,
    event: SlaEvent,
    now: datetime,
) -> None:
    policy = next((p for p in runtime.sla_policies if p.name == stored.policy), None)
    calendar = runtime.calendars.get(stored.calendar)
    if policy is None or calendar is None:
        return  # the policy or calendar left the configuration: the clocks stay as they are
    clocks = apply(stored.clocks, event, _targets(policy), calendar, now)
    if clocks != stored.clocks:
        uow.sla.save(
            ticket_id,
            clocks,
            policy=stored.policy,
            calendar_name=stored.calendar,
            calendar=calendar,
            locked_rows=stored.locked_rows,  # read FOR UPDATE by the caller: not again
        )


def replan_clocks(
    runtime: Runtime,
    uow: UnitOfWork,
    ticket_id: int,
    *,
    priority: Priority,
    category: str,
    team: str | None,
    tier: str | None,
    channel: Channel,
    now: datetime,
) -> None:
    """A field a policy matches on changed: the clocks under the policy that matches now
    (first match), each keeping the time it has run; audited. No clocks, or no policy
    matching: as they are. The version of the ticket's (new) team decides."""
    stored = uow.sla.clocks(ticket_id, for_update=True)
    if stored is None:
        return
    with runtime.configs.for_team(team):
        _replan(runtime, uow, ticket_id, stored, priority, category, team, tier, channel, now)


def _replan(
    runtime: Runtime,
    uow: UnitOfWork,
    ticket_id: int,
    stored: StoredClocks,
    priority: Priority,
    category: str,
    team: str | None,
    tier: str | None,
    channel: Channel,
    now: datetime,
) -> None:
    policy, reasons = choose_policy(
        runtime.sla_policies,
        priority=priority,
        category=category,
        team=team,
        tier=tier,
        channel=channel,
    )
    if policy is None:
        return
    sla = runtime.settings.sla
    name, why = calendar_for(
        policy, team=team, team_calendars=sla.team_calendars, default=sla.default_calendar
    )
    calendar = runtime.calendars[name]
    clocks = retarget(stored.clocks, _targets(policy))
    uow.sla.save(
        ticket_id,
        clocks,
        policy=policy.name,
        calendar_name=name,
        calendar=calendar,
        locked_rows=stored.locked_rows,
    )
    uow.audit.record(
        ticket_id=ticket_id,
        actor=SystemActor.SLA,
        action=AuditAction.SLA_POLICY,
        detail=f"planned again: {reasons[-1]}; {why}",
        now=now,
        data={"policy": policy.name, "calendar": name, "previous_policy": stored.policy},
    )
