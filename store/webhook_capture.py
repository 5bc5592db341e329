"""Audit events become webhook events, in the transaction that wrote them.

The unit of work hands its buffered audit events here just before it writes
them (``AuditLog.flush``): those that are webhook events (``router.webhook_events``)
and that a subscription wants are written as one event row each and a
delivery row per subscription, beside the change and its audit trail. They
commit together or not at all; the deliveries' ids are enqueued after the
commit (``WebhookOutlet``), and the scheduler re-drives any the broker lost.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Executable, Insert, bindparam, insert, select
from sqlalchemy.orm import Session, aliased

from router.vocabulary import RowState
from router.webhook_events import event_details, event_of
from store.dialect import table
from store.models import Agent, Customer, Team, Ticket, WebhookDelivery, WebhookEventRow
from store.models.webhooks import WebhookSubscription


@dataclass(frozen=True)
class WebhookOutlet:
    """How a process starts new deliveries: ``enqueue`` (called after the commit) and how
    long the scheduler leaves a new row to it before re-driving it."""

    enqueue: Callable[[list[int]], None]
    redrive_after: Callable[[], timedelta]


def new_message_id() -> str:
    """A delivery's ``webhook-id``: one per event, the same on every retry and redelivery."""
    return f"msg_{uuid.uuid4().hex}"


def capture(
    session: Session, audit_events: Sequence[dict[str, Any]], *, redrive_after: timedelta
) -> list[int]:
    """Write the webhook events among ``audit_events`` that subscriptions want, and
    their deliveries; the deliveries' ids (none: nothing to tell anyone)."""
    found = []
    for audit in audit_events:
        if audit["ticket_id"] is None:
            continue
        event = event_of(audit["action"], audit["data"])
        if event is not None:
            found.append((event, audit))
    if not found:
        return []
    # a paused subscription's deliveries are written too: they wait until it is resumed
    subscriptions = session.execute(_subscriptions()).all()
    wanted = [
        (event, audit, [sid for sid, events in subscriptions if event.value in events])
        for event, audit in found
    ]
    wanted = [(event, audit, ids) for event, audit, ids in wanted if ids]
    if not wanted:
        return []
    snapshots = ticket_snapshots(session, {audit["ticket_id"] for _, audit, _ in wanted})
    delivery_ids: list[int] = []
    for event, audit, subscription_ids in wanted:
        data = {
            "ticket": snapshots.get(audit["ticket_id"], {"number": audit["ticket_id"]}),
            "actor": audit["actor"],
            **event_details(audit["action"], audit["detail"], audit["data"]),
        }
        delivery_ids += add_event(
            session,
            event.value,
            ticket_id=audit["ticket_id"],
            data=data,
            now=audit["created_at"],
            subscription_ids=subscription_ids,
            redrive_after=redrive_after,
        )
    return delivery_ids


def add_event(
    session: Session,
    event_type: str,
    *,
    ticket_id: int | None,
    data: dict[str, Any],
    now: datetime,
    subscription_ids: Sequence[int],
    redrive_after: timedelta,
) -> list[int]:
    """One event and a pending delivery of it to each subscription; the deliveries' ids."""
    event_id = session.execute(
        _insert_event(),
        {
            "message_id": new_message_id(),
            "type": event_type,
            "ticket_id": ticket_id,
            "data": data,
            "occurred_at": now,
        },
    ).scalar_one()
    rows = session.execute(
        _insert_delivery(),
        [
            {
                "webhook_id": subscription_id,
                "event_id": event_id,
                "state": RowState.PENDING.value,
                "attempts": 0,
                "available_at": now + redrive_after,
                "created_at": now,
                "updated_at": now,
            }
            for subscription_id in subscription_ids
        ],
    )
    return [row[0] for row in rows]


def ticket_snapshots(session: Session, ticket_ids: set[int]) -> dict[int, dict[str, Any]]:
    """The tickets as a webhook shows them, as this transaction leaves them."""
    rows = session.execute(_snapshots(), {"ids": sorted(ticket_ids)}).all()
    return {
        row[0]: {
            "number": row[0],
            "subject": row[1],
            "status": row[2],
            "priority": row[3],
            "category": row[4],
            "channel": row[5],
            "tags": list(row[6] or []),
            "created_at": row[7].isoformat(),
            "updated_at": row[8].isoformat(),
            "team": row[9],
            "assignee": row[10],
            "requester": {"name": row[11] or "", "address": row[12]},
        }
        for row in rows
    }


# Built once (see ``store.dialect``): they run in every transaction that has news.
@cache
def _subscriptions() -> Executable:
    return select(WebhookSubscription.id, WebhookSubscription.events)


@cache
def _insert_event() -> Insert:
    return insert(table(WebhookEventRow)).returning(table(WebhookEventRow).c.id)


@cache
def _insert_delivery() -> Insert:
    return insert(table(WebhookDelivery)).returning(table(WebhookDelivery).c.id)


@cache
def _snapshots() -> Executable:
    assignee = aliased(Agent)
    return (
        select(
            Ticket.id,
            Ticket.subject,
            Ticket.status,
            Ticket.priority,
            Ticket.category,
            Ticket.channel,
            Ticket.tags,
            Ticket.created_at,
            Ticket.updated_at,
            Team.name,
            assignee.name,
            Customer.name,
            Ticket.requester_address,
        )
        .outerjoin(Team, Team.id == Ticket.team_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        .outerjoin(Customer, Customer.id == Ticket.requester_id)
        .where(Ticket.id.in_(bindparam("ids", expanding=True)))
    )
