"""Telegram in the registry: one chat's updates ingested in order, their files fetched before
the transaction; a chat's messages threaded by the chat; agents linked to a chat told there.

The adapter holds the process's Bot API client (sends, and file downloads in ingest).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from connectors.ports import Sender
from connectors.telegram.bot_api import BotApi, ChatUnreachable
from router.envelopes import AttachmentRef, InboundMessage, OutboundMessage
from router.errors import PermanentError, TransientError
from router.notice_texts import Rendered
from router.vocabulary import Channel, ChatAction, OutboxKind, Status
from store.customers import CustomerRef
from store.db import UnitOfWork
from store.models import Ticket
from store.outbox import Claimed
from workers.channels.adapter import ChannelAdapter
from workers.channels.telegram_connector import make_bot_api, make_telegram_sender
from workers.desk.agent_notices import AgentContact, TicketBrief
from workers.desk.agent_notices_by_channel import fall_back_to_email, notify_in_chat
from workers.desk.customer_answers import answer_in_chat, pass_on_in_chat
from workers.desk.merge_notices import merged_in_chat
from workers.desk.outgoing import Gathered
from workers.desk.pending_notices import pending_in_chat
from workers.desk.resolution_notices import resolved_in_chat, retire_buttons
from workers.runtime.context import Runtime
from workers.steps.acknowledgements import acknowledge_in_chat
from workers.steps.ingest_email import AutoReplyLimit
from workers.steps.ingest_telegram import (
    PreparedUpdate,
    chat_thread,
    prepare_updates,
    read_update,
)
from workers.steps.ingest_telegram_batch import look_up_updates
from workers.steps.ingest_writes import IngestWrites


class TelegramChannel(ChannelAdapter):
    channel = Channel.TELEGRAM
    outbound = True
    agent_preference = 10  # a linked agent is told in the chat
    batches = False  # (a chat update's files are fetched before its transaction)
    in_order = True
    reads_ahead = False  # commands act as they come

    def __init__(self) -> None:
        self._api: BotApi | None = None
        self._lock = threading.Lock()

    def api(self, runtime: Runtime) -> BotApi:
        with self._lock:
            if self._api is None:
                self._api = make_bot_api(runtime.settings)
            return self._api

    def prepare(self, runtime: Runtime, inbox_id: int, along: Sequence[int] = ()) -> Any:
        return prepare_updates(runtime, [inbox_id], self.api(runtime), along)[inbox_id]

    def prepare_batch(self, runtime: Runtime, inbox_ids: Sequence[int]) -> dict[int, Any]:
        return dict(prepare_updates(runtime, inbox_ids, self.api(runtime)))

    def look_up(self, runtime: Runtime, uow: UnitOfWork, prepared: Mapping[int, Any]) -> None:
        look_up_updates(runtime, uow, prepared)

    def read(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        inbox_id: int,
        envelope: InboundMessage,
        prepared: Any,
        raw: bytes | None = None,
        earlier: IngestWrites | None = None,
    ) -> InboundMessage | None:
        if not isinstance(prepared, PreparedUpdate):  # pending after our look (a retry by hand)
            raise TransientError("the update was not read before the claim: again")
        return read_update(runtime, uow, inbox_id, envelope, prepared, earlier)

    def thread(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        message: InboundMessage,
        customer: CustomerRef | None,
    ) -> Ticket | None:
        return chat_thread(uow, message, customer) if customer is not None else None

    def acknowledge(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        ticket_id: int,
        message: InboundMessage,
        limit: AutoReplyLimit | None = None,
        gather: Gathered | None = None,
    ) -> None:
        acknowledge_in_chat(runtime, uow, ticket_id, message, gather)

    def make_sender(self, runtime: Runtime) -> Sender:
        if not runtime.settings.telegram.enabled:
            raise PermanentError("no outbound connector for channel telegram: it is off")
        return make_telegram_sender(
            runtime.settings, self.api(runtime), read_file=runtime.files.read
        )

    def records_sent(self, message: OutboundMessage) -> bool:
        """A new message in the chat (not an edit or a button's answer)."""
        return message.chat_action in (ChatAction.SEND, ChatAction.DOCUMENT)

    def record_sent(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        outbox_id: int,
        claimed: Claimed,
        parts: list[str],
        message: OutboundMessage | None = None,
    ) -> None:
        """The bot's messages in a chat: an agent replying to one answers its ticket."""
        if message is not None and not self.records_sent(message):
            return  # an edit or a button's answer: no new message in the chat
        uow.chats.record_sent(
            claimed.recipient,
            [int(m) for m in parts if m.isdigit()],
            ticket_id=claimed.ticket_id,
            outbox_id=outbox_id,
            kind=claimed.kind,
            now=runtime.now(),
        )

    def failed_for_good(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        outbox_id: int,
        message: OutboundMessage,
        error: BaseException,
    ) -> None:
        if isinstance(error, ChatUnreachable):  # an agent who blocked the bot: by email
            fall_back_to_email(runtime, uow, outbox_id, message, str(error))

    def agent_address(self, runtime: Runtime, contact: AgentContact) -> str | None:
        return contact.telegram_chat_id if runtime.settings.telegram.enabled else None

    def notify_agent(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        contact: AgentContact,
        brief: TicketBrief,
        *,
        kind: OutboxKind,
        rendered: Rendered,
        dedupe_key: str | None,
        detail: str = "",
        gather: Gathered | None = None,
    ) -> int | None:
        return notify_in_chat(
            runtime,
            uow,
            contact,
            brief,
            kind=kind,
            rendered=rendered,
            dedupe_key=dedupe_key,
            detail=detail,
            gather=gather,
        )

    def answer_customer(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        ticket: Ticket,
        text: str,
        *,
        agent_name: str,
        message_id: str,
        dedupe_key: str | None,
        confirm_chat_id: str | None,
        files: tuple[AttachmentRef, ...] = (),
    ) -> str:
        return answer_in_chat(
            runtime,
            uow,
            ticket,
            text,
            agent_name=agent_name,
            message_id=message_id,
            dedupe_key=dedupe_key,
            confirm_chat_id=confirm_chat_id,
            files=files,
        )

    def pass_answer_on(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        ticket: Ticket,
        address: str,
        text: str,
        *,
        dedupe_key: str,
        confirm_chat_id: str | None,
    ) -> bool:
        pass_on_in_chat(
            runtime,
            uow,
            ticket,
            address,
            text,
            dedupe_key=dedupe_key,
            confirm_chat_id=confirm_chat_id,
        )
        return True

    def tell_pending(
        self, runtime: Runtime, uow: UnitOfWork, ticket: Ticket, *, asked: str, reminder: bool
    ) -> None:
        pending_in_chat(runtime, uow, ticket, asked=asked, reminder=reminder)

    def tell_resolved(self, runtime: Runtime, uow: UnitOfWork, ticket: Ticket) -> None:
        resolved_in_chat(runtime, uow, ticket)

    def tell_merged(
        self, runtime: Runtime, uow: UnitOfWork, source: Ticket, target: Ticket
    ) -> None:
        merged_in_chat(runtime, uow, source, target)

    def after_resolution(
        self, runtime: Runtime, uow: UnitOfWork, ticket: Ticket, status: Status
    ) -> None:
        if runtime.settings.telegram.enabled:
            retire_buttons(runtime, uow, ticket.id, status)

    def close(self) -> None:
        with self._lock:
            if self._api is not None:
                self._api.close()
                self._api = None


__all__ = ["TelegramChannel"]
