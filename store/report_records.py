"""Tickets and SLA clocks one by one as ``router.report_facts`` records.

For a small desk or a test: the figures' definitions applied to these records
give what the summing queries (``store.report_queries``) and the rollups give.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from router.report_facts import ClockRecord, TicketRecord
from router.report_figures import ReportFilters
from store.models import Agent, Customer, Organisation, SlaTimer, Team, Ticket
from store.report_queries import ticket_conditions
from store.report_versions import version_of_ticket


def ticket_records(session: Session, filters: ReportFilters) -> Iterator[TicketRecord]:
    assignee, responder = aliased(Agent), aliased(Agent)
    query = (
        select(
            Ticket,
            Team.name,
            assignee.name,
            responder.name,
            Customer.name,
            Organisation.name,
            version_of_ticket(),
        )
        .join(Customer, Customer.id == Ticket.requester_id)
        .outerjoin(Organisation, Organisation.id == Customer.organisation_id)
        .outerjoin(Team, Team.id == Ticket.team_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        .outerjoin(responder, responder.id == Ticket.first_responder_id)
        .where(*ticket_conditions(filters))
        .order_by(Ticket.id)
    )
    for t, team, agent, first, customer, organisation, version in session.execute(query):
        yield TicketRecord(
            id=t.id,
            created_at=t.created_at,
            status=t.status,
            priority=t.priority,
            channel=t.channel,
            category=t.category,
            team=team,
            assignee=agent,
            requester=customer or t.requester_address,
            organisation=organisation,
            form=t.form,
            tags=tuple(t.tags or ()),
            assigned_at=t.assigned_at,
            first_response_at=t.first_response_at,
            first_responder=first,
            first_response_business_s=t.first_response_business_s,
            done_at=t.done_at,
            resolution_business_s=t.resolution_business_s,
            replies=t.reply_count,
            reopens=t.reopen_count,
            config_version=version,
        )


def clock_records(session: Session, filters: ReportFilters) -> Iterator[ClockRecord]:
    query = (
        select(SlaTimer, Ticket.priority, Team.name)
        .join(Ticket, Ticket.id == SlaTimer.ticket_id)
        .outerjoin(Team, Team.id == Ticket.team_id)
        .where(*ticket_conditions(filters))
        .order_by(SlaTimer.id)
    )
    for timer, priority, team in session.execute(query):
        yield ClockRecord(
            policy=timer.policy,
            kind=timer.kind,
            priority=priority,
            team=team,
            started_at=timer.started_at,
            target_s=timer.target_s,
            consumed_s=timer.consumed_s,
            stopped=timer.stopped_at is not None,
            breached=timer.breached_at is not None,
            escalation_step=timer.escalation_step,
        )
