"""What a webhook event tells of its ticket and its message, as this transaction leaves
them: read for the events a subscription wants (``store.webhook_capture``), in one
statement for the tickets and one for the messages of a flush."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Executable, bindparam, select
from sqlalchemy.orm import Session, aliased

from router.vocabulary import AuditAction, Direction
from store.models import Agent, Customer, Message, Team, Ticket

MAX_TEXT = 100_000  # characters of a message's text a webhook carries (``text_truncated``)
TICKETS = "/api/v1/desk/tickets"  # the staff API's tickets: a file's download is under it
_MESSAGE_ACTIONS = frozenset(
    {AuditAction.MESSAGE_REPLIED, AuditAction.MESSAGE_RECEIVED, AuditAction.NOTE_ADDED}
)


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
