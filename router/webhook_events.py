"""What a webhook subscriber can hear about, and which audit events say it.

Webhooks are told from the audit log: every change the desk makes is an audit
event written in the transaction of the change, so the one place that turns
audit events into webhook events (``event_of``) catches every use case alike,
the CLI, Telegram, the staff API and the workers, and its webhook rows commit
or roll back with the change. Pure: no IO.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from router.vocabulary import AuditAction


class WebhookEvent(StrEnum):
    """The events a subscription may name."""

    TICKET_CREATED = "ticket.created"
    TICKET_ASSIGNED = "ticket.assigned"
    TICKET_STATUS_CHANGED = "ticket.status_changed"
    TICKET_REPLIED = "ticket.replied"  # an agent's public reply, or a customer's message
    TICKET_NOTE_ADDED = "ticket.note_added"
    TICKET_MERGED = "ticket.merged"  # closed as merged into another (``target``)
    SLA_WARNING = "sla.warning"
    SLA_BREACHED = "sla.breached"


TEST_EVENT = "webhook.test"
"""Sent by ``relaydesk webhooks test`` to one subscription only; never subscribed to."""

# audit action -> the event it is (ticket.transferred only when it names an agent)
_BY_ACTION: dict[str, WebhookEvent] = {
    AuditAction.TICKET_CREATED: WebhookEvent.TICKET_CREATED,
    AuditAction.TICKET_ASSIGNED: WebhookEvent.TICKET_ASSIGNED,
    AuditAction.TICKET_CLAIMED: WebhookEvent.TICKET_ASSIGNED,
    AuditAction.TICKET_TRANSFERRED: WebhookEvent.TICKET_ASSIGNED,
    AuditAction.TICKET_STATUS: WebhookEvent.TICKET_STATUS_CHANGED,
    AuditAction.TICKET_REOPENED: WebhookEvent.TICKET_STATUS_CHANGED,
    AuditAction.MESSAGE_REPLIED: WebhookEvent.TICKET_REPLIED,
    AuditAction.MESSAGE_RECEIVED: WebhookEvent.TICKET_REPLIED,
    AuditAction.NOTE_ADDED: WebhookEvent.TICKET_NOTE_ADDED,
    AuditAction.TICKET_MERGED: WebhookEvent.TICKET_MERGED,
    AuditAction.SLA_WARNING: WebhookEvent.SLA_WARNING,
    AuditAction.SLA_BREACHED: WebhookEvent.SLA_BREACHED,
}

# what of an audit event's data a subscriber is given, per action
_KEPT_DATA = (
    "from",
    "to",
    "agent",
    "previous",
    "team",
    "previous_team",
    "timer",
    "channel",
    "message_id",
    "source",  # a merge: the ticket merged, the one it went into, how many messages moved
    "target",
    "messages",
)


def event_of(action: str, data: Mapping[str, Any] | None = None) -> WebhookEvent | None:
    """The webhook event an audit event is, or None (most are none: deliveries, routing
    waits, sign-ins...). A transfer is an assignment when it gave the ticket to an agent."""
    event = _BY_ACTION.get(action)
    if action == AuditAction.TICKET_TRANSFERRED and not (data or {}).get("agent"):
        return None
    return event


def parse_events(names: Iterable[str]) -> tuple[WebhookEvent, ...]:
    """Event names as given (a subscription's list), checked, deduplicated, in the
    vocabulary's order; ``ValueError`` names what is unknown. An empty list is refused:
    a subscription to nothing is a mistake."""
    wanted = {name.strip().lower() for name in names if name.strip()}
    if not wanted:
        raise ValueError("name at least one event: " + ", ".join(e.value for e in WebhookEvent))
    unknown = sorted(wanted - {e.value for e in WebhookEvent})
    if unknown:
        raise ValueError(
            f"unknown event {', '.join(unknown)}; expected any of "
            + ", ".join(e.value for e in WebhookEvent)
        )
    return tuple(e for e in WebhookEvent if e.value in wanted)


def event_details(action: str, detail: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """What a webhook says about the change beside the ticket: the audit action, its words,
    and the facts its data names (the agent, the team, the SLA timer, ...). For a status
    change, ``from`` and ``to``; for a message, its ``direction``."""
    details: dict[str, Any] = {"action": str(action), "summary": detail}
    for key in _KEPT_DATA:
        if data.get(key) is not None:
            details[key] = data[key]
    if action in (AuditAction.TICKET_STATUS, AuditAction.TICKET_REOPENED) and "to" not in details:
        before, arrow, after = detail.partition(" -> ")
        if arrow:
            details["from"] = before.strip()
            details["to"] = after.split(":", 1)[0].strip()
    if action == AuditAction.MESSAGE_REPLIED:
        details["direction"] = "outbound"
    elif action == AuditAction.MESSAGE_RECEIVED:
        details["direction"] = "inbound"
    return details


def webhook_body(
    event_type: str, *, occurred_at: datetime, sequence: int, data: Mapping[str, Any]
) -> str:
    """The JSON a receiver gets, as Standard Webhooks lays it out (``type``, ``timestamp``,
    ``data``), the same bytes on every retry. ``data.sequence`` grows with every event, so
    a receiver can tell a ticket's older news from its newer."""
    when = occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    payload = {"type": event_type, "timestamp": when, "data": {**data, "sequence": sequence}}
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
