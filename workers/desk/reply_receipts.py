"""Receipts for an agent who answered from a chat: told there once the answer is
delivered, or that it could not be, and by which channel it went instead, if any.

Each is written in the transaction that records the delivery, or its failure, so the
agent hears exactly once what became of the answer.
"""

from __future__ import annotations

from connectors.telegram.bot_replies import (
    another_way,
    answer_recorded_html,
    answer_undelivered_html,
)
from router.vocabulary import Channel, OutboxKind
from store.db import UnitOfWork
from store.models import OutboxItem
from workers.desk.languages import agent_language
from workers.desk.outgoing import queue_chat
from workers.runtime.context import Runtime

_FALLBACK = "fallback-of:"  # the dedupe key of an answer sent again another way


def confirm_delivered(
    runtime: Runtime,
    uow: UnitOfWork,
    *,
    outbox_id: int,
    ticket_id: int | None,
    channel: Channel,
    chat_id: str,
) -> None:
    """The answer of outbox row ``outbox_id`` reached the customer by ``channel``."""
    if ticket_id is None:
        return
    queue_chat(
        runtime,
        uow,
        kind=OutboxKind.ANSWER_RECEIPT,
        ticket_id=ticket_id,
        chat_id=chat_id,
        html=answer_recorded_html(
            internal=False,
            channel=channel.value,
            number=ticket_id,
            tag_prefix=runtime.settings.helpdesk.tag_prefix,
            language=_author_language(runtime, uow, chat_id),
        ),
        text="",
        dedupe_key=f"receipt:{outbox_id}",
        automatic=True,
    )


def report_undelivered(runtime: Runtime, uow: UnitOfWork, item: OutboxItem, reason: str) -> None:
    """An answer failed for good (or bounced): send it to another address the customer
    has, if any, and tell the agent who wrote it what became of it."""
    if item.confirm_chat_id is None or item.ticket_id is None:
        return
    language = _author_language(runtime, uow, item.confirm_chat_id)
    instead = None
    if not (item.dedupe_key or "").startswith(_FALLBACK):  # one other way, not a loop
        instead = _send_another_way(runtime, uow, item, language)
    queue_chat(
        runtime,
        uow,
        kind=OutboxKind.ANSWER_RECEIPT,
        ticket_id=item.ticket_id,
        chat_id=item.confirm_chat_id,
        html=answer_undelivered_html(
            channel=item.channel,
            number=item.ticket_id,
            reason=reason,
            instead=instead,
            tag_prefix=runtime.settings.helpdesk.tag_prefix,
            language=language,
        ),
        text="",
        dedupe_key=f"undelivered:{item.id}",
        automatic=True,
    )


def _author_language(runtime: Runtime, uow: UnitOfWork, chat_id: str) -> str:
    """The language of the agent who answered from ``chat_id`` (a private chat: its id
    is the agent's Telegram user id)."""
    agent = uow.agents.by_telegram_user(chat_id)
    return agent_language(runtime, agent) if agent else runtime.settings.helpdesk.language


def _send_another_way(
    runtime: Runtime, uow: UnitOfWork, item: OutboxItem, language: str
) -> str | None:
    """Queue the answer to the customer's first address on another channel; what it was
    ("email to kim@example.org", in the agent's ``language``), or None when there is none."""
    ticket = uow.tickets.get(item.ticket_id) if item.ticket_id is not None else None
    if ticket is None:
        return None
    text = str((item.payload or {}).get("body_text") or "")
    for channel, address in uow.customers.addresses_of(ticket.requester_id):
        if channel.value == item.channel or channel not in runtime.channels:
            continue
        passed = runtime.channels[channel].pass_answer_on(
            runtime,
            uow,
            ticket,
            address,
            text,
            dedupe_key=f"{_FALLBACK}{item.id}",
            confirm_chat_id=item.confirm_chat_id,
        )
        if passed:
            return another_way(channel.value, address, language)
    return None
