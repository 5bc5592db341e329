"""The Telegram side of the store: messages the bot sent, agents' links, chat markers."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from router.thread_keys import read_chat_message_ref
from router.vocabulary import Channel, Status
from store.dialect import insert_ignoring_conflict
from store.models import Agent, ChatMessage, CustomerIdentity, OutboxItem, Ticket

LIVE = (Status.NEW, Status.OPEN, Status.PENDING, Status.RESOLVED)


def open_in_chat_clause(customer_ids: Collection[int], channel: str) -> ColumnElement[bool]:
    """A ticket a chat's next message may join: the requesters' tickets in ``channel`` not
    closed (a message on a resolved one reopens it), or merged into another (followed)."""
    return (
        Ticket.requester_id.in_(list(customer_ids))
        & (Ticket.channel == channel)
        & or_(Ticket.status.in_([s.value for s in LIVE]), Ticket.merged_into_id.is_not(None))
    )


@dataclass
class KeptChats:
    """What a unit of work asked at once for a Telegram batch's updates (``look_up_users``,
    ``lock_chats``, ``look_up_open_tickets``), kept for its rows' own questions."""

    agents: dict[str, Agent | None] = field(default_factory=dict)  # by Telegram user
    wants_new: dict[str, bool] = field(default_factory=dict)  # by chat, its identity locked
    open_tickets: dict[int, Ticket | None] = field(default_factory=dict)  # by customer


@dataclass(frozen=True)
class SentRef:
    """What a bot message in a chat was about."""

    ticket_id: int | None
    outbox_id: int | None


class ChatRepository:
    def __init__(self, session: Session, kept: KeptChats | None = None) -> None:
        self.session = session
        self.kept = KeptChats() if kept is None else kept

    # -- a batch's updates, asked at once -----------------------------------
    def look_up_users(self, user_ids: Iterable[str]) -> None:
        """The agents linked to ``user_ids`` (None: a customer), in one query, for
        ``agent_of_user``; forgotten when an agent is linked or unlinked."""
        wanted = set(user_ids) - set(self.kept.agents)
        if not wanted:
            return
        found: dict[str, Agent | None] = dict.fromkeys(wanted)
        query = select(Agent).where(Agent.telegram_user_id.in_(sorted(wanted)))
        for agent in self.session.scalars(query):  # (a user is linked to one agent at most)
            found[agent.telegram_user_id or ""] = agent
        self.kept.agents.update(found)

    def agent_of_user(self, user_id: str) -> Agent | None:
        """The agent linked to the Telegram user, if any."""
        if user_id in self.kept.agents:
            return self.kept.agents[user_id]
        return self.session.scalars(select(Agent).where(Agent.telegram_user_id == user_id)).first()

    def lock_chats(self, chat_ids: Iterable[str]) -> None:
        """``lock_chat`` for many chats in one statement (in the order of their addresses);
        whether each wants a new ticket is kept, and changed by ``mark_new_thread``."""
        wanted = sorted(set(chat_ids) - set(self.kept.wants_new))
        if not wanted:
            return
        rows = self.session.execute(
            select(CustomerIdentity.address, CustomerIdentity.new_thread_at)
            .where(
                CustomerIdentity.channel == Channel.TELEGRAM.value,
                CustomerIdentity.address.in_(wanted),
            )
            .order_by(CustomerIdentity.address)
            .with_for_update()
        )
        self.kept.wants_new.update((address, marked is not None) for address, marked in rows)

    def look_up_open_tickets(self, customer_ids: Iterable[int]) -> None:
        """The ticket each customer's next chat message joins (``open_in_chat``), the
        newest of each locked: two statements for a batch (none locked when none is open).
        Each is kept for its customer's next ``take_open_ticket``."""
        wanted = set(customer_ids) - set(self.kept.open_tickets)
        if not wanted:
            return
        channel = Channel.TELEGRAM.value
        newest: dict[int, int] = {}
        for number, requester in self.session.execute(
            select(Ticket.id, Ticket.requester_id).where(open_in_chat_clause(wanted, channel))
        ):
            newest[requester] = max(number, newest.get(requester, 0))
        found: dict[int, Ticket | None] = dict.fromkeys(wanted)
        if newest:
            locked = self.session.scalars(
                select(Ticket)
                .where(Ticket.id.in_(sorted(newest.values())), open_in_chat_clause(wanted, channel))
                .order_by(Ticket.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            found.update((ticket.requester_id, ticket) for ticket in locked)
            for requester in newest:
                if found[requester] is None:  # closed meanwhile: its next message asks again
                    del found[requester]
        self.kept.open_tickets.update(found)

    def take_open_ticket(self, customer_id: int) -> tuple[bool, Ticket | None]:
        """(True, the ticket) as ``look_up_open_tickets`` found it for the customer, once:
        the customer's next message may have changed it; (False, None): not kept."""
        if customer_id not in self.kept.open_tickets:
            return False, None
        return True, self.kept.open_tickets.pop(customer_id)

    def forget_open_tickets(self) -> None:
        """What ``look_up_open_tickets`` found may be out of date: a chat reading that acts
        may one day close or merge a ticket (none does today)."""
        self.kept.open_tickets.clear()

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
        self.kept.agents.clear()
        agent.telegram_user_id = user_id
        agent.telegram_chat_id = chat_id
        agent.link_code_hash = None
        agent.link_code_expires_at = None

    def unlink(self, agent: Agent) -> None:
        self.kept.agents.clear()
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
        if chat_id in self.kept.wants_new:
            self.kept.wants_new[chat_id] = now is not None

    def lock_chat(self, chat_id: str) -> bool:
        """Lock the chat's identity row (one chat's messages are threaded one at a time;
        the order every writer uses: inbox, identity, ticket, agent); whether ``/new``
        asked that the next message open a new ticket."""
        if chat_id in self.kept.wants_new:  # locked by ``lock_chats``
            return self.kept.wants_new[chat_id]
        marked = self.session.execute(
            select(CustomerIdentity.new_thread_at)
            .where(
                CustomerIdentity.channel == Channel.TELEGRAM.value,
                CustomerIdentity.address == chat_id,
            )
            .with_for_update()
        ).first()
        return marked is not None and marked[0] is not None
