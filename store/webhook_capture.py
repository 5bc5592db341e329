"""Audit events become webhook events, in the transaction that wrote them.

The unit of work hands its audit events here as it writes them (``AuditLog.flush``):
those that are webhook events (``router.webhook_events``) and that a subscription wants
are written as one event row each and a delivery row per subscription, beside the change
and its audit trail. They commit together or not at all; the deliveries' ids are
enqueued after the commit (``WebhookOutlet``), and the scheduler re-drives any the broker
lost.

The subscriptions are read by the database, in the writing transaction: the audit INSERT
returns which event types any subscription wants (``subscribed_types``; a desk without
subscribers reads no payload and sends nothing more), and each wanted event's row and its
deliveries are written by an ``INSERT ... SELECT FROM webhooks`` naming the subscriptions
that want its type. A subscription committed before the flush is told; one deleted
meanwhile is not (on PostgreSQL the statement takes the subscriptions' key-share lock,
the lock its foreign keys take anyway: a delete in flight is waited for and its row left
out, so no delivery fails its foreign key). On PostgreSQL that spans two snapshots: the
audit INSERT's decides whether a type is wanted, the ``INSERT ... SELECT``'s which
subscriptions get it; one committed between the two is told only if another already
wanted the type.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Executable,
    Insert,
    Integer,
    Select,
    String,
    bindparam,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
    true,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import TableValuedAlias

from router.vocabulary import RowState
from router.webhook_events import WebhookEvent, event_details, event_of
from store.dialect import table
from store.models import WebhookDelivery, WebhookEventRow
from store.models.webhooks import WebhookSubscription
from store.webhook_payloads import message_payloads, ticket_snapshots


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
    subscribed: frozenset[str] | None = None,
) -> list[int]:
    """Write the webhook events among ``audit_events`` that subscriptions want, and
    their deliveries; the deliveries' ids (none: nothing to tell anyone). A message's
    event carries the message (``message_payloads``); ``link_base`` starts its files'
    links; ``subscribed``: the event types some subscription wants, read by a statement
    of this transaction (``subscribed_types``), else asked here."""
    found = _webhook_events(audit_events)
    if not found:
        return []
    if subscribed is None:
        dialect = session.get_bind().dialect.name
        types = sorted({event.value for event, _ in found})
        subscribed = frozenset(session.scalars(_wanted_types(dialect), {"types": types}))
    # a paused subscription's deliveries are written too: they wait until it is resumed
    wanted = [(event, audit) for event, audit in found if event.value in subscribed]
    if not wanted:
        return []
    snapshots = ticket_snapshots(session, {audit["ticket_id"] for _, audit in wanted})
    messages = message_payloads(session, [audit for _, audit in wanted], link_base)
    delivery_ids: list[int] = []
    for index, (event, audit) in enumerate(wanted):
        data = {
            "ticket": snapshots.get(audit["ticket_id"], {"number": audit["ticket_id"]}),
            "actor": audit["actor"],
            **event_details(audit["action"], audit["detail"], audit["data"]),
        }
        if index in messages:
            data["message"] = messages[index]
        delivery_ids += add_subscribed_event(
            session,
            event.value,
            ticket_id=audit["ticket_id"],
            data=data,
            now=audit["created_at"],
            redrive_after=redrive_after,
        )
    return delivery_ids


def tells_webhooks(audit_events: Sequence[dict[str, Any]]) -> bool:
    """Whether any of ``audit_events`` is a webhook event (about a ticket)."""
    return bool(_webhook_events(audit_events))


def _webhook_events(
    audit_events: Sequence[dict[str, Any]],
) -> list[tuple[WebhookEvent, dict[str, Any]]]:
    found = []
    for audit in audit_events:
        if audit["ticket_id"] is None:
            continue
        event = event_of(audit["action"], audit["data"])
        if event is not None:
            found.append((event, audit))
    return found


@cache
def subscribed_types(dialect: str) -> ColumnElement[str | None]:
    """Every event type some subscription wants, joined by commas (NULL: none), as a column
    another statement of the capture's transaction returns (the audit INSERT:
    ``store.audit``); read by ``types_of``."""
    named = _named_types(dialect)
    # DISTINCT: each type once, however many subscriptions name it (the value is returned
    # with every audit row)
    joined = (
        func.string_agg(named.c.value.distinct(), literal_column("','"), type_=String)
        if dialect == "postgresql"
        else func.group_concat(named.c.value.distinct(), type_=String)
    )
    return (
        select(joined)
        .select_from(table(WebhookSubscription))
        .join(named, true())
        .scalar_subquery()
        .label("subscribed")
    )


def types_of(subscribed: str | None) -> frozenset[str]:
    return frozenset(subscribed.split(",")) if subscribed else frozenset()


def add_subscribed_event(
    session: Session,
    event_type: str,
    *,
    ticket_id: int | None,
    data: dict[str, Any],
    now: datetime,
    redrive_after: timedelta,
) -> list[int]:
    """One event and a pending delivery of it to each subscription that wants its type,
    the subscriptions read by the statement that writes them (no event row when none
    does); the deliveries' ids."""
    event = {
        "message_id": new_message_id(),
        "type": event_type,
        "ticket_id": ticket_id,
        "data": data,
        "occurred_at": now,
    }
    delivery = {
        "type": event_type,
        "state": RowState.PENDING.value,
        "available_at": now + redrive_after,
        "created_at": now,
    }
    if session.get_bind().dialect.name == "postgresql":
        return list(session.scalars(_event_and_deliveries(), event | delivery))
    event_id = session.scalars(_subscribed_event(), event).first()
    if event_id is None:
        return []
    return list(session.scalars(_subscribed_deliveries(), delivery | {"event_id": event_id}))


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
    """One event and a pending delivery of it to each of ``subscription_ids`` (a test
    event, to one subscription); the deliveries' ids."""
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


