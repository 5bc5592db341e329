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

from router.vocabulary import AuditAction, Direction, RowState
from router.webhook_events import event_details, event_of
from store.dialect import table
from store.kept_reads import WEBHOOKS, KeptReads
from store.models import (
    Agent,
    Customer,
    Message,
    Team,
    Ticket,
    WebhookDelivery,
    WebhookEventRow,
)
from store.models.webhooks import WebhookSubscription

MAX_TEXT = 100_000  # characters of a message's text a webhook carries (``text_truncated``)
TICKETS = "/api/v1/desk/tickets"  # the staff API's tickets: a file's download is under it
_MESSAGE_ACTIONS = frozenset(
    {AuditAction.MESSAGE_REPLIED, AuditAction.MESSAGE_RECEIVED, AuditAction.NOTE_ADDED}
)


@dataclass(frozen=True)
class WebhookOutlet:
    """How a process starts new deliveries: ``enqueue`` (called after the commit) and how
    long the scheduler leaves a new row to it before re-driving it."""

    enqueue: Callable[[list[int]], None]
    redrive_after: Callable[[], timedelta]
    link_base: Callable[[], str] = lambda: ""  # where the desk is reached: files' links


def new_message_id() -> str:
    """A delivery's ``webhook-id``: one per event, the same on every retry and redelivery."""
    return f"msg_{uuid.uuid4().hex}"


def capture(
    session: Session,
    audit_events: Sequence[dict[str, Any]],
    *,
    redrive_after: timedelta,
    link_base: str = "",
    kept: KeptReads | None = None,
) -> list[int]:
    """Write the webhook events among ``audit_events`` that subscriptions want, and
    their deliveries; the deliveries' ids (none: nothing to tell anyone). A message's
    event carries the message (``message_payloads``); ``link_base`` starts its files'
    links; ``kept``: where the process keeps the subscriptions between changes."""
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
    subscriptions = (
        subscriptions_of(session) if kept is None else kept.get(WEBHOOKS, session, subscriptions_of)
    )
    wanted = [
        (event, audit, [sid for sid, events in subscriptions if event.value in events])
        for event, audit in found
    ]
    wanted = [(event, audit, ids) for event, audit, ids in wanted if ids]
    if not wanted:
        return []
    snapshots = ticket_snapshots(session, {audit["ticket_id"] for _, audit, _ in wanted})
    messages = message_payloads(session, [audit for _, audit, _ in wanted], link_base)
    delivery_ids: list[int] = []
    for index, (event, audit, subscription_ids) in enumerate(wanted):
        data = {
            "ticket": snapshots.get(audit["ticket_id"], {"number": audit["ticket_id"]}),
            "actor": audit["actor"],
            **event_details(audit["action"], audit["detail"], audit["data"]),
        }
        if index in messages:
            data["message"] = messages[index]
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


def subscriptions_of(session: Session) -> list[tuple[int, tuple[str, ...]]]:
    """Every subscription's id and the events it wants, paused ones included."""
    return [(sid, tuple(events)) for sid, events in session.execute(_subscriptions())]


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


def message_payloads(
    session: Session, audits: Sequence[dict[str, Any]], link_base: str
) -> dict[int, dict[str, Any]]:
    """The message each audit event of ``audits`` is about (by index), as a webhook shows
    it: a reply or note names its row (``data.message``); a customer's message joining a
    ticket is the ticket's inbound message written in this transaction, in order."""
    named = {i: a["data"]["message"] for i, a in enumerate(audits) if _names_message(a)}
    received: dict[int, list[int]] = {}
    for i, audit in enumerate(audits):
        if audit["action"] == AuditAction.MESSAGE_RECEIVED and i not in named:
            received.setdefault(audit["ticket_id"], []).append(i)
    found: dict[int, Message] = {}
    if named:
        rows = session.scalars(select(Message).where(Message.id.in_(sorted(set(named.values())))))
        by_id = {m.id: m for m in rows}
        found |= {i: by_id[m] for i, m in named.items() if m in by_id}
    for ticket_id, indexes in received.items():
        latest = session.scalars(
            select(Message)
            .where(Message.ticket_id == ticket_id, Message.direction == Direction.INBOUND.value)
            .order_by(Message.id.desc())
            .limit(len(indexes))
        ).all()
        found |= (
            dict(zip(indexes[-len(latest) :], reversed(latest), strict=False)) if latest else {}
        )
    return {i: _message(m, link_base) for i, m in found.items()}


def _names_message(audit: dict[str, Any]) -> bool:
    return audit["action"] in _MESSAGE_ACTIONS and isinstance(audit["data"].get("message"), int)


def _message(m: Message, link_base: str) -> dict[str, Any]:
    base = link_base.rstrip("/")
    return {
        "id": m.id,
        "direction": m.direction,
        "channel": m.channel,
        "author": m.author,
        "text": m.body_text[:MAX_TEXT],
        "text_truncated": len(m.body_text) > MAX_TEXT,
        "created_at": m.created_at.isoformat(),
        "attachments": [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "url": f"{base}{TICKETS}/{m.ticket_id}/attachments/{a.id}" if a.sha256 else None,
            }
            for a in m.attachments
        ],
    }


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
