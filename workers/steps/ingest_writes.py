"""Ingest's second pass: write what the first decided for each inbox row.

Ingest decides every row of a batch (``workers.steps.ingest``) before it writes
any: the tickets the batch opens go in one statement, then each row's changes in
order (a new ticket's audit and clocks, a reply joining its ticket), then every
row's message in one statement (``store.message_rows``). A later row of the batch
threads onto what an earlier one decided through ``router.batch_threads``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from router.envelopes import InboundMessage
from router.vocabulary import AuditAction, Direction, RowState, SystemActor
from store.customers import CustomerRef
from store.db import UnitOfWork
from store.message_rows import NewMessage, message_row
from store.models import Ticket
from workers.desk.outgoing import Gathered
from workers.runtime.context import Runtime
from workers.steps.ingest_ticket import Opening, author, join_ticket, record_opened

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decided:
    """An inbox row's decision: it opens a ticket (``opening``), joins ``ticket`` (a
    stand-in: the ticket an earlier row of the batch opens), or (``copy``) is a second
    copy of a message an earlier row writes on ``ticket``: only finished."""

    inbox_id: int
    message: InboundMessage
    customer: CustomerRef | None
    now: datetime  # when it was taken: its message's time (and a new ticket's: ``opening``)
    ticket: Ticket | None = None
    opening: Opening | None = None
    copy: bool = False


class IngestWrites:
    """The rows decided and not written yet; ``write`` writes them (``acknowledge_later``:
    where a batch collects the acknowledgements it owes under the auto-reply limit, queued
    at its end; a chat's are queued as their rows are written, so they go out before
    what a later row of the batch says in the chat; None: each is queued at once)."""

    def __init__(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        acknowledge_later: list[tuple[int, InboundMessage]] | None = None,
    ) -> None:
        self.runtime = runtime
        self.uow = uow
        self.acknowledge_later = acknowledge_later
        self.rows: list[Decided] = []

    def add(self, decided: Decided) -> None:
        """Keep the row's decision; what it writes is known to the batch's later rows."""
        message, customer = decided.message, decided.customer
        ticket = decided.opening.ticket if decided.opening is not None else decided.ticket
        if ticket is not None and not decided.copy:
            self.uow.messages.batch.note(
                ticket,
                number=None if decided.opening is not None else ticket.id,
                external_id=message.external_id,
                customer_id=customer.id if customer is not None else None,
                recipients=(message.headers.get("To", ""), message.headers.get("Cc", "")),
            )
        self.rows.append(decided)

    def chats(self) -> set[str]:
        """The sender addresses of the rows kept (a chat's: its id)."""
        return {d.message.sender_address for d in self.rows}

    def holds_customer(self, customer_id: int) -> bool:
        """Whether a row kept is of this customer (merged customers: of any of her chats)."""
        return any(d.customer is not None and d.customer.id == customer_id for d in self.rows)

    def write(self) -> None:
        """Write the rows kept: their new tickets in one statement, each row's changes in
        order, their messages in one statement; a batch's acknowledgements not held back
        (a chat's) in one statement."""
        rows, self.rows = self.rows, []
        uow = self.uow
        openings = [d.opening for d in rows if d.opening is not None]
        for opening, number in zip(
            openings, uow.tickets.create_many([o.row for o in openings]), strict=True
        ):
            opening.ticket.id = number  # the stand-in's number: later rows joined it
        gather = Gathered(self.runtime, uow) if self.acknowledge_later is not None else None
        messages = [self._write(d, gather) for d in rows]
        uow.messages.add_many([m for m in messages if m is not None])
        if gather is not None:
            gather.flush()

    def _acknowledge(
        self, ticket_id: int, message: InboundMessage, gather: Gathered | None
    ) -> None:
        """Queue a new ticket's acknowledgement (``gather``: a batch's), or owe it to the
        batch's end when it counts against the auto-reply limit, whose locks a batch takes
        last and in address order."""
        adapter = self.runtime.channels[message.channel]
        if self.acknowledge_later is not None and adapter.auto_reply_limited:
            self.acknowledge_later.append((ticket_id, message))
        else:
            adapter.acknowledge(self.runtime, self.uow, ticket_id, message, gather=gather)

    def _write(self, decided: Decided, gather: Gathered | None) -> NewMessage | None:
        runtime, uow, message, now = self.runtime, self.uow, decided.message, decided.now
        inbox_id, customer, opening = decided.inbox_id, decided.customer, decided.opening
        if decided.copy:  # the same message arrived by another path: one message
            assert decided.ticket is not None
            uow.inbox.finish(inbox_id, state=RowState.DONE, ticket_id=decided.ticket.id, now=now)
            return None
        quiet = message.is_automatic
        if opening is not None:
            ticket_id = opening.ticket.id
            record_opened(runtime, uow, opening, ticket_id, message)
            waiting = True
            if runtime.settings.helpdesk.acknowledge and not (quiet or message.is_bulk):
                self._acknowledge(ticket_id, message, gather)
        else:
            ticket = decided.ticket
            assert ticket is not None
            if ticket not in uow.session:  # the stand-in of a ticket the batch opened
                written = uow.tickets.get(ticket.id, for_update=True)
                assert written is not None
                ticket = written
            ticket_id = ticket.id
            waiting = join_ticket(runtime, uow, ticket, message, decided.now)
        joined = opening is None
        uow.after_commit(
            lambda: log.info(
                "inbox %s %s ticket #%s",
                inbox_id,
                "joined" if joined else "opened",
                ticket_id,
                extra={"ticket": ticket_id, "inbox_id": inbox_id},
            )
        )
        row = message_row(
            ticket_id,
            direction=Direction.INBOUND,
            channel=message.channel,
            author=author(message),
            body_text=message.body_text,
            body_html=message.body_html,
            full_text=message.full_text,
            headers=message.headers,
            external_id=message.external_id,
            customer_id=customer.id if customer is not None else None,
            inbox_id=inbox_id,
            now=now,
        )
        if message.problems:
            uow.audit.record(
                ticket_id=ticket_id,
                actor=SystemActor.INGEST,
                action=AuditAction.MESSAGE_PROBLEMS,
                detail="read what could be read: " + "; ".join(message.problems)[:2000],
                now=now,
            )
        uow.inbox.finish(
            inbox_id,
            state=RowState.QUIET if quiet else RowState.DONE,
            ticket_id=ticket_id,
            now=now,
            why=(message.automatic_reason or "automatic mail") if quiet else None,
        )
        if waiting:
            uow.after_commit(lambda: runtime.enqueue_route(ticket_id))
        return NewMessage(row, message.attachments)