def _wants(dialect: str, event_type: ColumnElement[Any]) -> ColumnElement[bool]:
    """A subscription (a row of ``webhooks``) names ``event_type`` among its events."""
    events = table(WebhookSubscription).c.events
    if dialect == "postgresql":
        return events.op("?", return_type=Boolean)(event_type)
    named = func.json_each(events).table_valued("value").alias("named")
    return exists().select_from(named).where(named.c.value == event_type)


# Built once (see ``store.dialect``): they run in every transaction that has news.
@cache
def _wanted_types(dialect: str) -> Executable:
    """Which of the event types ``types`` any subscription wants."""
    named = _named_types(dialect)
    return (
        select(named.c.value)
        .select_from(table(WebhookSubscription))
        .join(named, true())
        .where(named.c.value.in_(bindparam("types", expanding=True)))
        .distinct()
    )


def _named_types(dialect: str) -> TableValuedAlias:
    """Each event type a subscription names (``value``), beside the subscription's row."""
    events = table(WebhookSubscription).c.events
    if dialect == "postgresql":
        return func.jsonb_array_elements_text(events).table_valued("value").alias("named")
    return func.json_each(events).table_valued("value").alias("named")


def _subscribed(dialect: str) -> Select[Any]:
    """The subscriptions that want the event type ``type``."""
    hooks = table(WebhookSubscription)
    return select(hooks.c.id).where(_wants(dialect, bindparam("type", type_=String)))


@cache
def _subscribed_event() -> Insert:
    """(SQLite) the event's row, written if a subscription wants its ``type``."""
    events = table(WebhookEventRow)
    names = ("message_id", "type", "ticket_id", "data", "occurred_at")
    values = select(*(bindparam(name, type_=events.c[name].type) for name in names))
    return (
        insert(events)
        .from_select(list(names), values.where(exists(_subscribed("sqlite"))))
        .returning(events.c.id)
    )


def _delivery_values(
    subscription: ColumnElement[Any], event_id: ColumnElement[Any]
) -> list[ColumnElement[Any]]:
    deliveries = table(WebhookDelivery)
    created = bindparam("created_at", type_=deliveries.c.created_at.type)
    return [
        subscription,
        event_id,
        bindparam("state", type_=String),
        literal(0, Integer),
        bindparam("available_at", type_=deliveries.c.available_at.type),
        created,
        created,
    ]


_DELIVERY_COLUMNS = (
    "webhook_id",
    "event_id",
    "state",
    "attempts",
    "available_at",
    "created_at",
    "updated_at",
)


@cache
def _subscribed_deliveries() -> Insert:
    """(SQLite, whose writer holds the database for its transaction) a delivery of the
    event ``event_id`` to each subscription that wants ``type``."""
    deliveries = table(WebhookDelivery)
    hooks = table(WebhookSubscription)
    values = select(*_delivery_values(hooks.c.id, bindparam("event_id", type_=Integer)))
    return (
        insert(deliveries)
        .from_select(list(_DELIVERY_COLUMNS), values.where(_wants("sqlite", bindparam("type"))))
        .returning(deliveries.c.id)
    )


@cache
def _event_and_deliveries() -> Executable:
    """(PostgreSQL) the subscriptions that want ``type`` locked as their foreign keys lock
    them (FOR KEY SHARE: a delete in flight is waited for, and its row left out), the
    event written if any is left, and a delivery to each, in one statement."""
    deliveries = table(WebhookDelivery)
    events = table(WebhookEventRow)
    wanting = (
        _subscribed("postgresql")
        .with_for_update(read=True, key_share=True)
        .cte("wanting")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    names = ("message_id", "type", "ticket_id", "data", "occurred_at")
    values = select(*(bindparam(name, type_=events.c[name].type) for name in names))
    event = (
        insert(events)
        .from_select(list(names), values.where(exists(select(wanting.c.id))))
        .returning(events.c.id)
        .cte("event")
    )
    values = select(*_delivery_values(wanting.c.id, event.c.id)).select_from(
        wanting.join(event, true())
    )
    return (
        insert(deliveries)
        .from_select(list(_DELIVERY_COLUMNS), values)
        .returning(deliveries.c.id)
        .add_cte(event)
    )


@cache
def _insert_event() -> Insert:
    return insert(table(WebhookEventRow)).returning(table(WebhookEventRow).c.id)


@cache
def _insert_delivery() -> Insert:
    return insert(table(WebhookDelivery)).returning(table(WebhookDelivery).c.id)
