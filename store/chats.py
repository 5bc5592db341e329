"""The Telegram side of the store: messages the bot sent, agents' links, chat markers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from router.thread_keys import read_chat_message_ref
from router.vocabulary import Channel
from store.dialect import insert_ignoring_conflict
from store.models import Agent, ChatMessage, CustomerIdentity, OutboxItem


@dataclass(frozen=True)
class SentRef:
    """What a bot message in a chat was about."""

    ticket_id: int | None
    outbox_id: int | None


class ChatRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- the bot's messages -----------------------------------------------
    def record_sent(
        self,
        chat_id: str,
        message_ids: list[int],
        *,
        ticket_id: int | None,
        outbox_id: int | None,
        kind: str,
        now: datetime,
    ) -> None:
        for message_id in message_ids:
            insert_ignoring_conflict(
                self.session,
                ChatMessage,
                {
                    "chat_id": chat_id,
                    "message_id": message_id,
                    "ticket_id": ticket_id,
                    "outbox_id": outbox_id,
                    "kind": kind,
                    "created_at": now,
                },
            )

    def sent(self, chat_id: str, message_id: int) -> SentRef | None:
        row = self.session.get(ChatMessage, (chat_id, message_id))
        if row is None:
            return None
        return SentRef(ticket_id=row.ticket_id, outbox_id=row.outbox_id)

    def ticket_of(self, refs: Sequence[str]) -> int | None:
        """The ticket of the first bot message among ``refs`` (``tg:<chat>:<message>``)."""
        for ref in refs:
            parsed = read_chat_message_ref(ref)
            found = self.sent(*parsed) if parsed else None
            if found is not None and found.ticket_id is not None:
                return found.ticket_id
        return None

    def notices_about(self, ticket_id: int) -> list[tuple[str, int, dict[str, Any]]]:
        """The bot's messages about ``ticket_id`` with what was sent: (chat id, message
        id, the outbox payload), oldest first."""
        rows = self.session.execute(
            select(ChatMessage.chat_id, ChatMessage.message_id, OutboxItem.payload)
            .join(OutboxItem, OutboxItem.id == ChatMessage.outbox_id)
            .where(ChatMessage.ticket_id == ticket_id)
            .order_by(ChatMessage.created_at, ChatMessage.message_id)
        )
        return [(chat_id, message_id, dict(payload or {})) for chat_id, message_id, payload in rows]

    def told_about(self, chat_id: str, ticket_id: int) -> bool:
        """Whether the bot sent a message about ``ticket_id`` into this chat."""
        return (
            self.session.scalar(
                select(ChatMessage.message_id)
                .where(ChatMessage.chat_id == chat_id, ChatMessage.ticket_id == ticket_id)
                .limit(1)
            )
            is not None
        )

    # -- agents' links ------------------------------------------------------
    def set_link_code(self, agent: Agent, code_hash: str, expires_at: datetime) -> None:
        agent.link_code_hash = code_hash
        agent.link_code_expires_at = expires_at

    def agent_by_code(self, code_hash: str, now: datetime) -> Agent | None:
        """The agent a one-time code was made for, locked, while it is valid."""
        return self.session.scalars(
            select(Agent)
            .where(Agent.link_code_hash == code_hash, Agent.link_code_expires_at > now)
            .with_for_update()
        ).first()

    def link(self, agent: Agent, user_id: str, chat_id: str) -> None:
        """Link ``agent`` to a Telegram user (unlinking whoever had it) and spend the code."""
        self.session.execute(
            update(Agent)
            .where(Agent.telegram_user_id == user_id, Agent.id != agent.id)
            .values(telegram_user_id=None, telegram_chat_id=None)
            .execution_options(synchronize_session=False)
        )
        self.session.flush()
        agent.telegram_user_id = user_id
        agent.telegram_chat_id = chat_id
        agent.link_code_hash = None
        agent.link_code_expires_at = None

    def unlink(self, agent: Agent) -> None:
        agent.telegram_user_id = None
        agent.telegram_chat_id = None

    # -- customers' chats ---------------------------------------------------
    def mark_new_thread(self, chat_id: str, now: datetime | None) -> None:
        """``/new``: the chat's next message opens a new ticket (None: it was opened)."""
        self.session.execute(
            update(CustomerIdentity)
            .where(
                CustomerIdentity.channel == Channel.TELEGRAM.value,
                CustomerIdentity.address == chat_id,
            )
            .values(new_thread_at=now)
            .execution_options(synchronize_session=False)
        )

    def lock_chat(self, chat_id: str) -> bool:
        """Lock the chat's identity row (one chat's messages are threaded one at a time;
        the order every writer uses: inbox, identity, ticket, agent); whether ``/new``
        asked that the next message open a new ticket."""
        marked = self.session.execute(
            select(CustomerIdentity.new_thread_at)
            .where(
                CustomerIdentity.channel == Channel.TELEGRAM.value,
                CustomerIdentity.address == chat_id,
            )
            .with_for_update()
        ).first()
        return marked is not None and marked[0] is not None
