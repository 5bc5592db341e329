"""Ingest: one inbox row becomes a new ticket or a message on an existing one.

Idempotent: the inbox row is claimed by a conditional UPDATE inside the same
transaction as the ticket writes, so a second delivery finds it done. A ticket
a message joins is locked (inbox -> ticket -> agent, the order every writer
uses), so a reply racing a status change never works from a stale status.

Automatic messages (auto-replies, bounces, bulk) are recorded quietly: they
never open a ticket, reopen one, take an agent's slot or get an answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from router.envelopes import InboundMessage
from router.errors import OutOfTurn, PermanentError
from router.vocabulary import (
    Channel,
    RowState,
    Status,
)
from store.customers import CustomerRef
from store.db import UnitOfWork
from store.merged_tickets import follow_merges
from store.models import Ticket
from store.ticket_rows import new_access_key
from workers.desk.outgoing import Gathered
from workers.runtime.context import Runtime
from workers.steps.ingest_email import (
    AutoReplyLimit,
    sent_by_an_agent,
)
from workers.steps.ingest_ticket import plan_ticket, requester_language_of
from workers.steps.ingest_writes import Decided, IngestWrites

log = logging.getLogger(__name__)


def ingest(runtime: Runtime, inbox_id: int, channel: Channel | None = None) -> None:
    """``channel``: the queue's; its adapter prepares the row before the transaction
    (a chat update's files are fetched).

    A channel whose rows go ``in_order`` (one chat's updates) ingests them in the order
    they came: a row with an older pending row of its sequence raises ``OutOfTurn`` (the
    older one hands its turn on when done).
    """
    adapter = runtime.channels[channel] if channel is not None else None
    ordered = adapter is not None and adapter.in_order
    prepared = adapter.prepare(runtime, inbox_id) if adapter is not None else None
    with runtime.db.unit_of_work() as uow:
        if ordered and uow.inbox.waiting_behind([inbox_id]):
            raise OutOfTurn(f"inbox {inbox_id} waits for an older row of its sequence")
        _ingest_in(runtime, uow, inbox_id, prepared)
    if ordered and channel is not None:
        hand_on(runtime, [inbox_id], channel)


def hand_on(runtime: Runtime, inbox_ids: list[int], channel: Channel) -> None:
    """Rows done (or failed for good): the next pending row of each one's sequence may go.

    Asked after the commit, so a row that waited for these finds them done."""
    with runtime.db.unit_of_work() as uow:
        following = uow.inbox.next_in_sequences(inbox_ids)
    for inbox_id in sorted(following):
        runtime.enqueue_ingest(inbox_id, channel)


@dataclass(frozen=True)
class Batch:
    ok: bool  # False: it failed as a whole and nothing of it was kept
    taken: list[int]  # rows it took along (their attempts were not counted)


def ingest_together(
    runtime: Runtime, inbox_ids: list[int], channel: Channel, *, take_along: int = 0
) -> Batch:
    """Ingest the rows in one transaction, in order; the next steps' sends go out merged.

    ``take_along``: also take up to this many pending rows of ``channel`` that no
    attempt has begun (a backlog whose broker messages are still queued); they are
    claimed with the rows (one statement), so they are locked until the transaction ends
    and their own messages, skipping locked rows, pass them by. Acknowledgements are decided after
    every row is in.

    All or nothing: not ok, with nothing kept, when any row fails (the caller then
    takes them one by one, so one bad row costs its batch a second pass, not more).
    That includes a deadlock: two batches whose replies lock the same two tickets in
    opposite orders; PostgreSQL ends one, which then goes row by row. A Telegram batch
    locks its chats' identities (by address), then the open tickets of the customers
    whose first message comes before its first row that acts (by id), then what each
    row locks, in row order (``workers/steps/ingest_telegram_batch.py``): after that
    row, in the order a row alone would.
    """
    taken: list[int] = []
    adapter = runtime.channels[channel]
    try:
        prepared = adapter.prepare_batch(runtime, inbox_ids)
        with runtime.gather_sends(), runtime.db.unit_of_work() as uow:
            payloads = uow.inbox.claim_many(
                inbox_ids, runtime.now(), take_along=(channel.value, take_along)
            )
            if adapter.in_order and uow.inbox.waiting_behind(
                sorted(set(payloads).intersection(inbox_ids))
            ):
                raise OutOfTurn("a row of the batch waits for an older one of its sequence")
            taken = sorted(set(payloads).difference(inbox_ids))
            read = _read_together(runtime, uow, channel, payloads)
            adapter.look_up(runtime, uow, {i: prepared.get(i) for i in payloads})
            owed: list[tuple[int, InboundMessage]] = []
            writes = IngestWrites(runtime, uow, acknowledge_later=owed)
            for inbox_id in sorted(payloads):
                if inbox_id in read and read[inbox_id] is None:
                    continue  # handled by its channel's reader
                _ingest_in(
                    runtime,
                    uow,
                    inbox_id,
                    prepared.get(inbox_id),
                    payloads[inbox_id],
                    message=read.get(inbox_id),
                    writes=writes,
                )
            writes.write()  # the batch's new tickets, then its messages: a statement each
            # the acknowledgements owed (under the auto-reply limit) last, and in address
            # order: deciding them locks their addresses until commit, so a batch holds
            # those locks briefly and two batches take them in the same order
            owed.sort(key=lambda o: (o[1].sender_address.lower(), o[0]))
            limit = AutoReplyLimit(runtime, uow, [m.sender_address for _, m in owed])
            acknowledgements = Gathered(runtime, uow)  # queued in one statement
            for ticket_id, message in owed:
                runtime.channels[message.channel].acknowledge(
                    runtime, uow, ticket_id, message, limit, acknowledgements
                )
            acknowledgements.flush()
    except Exception as exc:
        log.info("a batch of %d inbox rows failed (%s): one by one", len(inbox_ids), exc)
        return Batch(ok=False, taken=taken)
    if adapter.in_order:
        hand_on(runtime, inbox_ids, channel)
    return Batch(ok=True, taken=taken)


def _read_together(
    runtime: Runtime, uow: UnitOfWork, channel: Channel, payloads: dict[int, dict[str, Any]]
) -> dict[int, InboundMessage | None]:
    """A batch's messages, read before any is ingested, and what ingest will ask the store
    about each (its sender's customer, an earlier copy) asked at once. (Not for a channel
    whose messages are read as they come, as chat commands act: not ``reads_ahead``.)"""
    adapter = runtime.channels[channel]
    if not adapter.reads_ahead:
        return {}
    raws = uow.inbox.raws(sorted(payloads)) if adapter.reads_raw else {}
    read: dict[int, InboundMessage | None] = {}
    for inbox_id in sorted(payloads):
        message = _from_payload(payload=payloads[inbox_id])
        if message.unparsed:
            found = adapter.read(runtime, uow, inbox_id, message, None, raws.get(inbox_id))
            if found is None:  # handled by its reader, and finished: nothing to ingest
                read[inbox_id] = None
                continue
            message = found
        read[inbox_id] = message
    messages = [m for m in read.values() if m is not None]
    uow.customers.look_up(channel, (m.sender_address for m in messages))
    uow.customers.create_missing(channel, _requesters(uow, messages), runtime.now())
    uow.messages.look_up_inbound(  # a customer made here has sent nothing stored yet
        m.external_id
        for m in messages
        if m.external_id and not uow.customers.made_here(channel, m.sender_address)
    )
    return read


def _requesters(uow: UnitOfWork, messages: list[InboundMessage]) -> list[tuple[str, str]]:
    """(address, name) of the senders ``_ingest_in`` will identify as customers: not a
    ticket page's (its ticket's requester), not a null sender, not an agent (whose mail
    may be an answer, taken before any customer is found; left to ``identify``)."""
    return [
        (m.sender_address, m.sender_name)
        for m in messages
        if _by_address(m) and not sent_by_an_agent(uow, m.sender_address)
    ]


def _by_address(message: InboundMessage) -> bool:
    """Whether the message's customer is found by its sender's address (``identify``):
    not a ticket page's (its ticket's requester), not a null sender."""
    return message.ticket_number is None and bool(message.sender_address)


def _from_payload(payload: dict[str, Any]) -> InboundMessage:
    try:
        return InboundMessage.from_payload(payload)
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentError(f"unreadable inbox payload: {exc!r}") from None


def _ingest_in(
    runtime: Runtime,
    uow: UnitOfWork,
    inbox_id: int,
    prepared: Any,
    payload: dict[str, Any] | None = None,
    *,
    message: InboundMessage | None = None,
    writes: IngestWrites | None = None,
) -> None:
    """``payload``: the row's, claimed already by the caller (else claimed here);
    ``message``: the row's, read already by the caller (else read here);
    ``writes``: a batch's, which writes the row with the others (else written here)."""
    alone = writes is None
    if writes is None:
        writes = IngestWrites(runtime, uow)
    decided = _decide(runtime, uow, inbox_id, prepared, payload, message, writes)
    if decided is not None:
        writes.add(decided)
    if alone:
        writes.write()


