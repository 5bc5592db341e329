"""The one place webhook events are made: the audit events a transaction writes, on SQLite
and PostgreSQL (the SLA sweep, the desk's use cases and ingest all record through it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from router.envelopes import AttachmentRef
from router.vocabulary import AuditAction, Channel, Direction, Priority, RowState
from store.audit import insert_event
from store.db import Database
from store.models import WebhookEventRow

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
# every audit action that is news, as the desk's code records it
RECORDED: list[tuple[AuditAction, dict[str, Any], str]] = [
    (AuditAction.TICKET_CREATED, {"channel": "email"}, "ticket.created"),
    (AuditAction.TICKET_ASSIGNED, {"agent": "ana"}, "ticket.assigned"),
    (AuditAction.TICKET_CLAIMED, {"agent": "ana"}, "ticket.assigned"),
    (AuditAction.TICKET_TRANSFERRED, {"agent": "ben", "previous": "ana"}, "ticket.assigned"),
    (AuditAction.TICKET_STATUS, {"from": "open", "to": "pending"}, "ticket.status_changed"),
    (AuditAction.TICKET_REOPENED, {"from": "resolved", "to": "open"}, "ticket.status_changed"),
    (AuditAction.MESSAGE_RECEIVED, {}, "ticket.replied"),
    (AuditAction.MESSAGE_REPLIED, {"message_id": "<m@x>"}, "ticket.replied"),
    (AuditAction.NOTE_ADDED, {}, "ticket.note_added"),
    (AuditAction.TICKET_MERGED, {"source": 1, "target": 2, "messages": 3}, "ticket.merged"),
    (AuditAction.SLA_WARNING, {"timer": "first_response"}, "sla.warning"),
    (AuditAction.SLA_BREACHED, {"timer": "resolution"}, "sla.breached"),
]
NOT_NEWS = [
    AuditAction.TICKET_WAITING,
    AuditAction.OUTBOX_SENT,
    AuditAction.TICKET_UNASSIGNED,
    AuditAction.STAFF_SIGNED_IN,
]


def _ticket(db: Database) -> int:
    with db.unit_of_work() as uow:
        customer = uow.customers.identify(Channel.EMAIL, "jo@example.org", "Jo", NOW)
        return uow.tickets.create(
            subject="VPN down",
            channel=Channel.EMAIL,
            requester_id=customer.id,
            requester_address="jo@example.org",
            priority=Priority.HIGH,
            category="general",
            team_id=None,
            now=NOW,
        )


def _subscribe(db: Database, events: list[str], *, active: bool = True) -> int:
    with db.unit_of_work() as uow:
        hook = uow.webhooks.add(
            url="https://93.184.216.34/h",
            events=events,
            secret="whsec_" + "A" * 32,
            description="",
            created_by="test",
            now=NOW,
        )
        if not active:
            uow.webhooks.set_active(hook, False, reason="test", now=NOW)
        return hook.id


def test_each_news_action_becomes_its_event_for_the_subscriptions_that_want_it(
    db: Database,
) -> None:
    number = _ticket(db)
    everything = _subscribe(db, sorted({event for _, _, event in RECORDED}))
    only_sla = _subscribe(db, ["sla.breached"])
    with db.unit_of_work() as uow:
        for action, data, _event in RECORDED:
            uow.audit.record(
                ticket_id=number, actor="system:sla", action=action, now=NOW, data=data
            )
        for action in NOT_NEWS:
            uow.audit.record(ticket_id=number, actor="system", action=action, now=NOW)
        uow.audit.record(ticket_id=None, actor="cli", action=AuditAction.AGENT_ADDED, now=NOW)
    with db.unit_of_work() as uow:
        events = list(uow.session.scalars(select(WebhookEventRow).order_by(WebhookEventRow.id)))
        mine = uow.webhook_deliveries.recent(webhook_id=everything, limit=100)
        sla = uow.webhook_deliveries.recent(webhook_id=only_sla, limit=100)
    assert [e.type for e in events] == [event for _, _, event in RECORDED]
    assert len(mine) == len(RECORDED)
    assert [d.event_type for d in sla] == ["sla.breached"]
    assert all(d.state == RowState.PENDING.value for d in mine + sla)
    breach = events[-1]
    assert breach.data["timer"] == "resolution" and breach.data["actor"] == "system:sla"
    assert breach.data["ticket"]["priority"] == "high" and breach.ticket_id == number
    assert len({e.message_id for e in events}) == len(events)


def test_a_paused_subscriptions_deliveries_wait_and_are_not_redriven(db: Database) -> None:
    number = _ticket(db)
    paused = _subscribe(db, ["ticket.note_added"], active=False)
    with db.unit_of_work() as uow:
        uow.audit.record(ticket_id=number, actor="cli", action=AuditAction.NOTE_ADDED, now=NOW)
    later = NOW + timedelta(hours=1)
    with db.unit_of_work() as uow:
        [waiting] = uow.webhook_deliveries.recent(webhook_id=paused)
        assert waiting.state == "pending"
        assert (
            uow.webhook_deliveries.claim(waiting.id, now=later, lease=timedelta(minutes=1)) is None
        )
        assert (
            uow.webhook_deliveries.due_for_redrive(
                now=later, again_after=timedelta(minutes=1), limit=10
            )
            == []
        )
        hook = uow.webhooks.get(paused)
        assert hook is not None
        uow.webhooks.set_active(hook, True, reason=None, now=later)
        assert uow.webhook_deliveries.pending_of(paused, now=later) == [waiting.id]
    with db.unit_of_work() as uow:
        claimed = uow.webhook_deliveries.claim(waiting.id, now=later, lease=timedelta(minutes=1))
    assert claimed is not None and claimed.attempts == 1 and claimed.type == "ticket.note_added"


def test_two_racing_sweeps_take_each_due_delivery_once(db: Database) -> None:
    number = _ticket(db)
    hook = _subscribe(db, ["ticket.note_added"])
    with db.unit_of_work() as uow:
        for _ in range(6):
            uow.audit.record(ticket_id=number, actor="cli", action=AuditAction.NOTE_ADDED, now=NOW)
    later = NOW + timedelta(minutes=5)
    with db.unit_of_work() as first, db.unit_of_work() as second:
        taken = first.webhook_deliveries.due_for_redrive(
            now=later, again_after=timedelta(minutes=1), limit=3
        )
        if db.dialect == "postgresql":  # SQLite's writers queue instead (BEGIN IMMEDIATE)
            taken += second.webhook_deliveries.due_for_redrive(
                now=later, again_after=timedelta(minutes=1), limit=10
            )
    assert len(taken) == len(set(taken))
    with db.unit_of_work() as uow:
        rest = uow.webhook_deliveries.due_for_redrive(
            now=later, again_after=timedelta(minutes=1), limit=10
        )
    assert sorted(taken + rest) == sorted(d.id for d in _all(db, hook))


def _all(db: Database, hook: int) -> list:
    with db.unit_of_work() as uow:
        return uow.webhook_deliveries.recent(webhook_id=hook, limit=100)


def test_old_events_are_forgotten_with_their_deliveries_unless_still_under_way(
    db: Database,
) -> None:
    number = _ticket(db)
    hook = _subscribe(db, ["ticket.note_added"])
    for day in (0, 1, 2):  # three notes, a day apart
        with db.unit_of_work() as uow:
            uow.audit.record(
                ticket_id=number,
                actor="cli",
                action=AuditAction.NOTE_ADDED,
                now=NOW + timedelta(days=day),
            )
    first, second, third = sorted(d.id for d in _all(db, hook))
    with db.unit_of_work() as uow:  # the first two were delivered; the third waits
        for delivery in (first, second):
            uow.webhook_deliveries.claim(delivery, now=NOW, lease=timedelta(minutes=1))
            uow.webhook_deliveries.mark_delivered(delivery, status=204, now=NOW)
    cutoff = NOW + timedelta(days=5)
    with db.unit_of_work() as uow:
        assert uow.webhook_deliveries.prune(before=NOW + timedelta(hours=1), limit=10) == 1
    assert sorted(d.id for d in _all(db, hook)) == [second, third]
    with db.unit_of_work() as uow:
        assert uow.webhook_deliveries.prune(before=cutoff, limit=10) == 1  # not the waiting one
        remaining = list(uow.session.scalars(select(WebhookEventRow.type)))
    assert [d.id for d in _all(db, hook)] == [third] and remaining == ["ticket.note_added"]


def test_a_message_event_carries_the_message_with_its_files(db: Database) -> None:
    number = _ticket(db)
    _subscribe(db, ["ticket.replied", "ticket.note_added"])
    picture = AttachmentRef("shot.png", "image/png", 2048, sha256="ab" * 32)
    lost = AttachmentRef("huge.iso", "application/octet-stream", 10**9, None)  # not kept
    with db.unit_of_work() as uow:
        for text, direction in (("first", Direction.INBOUND), ("second", Direction.INBOUND)):
            uow.messages.add(
                number,
                direction=direction,
                channel=Channel.EMAIL,
                author="Jo <jo@example.org>",
                body_text=text,
                now=NOW,
                attachments=(picture, lost) if text == "second" else (),
            )
            uow.audit.record(
                ticket_id=number,
                actor="system:ingest",
                action=AuditAction.MESSAGE_RECEIVED,
                now=NOW,
            )
        note = uow.messages.add(
            number,
            direction=Direction.INTERNAL,
            channel=Channel.EMAIL,
            author="agent:ana",
            body_text="x" * 100_001,
            now=NOW,
        )
        uow.audit.record(
            ticket_id=number,
            actor="agent:ana",
            action=AuditAction.NOTE_ADDED,
            now=NOW,
            data={"message": note},
        )
    with db.unit_of_work() as uow:
        events = list(uow.session.scalars(select(WebhookEventRow).order_by(WebhookEventRow.id)))
    first, second, noted = (e.data["message"] for e in events)
    assert (first["text"], first["direction"], first["attachments"]) == ("first", "inbound", [])
    assert second["text"] == "second" and second["author"] == "Jo <jo@example.org>"
    [kept, missing] = second["attachments"]
    assert (kept["filename"], kept["content_type"], kept["size"]) == ("shot.png", "image/png", 2048)
    assert kept["url"].startswith(f"/api/v1/desk/tickets/{number}/attachments/")
    assert missing["filename"] == "huge.iso" and missing["url"] is None
    assert noted["id"] == note and noted["direction"] == "internal"
    assert len(noted["text"]) == 100_000 and noted["text_truncated"] is True


def test_an_event_a_statement_wrote_itself_is_captured_at_the_flush_once(db: Database) -> None:
    """``AuditLog.written``: an event written by the change's own statement (delivery's
    record on PostgreSQL) is not written again, and becomes its webhook event as a
    buffered one would, beside the buffered ones."""
    number = _ticket(db)
    hook = _subscribe(db, ["ticket.note_added", "ticket.status_changed"])
    with db.unit_of_work() as uow:
        note = uow.audit.event(
            ticket_id=number, actor="cli", action=AuditAction.NOTE_ADDED, now=NOW
        )
        insert_event(uow.session, note)  # as ``written_with`` does, with its change
        uow.audit.written(note)
        uow.audit.record(
            ticket_id=number,
            actor="cli",
            action=AuditAction.TICKET_STATUS,
            now=NOW,
            data={"from": "open", "to": "pending"},
        )
    with db.unit_of_work() as uow:
        actions = [e.action for e in uow.audit.for_ticket(number)]
        deliveries = uow.webhook_deliveries.recent(webhook_id=hook, limit=10)
    assert actions.count(AuditAction.NOTE_ADDED.value) == 1
    assert sorted(d.event_type for d in deliveries) == [
        "ticket.note_added",
        "ticket.status_changed",
    ]
