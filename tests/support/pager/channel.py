"""The pager's registry entry: its adapter. Everything the pipeline does differently for
the pager is here; the rest is the adapter's defaults."""

from __future__ import annotations

import uuid
from pathlib import Path

from connectors.ports import Sender
from router.envelopes import AttachmentRef, InboundMessage, OutboundMessage
from router.vocabulary import OutboxKind
from store.customers import CustomerRef
from store.db import UnitOfWork
from store.models import Ticket
from tests.support.pager.gateway import PAGER, PagerSender
from workers.channels.adapter import ChannelAdapter
from workers.desk.outgoing import Gathered, queue_message
from workers.runtime.context import Runtime
from workers.steps.ingest_email import AutoReplyLimit


def _page(
    runtime: Runtime,
    uow: UnitOfWork,
    ticket_id: int,
    to: str,
    text: str,
    *,
    kind: OutboxKind,
    dedupe_key: str | None,
    message_id: str | None = None,
) -> int | None:
    message = OutboundMessage(
        channel=PAGER,
        recipient=to,
        subject="",
        body_text=text,
        message_id=message_id or f"pager.{uuid.uuid4().hex}",
        automatic=kind is OutboxKind.ACKNOWLEDGEMENT,
    )
    return queue_message(
        runtime, uow, message, kind=kind, ticket_id=ticket_id, dedupe=dedupe_key, agent_id=None
    )


class PagerChannel(ChannelAdapter):
    channel = PAGER
    outbound = True

    def __init__(self, spool: Path) -> None:
        self.spool = spool

    def thread(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        message: InboundMessage,
        customer: CustomerRef | None,
    ) -> Ticket | None:
        """A pager number's messages make one conversation: its open ticket."""
        if customer is None:
            return None
        return uow.tickets.open_in_chat(customer.id, PAGER.value, for_update=True)

    def acknowledge(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        ticket_id: int,
        message: InboundMessage,
        limit: AutoReplyLimit | None = None,
        gather: Gathered | None = None,
    ) -> None:
        text = f"Got it: your request is #{ticket_id}."
        _page(
            runtime,
            uow,
            ticket_id,
            message.sender_address,
            text,
            kind=OutboxKind.ACKNOWLEDGEMENT,
            dedupe_key=f"ack:{ticket_id}",
        )

    def make_sender(self, runtime: Runtime) -> Sender:
        return PagerSender(self.spool)

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
        body = f"{agent_name} (#{ticket.id}): {text}"
        if files:  # a pager carries no files: it names them
            body += " (files: " + ", ".join(f.filename for f in files) + ")"
        _page(
            runtime,
            uow,
            ticket.id,
            ticket.requester_address,
            body,
            kind=OutboxKind.REPLY,
            dedupe_key=dedupe_key,
            message_id=message_id,
        )
        return body