def _decide(
    runtime: Runtime,
    uow: UnitOfWork,
    inbox_id: int,
    prepared: Any,
    payload: dict[str, Any] | None,
    message: InboundMessage | None,
    writes: IngestWrites,
) -> Decided | None:
    """What the row writes (the first pass: no ticket or message of the batch is written
    yet, ``router.batch_threads`` shows them); None: nothing, it is done."""
    taken = _taken(runtime, uow, inbox_id, payload, message)
    if taken is None:
        return None  # already ingested, failed for good, or unknown
    now, message = taken
    adapter = runtime.channels[message.channel]
    if message.unparsed:  # (a reading that acts writes the rows decided before it first)
        found = adapter.read(runtime, uow, inbox_id, message, prepared, earlier=writes)
        if found is None:
            return None  # a command, an agent's action or nothing to keep: done there
        message = found
    if writes.rows and adapter.may_take_answer(runtime, uow, message):
        writes.write()  # an agent's answer finds its ticket in the store: write the batch's
    if adapter.takes_answer(runtime, uow, message, inbox_id):
        return None
    customer, message = _requester(runtime, uow, message, now)
    if message.external_id and customer is not None:
        known = (  # (a customer made by this unit of work has no message stored yet)
            None
            if customer.made_here
            else uow.messages.ticket_with_inbound(message.external_id, customer.id)
        )
        if known is not None:  # the same message arrived by another path: one message
            uow.inbox.finish(inbox_id, state=RowState.DONE, ticket_id=known, now=now)
            return None
        earlier = uow.messages.batch.same_message(message.external_id, customer.id)
        if earlier is not None:  # the same, by another path, in this batch
            return Decided(inbox_id, message, customer, now, ticket=earlier, copy=True)
    adapter.learn_from(runtime, uow, message, customer)
    if not adapter.reads_ahead and customer is not None and writes.holds_customer(customer.id):
        writes.write()  # a chat threads on its customer's open ticket, found in the store: a
        # merged customer's other chat may have opened it earlier in this batch
    existing = adapter.thread(runtime, uow, message, customer)
    if existing is not None:  # a ticket merged into another: the message joins that one
        existing = follow_merges(uow.tickets, existing)
    quiet = message.is_automatic
    if existing is not None and (quiet or Status(existing.status) is not Status.CLOSED):
        return Decided(inbox_id, message, customer, now, ticket=existing)
    if (quiet and not message.is_bulk) or customer is None:  # an auto-reply to nothing
        why = message.automatic_reason or "automatic mail"  # we know: keep it quietly
        uow.inbox.finish(inbox_id, state=RowState.QUIET, ticket_id=None, now=now, why=why)
        return None
    # bulk and list mail may be a customer's request: a ticket, never an answer
    return _opening(runtime, uow, inbox_id, message, customer, existing, now)


