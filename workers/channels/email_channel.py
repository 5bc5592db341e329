"""Email in the registry: mail read from its raw bytes, threaded by its headers, answered
by mail within the auto-reply limit; agents' answers by mail taken; bounces acted on."""

from __future__ import annotations

from typing import Any

from connectors.email.outbound import make_email_sender
from connectors.ports import Sender
from router.envelopes import AttachmentRef, InboundMessage
from router.notice_texts import Rendered
from router.vocabulary import Channel, OutboxKind
from store.customers import CustomerRef
from store.db import UnitOfWork
from store.models import Ticket
from workers.channels.adapter import ChannelAdapter
from workers.desk.agent_notices import AgentContact, TicketBrief
from workers.desk.agent_notices_by_channel import notify_by_email
from workers.desk.customer_answers import answer_by_email, pass_on_by_email
from workers.desk.merge_notices import merged_by_email
from workers.desk.outgoing import Gathered
from workers.desk.pending_notices import pending_by_email
from workers.desk.resolution_notices import resolved_by_email
from workers.runtime.context import Runtime
from workers.steps.acknowledgements import acknowledge_by_email, reply_address
from workers.steps.ingest_email import (
    AutoReplyLimit,
    answered_by_agent,
    email_thread,
    may_be_an_agents_answer,
    read_email,
    record_bounce,
)
from workers.steps.ingest_writes import IngestWrites


class EmailChannel(ChannelAdapter):
    channel = Channel.EMAIL
    outbound = True
    agent_preference = 50  # every agent has an address
    reads_raw = True
    auto_reply_limited = True

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
        return read_email(runtime, uow, inbox_id, envelope, raw)

    def may_take_answer(self, runtime: Runtime, uow: UnitOfWork, message: InboundMessage) -> bool:
        return may_be_an_agents_answer(runtime, uow, message)

    def takes_answer(
        self, runtime: Runtime, uow: UnitOfWork, message: InboundMessage, inbox_id: int
    ) -> bool:
        return answered_by_agent(runtime, uow, message, inbox_id)

    def learn_from(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        message: InboundMessage,
        customer: CustomerRef | None,
    ) -> None:
        """A bounce fails the message of ours it reports; a person whose address bounced
        wrote: it works again."""
        if message.bounce is not None:
            record_bounce(runtime, uow, message.bounce)
        elif customer is not None and not message.is_automatic and customer.bounced:
            uow.customers.clear_bounce(message.sender_address)

    def thread(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        message: InboundMessage,
        customer: CustomerRef | None,
    ) -> Ticket | None:
        return email_thread(runtime, uow, message, customer)

    def reply_address(self, runtime: Runtime, message: InboundMessage) -> str | None:
        return reply_address(runtime, message)

    def acknowledge(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        ticket_id: int,
        message: InboundMessage,
        limit: AutoReplyLimit | None = None,
        gather: Gathered | None = None,
    ) -> None:
        acknowledge_by_email(runtime, uow, ticket_id, message, limit, gather)

    def make_sender(self, runtime: Runtime) -> Sender:
        return make_email_sender(runtime.settings, read_file=runtime.files.read)

    def agent_address(self, runtime: Runtime, contact: AgentContact) -> str | None:
        return contact.email

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
        return notify_by_email(
            runtime,
            uow,
            contact,
            brief,
            kind=kind,
            rendered=rendered,
            dedupe_key=dedupe_key,
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
        return answer_by_email(
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
        pass_on_by_email(
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
        pending_by_email(runtime, uow, ticket, asked=asked, reminder=reminder)

    def tell_resolved(self, runtime: Runtime, uow: UnitOfWork, ticket: Ticket) -> None:
        resolved_by_email(runtime, uow, ticket)

    def tell_merged(
        self, runtime: Runtime, uow: UnitOfWork, source: Ticket, target: Ticket
    ) -> None:
        merged_by_email(runtime, uow, source, target)


__all__ = ["EmailChannel"]
