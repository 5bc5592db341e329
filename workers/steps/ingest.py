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
from dataclasses import dataclass
from typing import Any

from connectors.telegram.notices import chat_acknowledgement
from router.envelopes import InboundMessage
from router.errors import OutOfTurn, PermanentError, TransientError
from router.lifecycle import ROUTABLE_STATUSES, status_after_customer_reply
from router.notice_texts import acknowledgement, customer_reply_notice, requester_label
from router.rules import classify_message, facts_from_message
from router.sla_clock import SlaEvent
from router.thread_keys import (
    SentOn,
    answer_threading,
    followed_chain,
    our_address_written_to,
    thread_keys,
)
from router.vocabulary import (
    AgentStatus,
    AuditAction,
    Channel,
    Direction,
    OutboxKind,
    RowState,
    Status,
    SystemActor,
)
from store.customers import CustomerRef
from store.db import UnitOfWork
from store.models import Ticket
from workers.desk.agent_notices import AgentContact, TicketBrief, notify_agent
from workers.desk.outgoing import queue_chat, queue_email
from workers.desk.sla_clocks import clock_event, start_clocks, status_event
from workers.runtime.context import Runtime
from workers.steps.ingest_email import (
    AutoReplyLimit,
    answered_by_agent,
    read_email,
    record_bounce,
)
from workers.steps.ingest_telegram import PreparedUpdate, prepare_update, read_update

log = logging.getLogger(__name__)


def ingest(runtime: Runtime, inbox_id: int, channel: Channel | None = None) -> None:
    """``channel``: the queue's; a Telegram row's files are fetched before the transaction.

    One chat's updates are ingested in the order they came: a row with an older pending
    row of its sequence raises ``OutOfTurn`` (the older one hands its turn on when done).
    """
    chat = channel is Channel.TELEGRAM
    prepared = prepare_update(runtime, inbox_id) if chat else None
    with runtime.db.unit_of_work() as uow:
        if chat and uow.inbox.waiting_behind([inbox_id]):
            raise OutOfTurn(f"inbox {inbox_id} waits for an older update of its chat")
        _ingest_in(runtime, uow, inbox_id, prepared)
    if chat:
        hand_on(runtime, [inbox_id], Channel.TELEGRAM)


