"""What a resolution changes in the chats: the customer who wrote in one is told, and the
agents' notices about the ticket lose the buttons that no longer apply."""

from __future__ import annotations

from connectors.telegram.notices import chat_resolved, has_actions, retired_notice
from router.vocabulary import Channel, OutboxKind, Status
from store.db import UnitOfWork
from store.models import Ticket
from workers.desk.outgoing import queue_chat
from workers.runtime.context import Runtime

_DONE = {Status.RESOLVED: "Resolved", Status.CLOSED: "Closed"}


def after_resolution(runtime: Runtime, uow: UnitOfWork, ticket: Ticket, status: Status) -> None:
    """``ticket`` was just resolved or closed (in this transaction)."""
    if not runtime.settings.telegram.enabled:
        return
    if status is Status.RESOLVED and ticket.channel == Channel.TELEGRAM.value:
        queue_chat(
            runtime,
            uow,
            kind=OutboxKind.RESOLVED,
            ticket_id=ticket.id,
            chat_id=ticket.requester_address,
            html=chat_resolved(number=ticket.id, tag_prefix=runtime.settings.helpdesk.tag_prefix),
            text="",
            dedupe_key=None,
            automatic=True,
        )
    retire_buttons(runtime, uow, ticket.id, _DONE.get(status, status.value.capitalize()))


def retire_buttons(runtime: Runtime, uow: UnitOfWork, ticket_id: int, done: str) -> None:
    """Edit every notice about the ticket that still offers actions: say what happened
    and keep only its links. (A button pressed on one of them edits it once more, to
    offer what comes next.)"""
    for chat_id, message_id, payload in uow.chats.notices_about(ticket_id):
        buttons = payload.get("buttons") or []
        if payload.get("chat_action", "send") != "send" or not has_actions(buttons):
            continue
        notice = retired_notice(str(payload.get("body_html") or ""), buttons, done)
        queue_chat(
            runtime,
            uow,
            kind=OutboxKind.NOTICE_UPDATE,
            ticket_id=ticket_id,
            chat_id=chat_id,
            html=notice.html,
            text="",
            buttons=notice.buttons_payload(),
            dedupe_key=None,
            automatic=True,
            action="edit",
            target_id=str(message_id),
        )
