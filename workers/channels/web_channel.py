"""The web form and the JSON API in the registry: a submission opens a ticket (its sender
is not verified, so nothing in it threads), unless it comes from a ticket's page (whose key
the page checked): it joins that ticket. Its requester is answered by email."""

from __future__ import annotations

from router.envelopes import InboundMessage
from router.vocabulary import Channel
from store.customers import CustomerRef
from store.db import UnitOfWork
from store.models import Ticket
from workers.channels.adapter import ChannelAdapter
from workers.desk.outgoing import Gathered
from workers.runtime.context import Runtime
from workers.steps.acknowledgements import acknowledge_by_email
from workers.steps.ingest_email import AutoReplyLimit


class WebChannel(ChannelAdapter):
    channel = Channel.WEB
    auto_reply_limited = True
    answered_on = Channel.EMAIL

    def thread(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        message: InboundMessage,
        customer: CustomerRef | None,
    ) -> Ticket | None:
        if message.ticket_number is None:
            return None
        return uow.tickets.get(message.ticket_number, for_update=True)  # its page vouched

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


__all__ = ["WebChannel"]