def _taken(
    runtime: Runtime,
    uow: UnitOfWork,
    inbox_id: int,
    payload: dict[str, Any] | None,
    message: InboundMessage | None,
) -> tuple[datetime, InboundMessage] | None:
    """When the row is taken, and its message: claimed here unless ``payload`` (the
    caller's claim), read from the payload unless ``message``; None: not pending."""
    now = runtime.now()
    if payload is None:
        payload = uow.inbox.claim(inbox_id, now)
    if payload is None:
        return None
    return now, message if message is not None else _from_payload(payload)


def _requester(
    runtime: Runtime, uow: UnitOfWork, message: InboundMessage, now: datetime
) -> tuple[CustomerRef | None, InboundMessage]:
    """The message's customer, and the message in the language it is answered in."""
    customer = _customer(uow, message, now)
    return customer, replace(
        message, language=requester_language_of(runtime, uow, message, customer)
    )


def _opening(
    runtime: Runtime,
    uow: UnitOfWork,
    inbox_id: int,
    message: InboundMessage,
    customer: CustomerRef,
    parent: Ticket | None,
    now: datetime,
) -> Decided:
    """The row opens a ticket: classified, its row made (``plan_ticket``), not written."""
    if message.access_key is None:  # chosen here, so its acknowledgement has the link
        message = replace(message, access_key=new_access_key())
    opening = plan_ticket(runtime, uow, message, customer, parent=parent, now=now)
    return Decided(inbox_id, message, customer, now, opening=opening)


def ingest_opening(runtime: Runtime, inbox_id: int) -> int:
    """Ingest the pending inbox row as a ticket of its own, its number: the live step's
    claim and time (``_taken``), customer and language (``_requester``), classification
    (``_opening``) and writes (``IngestWrites``: the ticket, its audit and clocks, its
    acknowledgement, its message, the row finished). Left out: what decides whether the
    row opens a ticket at all (a chat's reading, an agent's answer, the same message by
    another path, threading, an automatic mail kept quietly). Used only by the tests that
    check the simulations against the live desk: a ticket's first message replayed on a
    copy of the desk opens a ticket, never joins the one it opened when it first came."""
    with runtime.db.unit_of_work() as uow:
        taken = _taken(runtime, uow, inbox_id, None, None)
        if taken is None:
            raise PermanentError(f"inbox {inbox_id} is not pending: nothing to replay")
        now, message = taken
        customer, message = _requester(runtime, uow, message, now)
        if customer is None:
            raise PermanentError(f"inbox {inbox_id}: no customer to open a ticket for")
        decided = _opening(runtime, uow, inbox_id, message, customer, None, now)
        writes = IngestWrites(runtime, uow)
        writes.add(decided)
        writes.write()
    assert decided.opening is not None
    return decided.opening.ticket.id


def _customer(uow: UnitOfWork, message: InboundMessage, now: datetime) -> CustomerRef | None:
    if message.ticket_number is not None:  # from its ticket's page: the ticket's requester
        return uow.customers.requester_of(message.ticket_number)
    if not _by_address(message):
        return None  # a null sender (MAILER-DAEMON <>): automatic, nobody to know or answer
    return uow.customers.identify(message.channel, message.sender_address, message.sender_name, now)
