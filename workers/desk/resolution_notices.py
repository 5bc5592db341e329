"""What a resolution changes in the chats: the customer who wrote in one is told, and the
agents' notices about the ticket lose the buttons that no longer apply."""

from __future__ import annotations

from connectors.telegram.customer_texts import chat_resolved
from connectors.telegram.notices import has_actions, retired_notice
from router.vocabulary import Channel, OutboxKind, Status
from router.vocabulary_texts import status_word
from store.db import UnitOfWork
from store.models import Ticket
from workers.desk.languages import agent_language, customer_language
from workers.desk.outgoing import queue_chat
from workers.runtime.context import Runtime


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
            html=chat_resolved(
                number=ticket.id,
                language=customer_language(runtime, ticket.requester),
                tag_prefix=runtime.settings.helpdesk.tag_prefix,
            ),
            text="",
            dedupe_key=None,
            automatic=True,
        )
    retire_buttons(runtime, uow, ticket.id, status)


def retire_buttons(runtime: Runtime, uow: UnitOfWork, ticket_id: int, status: Status) -> None:
    """Edit every notice about the ticket that still offers actions: say what happened
    (``status``, in the words of the agent whose chat it is) and keep only its links. (A
    button pressed on one of them edits it once more, to offer what comes next.)"""
    for chat_id, message_id, payload in uow.chats.notices_about(ticket_id):
        buttons = payload.get("buttons") or []
        if payload.get("chat_action", "send") != "send" or not has_actions(buttons):
            continue
        agent = uow.agents.by_telegram_user(chat_id)  # a private chat's id is its user's
        language = agent_language(runtime, agent) if agent else runtime.settings.helpdesk.language
        word = status_word(status.value, language)
        done = word[:1].upper() + word[1:]
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