def hand_on(runtime: Runtime, inbox_ids: list[int], channel: Channel) -> None:
    """Rows done (or failed for good): the next pending row of each one's sequence may go.

    Asked after the commit, so a row that waited for these finds them done."""
    with runtime.db.unit_of_work() as uow:
        following = {uow.inbox.next_in_sequence(i) for i in inbox_ids}
    for inbox_id in sorted(i for i in following if i is not None):
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
    claimed in this transaction, so they are locked until it ends and their own
    messages, skipping locked rows, pass them by. Acknowledgements are decided after
    every row is in.

    All or nothing: not ok, with nothing kept, when any row fails (the caller then
    takes them one by one, so one bad row costs its batch a second pass, not more).
    That includes a deadlock: two batches whose replies lock the same two tickets in
    opposite orders; PostgreSQL ends one, which then goes row by row.
    """
    taken: list[int] = []
    try:
        prepared = (
            {i: prepare_update(runtime, i) for i in inbox_ids}
            if channel is Channel.TELEGRAM
            else {}
        )
        with runtime.gather_sends(), runtime.db.unit_of_work() as uow:
            payloads = uow.inbox.claim_many(inbox_ids, runtime.now())
            if channel is Channel.TELEGRAM and uow.inbox.waiting_behind(sorted(payloads)):
                raise OutOfTurn("an update of the batch waits for an older one of its chat")
            if take_along > 0:
                more = uow.inbox.take_waiting(channel.value, limit=take_along, now=runtime.now())
                taken = sorted(more)
                payloads |= more
            read = _read_together(runtime, uow, channel, payloads)
            owed: list[tuple[int, InboundMessage]] = []
            for inbox_id in sorted(payloads):
                _ingest_in(
                    runtime,
                    uow,
                    inbox_id,
                    prepared.get(inbox_id),
                    payloads[inbox_id],
                    message=read.get(inbox_id),
                    acknowledge_later=owed,
                )
            # last, and in address order: deciding acknowledgements locks their addresses
            # (the auto-reply limit) until commit, so a batch holds those locks briefly
            # and two batches take them in the same order
            owed.sort(key=lambda o: (o[1].sender_address.lower(), o[0]))
            limit = AutoReplyLimit(
                runtime, uow, [m.sender_address for _, m in owed if _limited(m.channel)]
            )
            for ticket_id, message in owed:
                _acknowledge(runtime, uow, ticket_id, message, limit)
    except Exception as exc:
        log.info("a batch of %d inbox rows failed (%s): one by one", len(inbox_ids), exc)
        return Batch(ok=False, taken=taken)
    if channel is Channel.TELEGRAM:
        hand_on(runtime, inbox_ids, channel)
    return Batch(ok=True, taken=taken)


def _read_together(
    runtime: Runtime, uow: UnitOfWork, channel: Channel, payloads: dict[int, dict[str, Any]]
) -> dict[int, InboundMessage]:
    """A batch's email and web messages, read before any is ingested, and what ingest will
    ask the store about each (its sender's customer, an earlier copy) asked at once."""
    if channel is Channel.TELEGRAM:
        return {}  # (a chat update is read inside the loop: commands act as they come)
    raws = uow.inbox.raws(sorted(payloads)) if channel is Channel.EMAIL else {}
    read = {}
    for inbox_id in sorted(payloads):
        message = _from_payload(payload=payloads[inbox_id])
        if message.unparsed:
            message = read_email(runtime, uow, inbox_id, message, raws.get(inbox_id))
        read[inbox_id] = message
    uow.customers.look_up(channel, (m.sender_address for m in read.values()))
    uow.messages.look_up_inbound(m.external_id for m in read.values() if m.external_id)
    return read


def _from_payload(payload: dict[str, Any]) -> InboundMessage:
    try:
        return InboundMessage.from_payload(payload)
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentError(f"unreadable inbox payload: {exc!r}") from None


def _ingest_in(
    runtime: Runtime,
    uow: UnitOfWork,
    inbox_id: int,
    prepared: PreparedUpdate | None,
    payload: dict[str, Any] | None = None,
    *,
    message: InboundMessage | None = None,
    acknowledge_later: list[tuple[int, InboundMessage]] | None = None,
) -> None:
    """``payload``: the row's, claimed already by the caller (else claimed here);
    ``message``: the row's, read already by the caller (else read here);
    ``acknowledge_later``: where a batch collects the acknowledgements it owes."""
    now = runtime.now()
    if payload is None:
        payload = uow.inbox.claim(inbox_id, now)
    if payload is None:
        return  # already ingested, failed for good, or unknown
    if message is None:
        message = _from_payload(payload)
    if message.unparsed and message.channel is Channel.TELEGRAM:
        if prepared is None:  # it turned pending after our look (a retry by hand)
            raise TransientError("the update was not read before the claim: again")
        chat_message = read_update(runtime, uow, inbox_id, message, prepared)
        if chat_message is None:
            return  # a command, an agent's action or nothing to keep: done there
        message = chat_message
    elif message.unparsed:
        message = read_email(runtime, uow, inbox_id, message)
    if message.channel is Channel.EMAIL and answered_by_agent(runtime, uow, message, inbox_id):
        return
    customer = (
        uow.customers.identify(message.channel, message.sender_address, message.sender_name, now)
        if message.sender_address
        else None  # a null sender (MAILER-DAEMON <>): automatic, nobody to know or answer
    )
    if message.external_id and customer is not None:
        known = uow.messages.ticket_with_inbound(message.external_id, customer.id)
        if known is not None:  # the same message arrived by another path: one message
            uow.inbox.finish(inbox_id, state=RowState.DONE, ticket_id=known, now=now)
            return
    if message.bounce is not None:
        record_bounce(runtime, uow, message.bounce)
    elif _writes_again(message, customer):
        uow.customers.clear_bounce(message.sender_address)
    existing = _thread(runtime, uow, message, customer)
    quiet = message.is_automatic
    if existing is not None and (quiet or Status(existing.status) is not Status.CLOSED):
        ticket_id = existing.id
        waiting = _join_ticket(runtime, uow, existing, message)
    elif (quiet and not message.is_bulk) or customer is None:  # an auto-reply to nothing
        why = message.automatic_reason or "automatic mail"  # we know: keep it quietly
        uow.inbox.finish(inbox_id, state=RowState.QUIET, ticket_id=None, now=now, why=why)
        return
    else:  # bulk and list mail may be a customer's request: a ticket, never an answer
        ticket_id = _open_ticket(runtime, uow, message, customer, parent=existing)
        waiting = True
        if runtime.settings.helpdesk.acknowledge and not (quiet or message.is_bulk):
            if acknowledge_later is None:
                _acknowledge(runtime, uow, ticket_id, message)
            else:
                acknowledge_later.append((ticket_id, message))
    uow.messages.add(
        ticket_id,
        direction=Direction.INBOUND,
        channel=message.channel,
        author=_author(message),
        body_text=message.body_text,
        body_html=message.body_html,
        full_text=message.full_text,
        headers=message.headers,
        external_id=message.external_id,
        customer_id=customer.id if customer is not None else None,
        inbox_id=inbox_id,
        now=now,
        attachments=message.attachments,
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


def _writes_again(message: InboundMessage, customer: CustomerRef | None) -> bool:
    """Whether a person whose address bounced wrote: it works again."""
    if customer is None or message.is_automatic or message.channel is not Channel.EMAIL:
        return False
    return customer.bounced


def _author(message: InboundMessage) -> str:
    return requester_label(message.sender_name, message.sender_address, message.channel.value)


def _thread(
    runtime: Runtime, uow: UnitOfWork, message: InboundMessage, customer: CustomerRef | None
) -> Ticket | None:
    """The ticket this message answers, locked: by Message-ID, subject tag, plus-address.

    Only email threads this way: a web form always opens a new ticket (its
    sender is not verified, so a subject tag there proves nothing). The subject
    tag and the plus-address count only when the sender takes part in the ticket
    (its requester, someone who wrote on it, or with ``email.cc_participants``
    someone its mail was also sent to or copied to): both are easy to guess.
    """
    if message.channel is Channel.TELEGRAM and customer is not None:
        return _chat_thread(uow, message, customer)
    if message.channel is not Channel.EMAIL:
        return None
    own = runtime.own_addresses if runtime.settings.email.plus_addressing else None
    keys = thread_keys(message, runtime.settings.helpdesk.tag_prefix, own)
    found = uow.messages.ticket_of_message_ids(keys.message_ids)
    if found is not None:
        return uow.tickets.get(found, for_update=True)
    if customer is None:
        return None  # the subject tag and the plus-address count from a participant only
    copied = message.sender_address if runtime.settings.email.cc_participants else None
    for number in (keys.subject_number, keys.plus_number):
        if number is not None and uow.messages.is_participant(
            number, customer.id, copied_address=copied
        ):
            return uow.tickets.get(number, for_update=True)
    return None


def _chat_thread(uow: UnitOfWork, message: InboundMessage, customer: CustomerRef) -> Ticket | None:
    """A chat message joins the chat's open (or resolved: it reopens) ticket, an edit its
    message's ticket, a reply the ticket of the message it answers; unless ``/new``
    asked for a new one."""
    wants_new = uow.chats.lock_chat(message.sender_address)
    if message.in_reply_to:  # an edit, or a reply: the ticket of the message it refers to
        found = uow.messages.ticket_of_message_ids(message.in_reply_to) or uow.chats.ticket_of(
            message.in_reply_to
        )
        if found is not None:
            return uow.tickets.get(found, for_update=True)
    if wants_new:
        uow.chats.mark_new_thread(message.sender_address, None)
        return None
    return uow.tickets.open_in_chat(customer.id, Channel.TELEGRAM.value, for_update=True)


def _open_ticket(
    runtime: Runtime,
    uow: UnitOfWork,
    message: InboundMessage,
    customer: CustomerRef,
    parent: Ticket | None,
) -> int:
    settings = runtime.settings
    decision = classify_message(
        facts_from_message(message, tier=customer.tier, organisation=customer.organisation),
        runtime.rule_book,
        default_category="general",
        default_priority=runtime.default_priority,
        default_team=settings.helpdesk.default_team,
        category_teams=settings.categories,
        category_hint=message.category_hint,
        priority_hint=message.priority_hint,
    )
    team_id = runtime.team_ids.get(decision.team)
    if team_id is None:
        found = uow.agents.team_id(decision.team)  # may be created by this transaction:
        uow.after_commit(lambda: runtime.team_ids.setdefault(decision.team, found))  # cache late
        team_id = found
    now = runtime.now()
    ticket_id = uow.tickets.create(
        subject=message.subject,
        channel=message.channel,
        requester_id=customer.id,
        requester_address=message.sender_address,
        priority=decision.priority,
        category=decision.category,
        team_id=team_id,
        now=now,
        custom_fields=message.custom_fields,
        parent_id=parent.id if parent else None,
        access_key=message.access_key,
        required_skills=dict(decision.required_skills),
        optional_skills=dict(decision.optional_skills),
        tags=list(decision.tags),
        reply_address=_reply_address(runtime, message),
    )
    detail = "; ".join(decision.reasons)
    if message.is_automatic or message.is_bulk:
        detail += f"; {message.automatic_reason or 'automatic mail'}: not acknowledged"
    if parent is not None:
        detail += f"; follows up closed ticket #{parent.id}"
    uow.audit.record(
        ticket_id=ticket_id,
        actor=f"customer:{customer.id}",
        action=AuditAction.TICKET_CREATED,
        detail=detail,
        now=now,
        data={
            "channel": message.channel.value,
            "source": message.source,
            **decision.audit_data(),
        },
    )
    start_clocks(
        runtime,
        uow,
        ticket_id,
        priority=decision.priority,
        category=decision.category,
        team=decision.team,
        tier=customer.tier,
        channel=message.channel,
        now=now,
    )
    return ticket_id


def _join_ticket(
    runtime: Runtime, uow: UnitOfWork, ticket: Ticket, message: InboundMessage
) -> bool:
    """Add a reply to a (locked) ticket; returns whether the ticket now waits for routing."""
    now = runtime.now()
    current = Status(ticket.status)
    ticket.updated_at = now
    if message.is_automatic:
        uow.audit.record(
            ticket_id=ticket.id,
            actor=SystemActor.INGEST,
            action=AuditAction.MESSAGE_QUIET,
            detail=(
                f"automatic message by {message.channel.value}: recorded, not answered"
                + (f" ({message.automatic_reason})" if message.automatic_reason else "")
            ),
            now=now,
        )
        return False
    target = status_after_customer_reply(current)
    if target is not None and target is not current:
        uow.tickets.set_status(ticket, target, now)  # a reopen takes the agent's slot back
        uow.audit.record(
            ticket_id=ticket.id,
            actor=SystemActor.INGEST,
            action=AuditAction.TICKET_REOPENED
            if current is Status.RESOLVED
            else AuditAction.TICKET_STATUS,
            detail=f"{current.value} -> {target.value}: the customer replied",
            now=now,
        )
        _leave_an_absent_assignee(runtime, uow, ticket)
        moved = status_event(current, target)
        if moved is not None:
            clock_event(runtime, uow, ticket.id, moved, now)
    clock_event(runtime, uow, ticket.id, SlaEvent.CUSTOMER_MESSAGE, now)
    uow.audit.record(
        ticket_id=ticket.id,
        actor=SystemActor.INGEST,
        action=AuditAction.MESSAGE_RECEIVED,
        detail=f"reply by {message.channel.value}",
        now=now,
    )
    if ticket.assignee is not None:
        rendered = customer_reply_notice(
            number=ticket.id,
            subject=ticket.subject,
            requester=_author(message),
            excerpt=message.body_text[:1000],
            tag_prefix=runtime.settings.helpdesk.tag_prefix,
        )
        notify_agent(
            runtime,
            uow,
            AgentContact.of(ticket.assignee),
            TicketBrief.of(ticket, latest=message.body_text[:1000], files=message.attachments),
            kind=OutboxKind.REPLY_NOTICE,
            rendered=rendered,
            dedupe_key=f"reply-notice:{message.channel.value}:{message.idempotency_key}"[:255],
        )
    return ticket.assignee_id is None and Status(ticket.status) in ROUTABLE_STATUSES


def _leave_an_absent_assignee(runtime: Runtime, uow: UnitOfWork, ticket: Ticket) -> None:
    """With ``return_on_offline``, a ticket reopened while its agent is offline goes back
    to the queue instead of waiting for that agent."""
    agent = ticket.assignee
    if agent is None or agent.status != AgentStatus.OFFLINE.value:
        return
    if not runtime.settings.routing.return_on_offline:
        return
    uow.agents.release_slot(agent.id)
    ticket.assignee = None  # (the relationship, so the reply notice goes to nobody)
    ticket.queued_at = runtime.now()
    uow.audit.record(
        ticket_id=ticket.id,
        actor=SystemActor.INGEST,
        action=AuditAction.TICKET_UNASSIGNED,
        detail=f"taken from {agent.name}, back to the queue: {agent.name} is offline",
        now=runtime.now(),
        data={"previous": agent.name},
    )


def _reply_address(runtime: Runtime, message: InboundMessage) -> str | None:
    """The address of ours an email's requester wrote to, when it is not the helpdesk's:
    our mail to them comes from it (None: from ``helpdesk.address``)."""
    if message.channel is not Channel.EMAIL:
        return None
    found = our_address_written_to(
        message.recipients,
        runtime.own_addresses,
        runtime.mailbox_addresses.get(message.source, ""),
    )
    return None if found == runtime.settings.helpdesk.address.lower() else found


def _limited(channel: Channel) -> bool:
    """Whether acknowledgements on ``channel`` count against the auto-reply limit."""
    return channel in (Channel.EMAIL, Channel.WEB)


def _acknowledge(
    runtime: Runtime,
    uow: UnitOfWork,
    ticket_id: int,
    message: InboundMessage,
    limit: AutoReplyLimit | None = None,
) -> None:
    """``limit``: the batch's auto-reply limit, decided for all its acknowledgements."""
    if message.channel is Channel.TELEGRAM:
        html = chat_acknowledgement(
            number=ticket_id,
            subject=message.subject or message.body_text,
            helpdesk_name=runtime.settings.helpdesk.name,
            tag_prefix=runtime.settings.helpdesk.tag_prefix,
        )
        queue_chat(
            runtime,
            uow,
            kind=OutboxKind.ACKNOWLEDGEMENT,
            ticket_id=ticket_id,
            chat_id=message.sender_address,
            html=html,
            text="",
            dedupe_key=f"ack:{ticket_id}",
            automatic=True,
        )
        return
    if not _limited(message.channel):
        return
    if limit is None:
        limit = AutoReplyLimit(runtime, uow, [message.sender_address])
    refusal = limit.refusal(message.sender_address)
    if refusal is not None:
        uow.audit.record(
            ticket_id=ticket_id,
            actor=SystemActor.INGEST,
            action=AuditAction.ACKNOWLEDGEMENT_SUPPRESSED,
            detail=refusal,
            now=runtime.now(),
        )
        return
    rendered = acknowledgement(
        number=ticket_id,
        subject=message.subject,
        requester_name=message.sender_name,
        helpdesk_name=runtime.settings.helpdesk.name,
        tag_prefix=runtime.settings.helpdesk.tag_prefix,
    )
    own = [SentOn(message.external_id, from_requester=True)] if message.external_id else []
    parent, references = answer_threading(own, followed_chain(message.headers))
    queue_email(
        runtime,
        uow,
        kind=OutboxKind.ACKNOWLEDGEMENT,
        ticket_id=ticket_id,
        recipient=message.sender_address,
        recipient_name=message.sender_name,
        rendered=rendered,
        dedupe_key=f"ack:{ticket_id}",
        automatic=True,
        in_reply_to=parent,
        references=references,
        from_address=_reply_address(runtime, message),
    )
