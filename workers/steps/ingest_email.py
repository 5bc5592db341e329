"""What ingest does for email only: parse, take agents' answers, act on bounces, limit loops."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from connectors.email.normalize import parse_inbound
from connectors.email.quoting import new_text
from router.agent_mail import answers_publicly
from router.envelopes import BounceReport, InboundMessage
from router.errors import PermanentError
from router.thread_keys import ThreadKeys, thread_keys
from router.vocabulary import AuditAction, Channel, RowState, Status, SystemActor
from store.customers import CustomerRef, normalise_address
from store.db import UnitOfWork
from store.merged_tickets import follow_merges
from store.models import Ticket
from workers.desk.replies import post_answer
from workers.desk.reply_receipts import report_undelivered
from workers.runtime.context import Runtime


def read_email(
    runtime: Runtime,
    uow: UnitOfWork,
    inbox_id: int,
    envelope: InboundMessage,
    raw: bytes | None = None,
) -> InboundMessage:
    """The whole message behind an envelope the connector committed; attachments kept.

    ``raw``: the row's bytes, when the caller read them already (a batch reads all
    its rows' at once). Raises ``PermanentError`` when the bytes are missing or name
    no sender: the row is then failed with that reason and keeps its bytes for a
    person to read.
    """
    if raw is None:
        raw = uow.inbox.raw(inbox_id)
    if raw is None:
        raise PermanentError("email without its raw bytes: nothing to parse")
    limits = runtime.settings.email
    return parse_inbound(
        raw,
        envelope,
        own=runtime.own_addresses,
        keep_file=runtime.files.put,
        max_attachment_bytes=limits.max_attachment_bytes,
        max_attachments_bytes=limits.max_attachments_bytes,
    )


def record_bounce(runtime: Runtime, uow: UnitOfWork, bounce: BounceReport) -> int | None:
    """Fail the sent message the bounce refers to and flag its recipient; its ticket.

    A bounce is easy to forge, so it only ever acts on a message we sent (by its
    random Message-ID), only on that message's own recipient, and only when the
    report names that recipient (or names nobody).
    """
    if not bounce.permanent or not bounce.original_message_id:
        return None  # a delay notice changes nothing: the relay is still trying
    now = runtime.now()
    reason = " ".join(p for p in (bounce.status, bounce.diagnostic) if p) or "delivery failed"
    item = uow.outbox.mark_bounced(
        bounce.original_message_id, reason=reason, now=now, only_for=bounce.recipients
    )
    if item is None:
        return None  # not a message of ours, not sent yet, or not to the one reported
    uow.customers.flag_bounced(item.recipient, reason, now)
    uow.audit.record(
        ticket_id=item.ticket_id,
        actor=SystemActor.INGEST,
        action=AuditAction.OUTBOX_BOUNCED,
        detail=f"{item.kind} to {item.recipient} bounced: {reason}",
        now=now,
        data={"outbox_id": item.id, "status": bounce.status},
    )
    report_undelivered(runtime, uow, item, f"it bounced: {reason}")
    return item.ticket_id


class AutoReplyLimit:
    """Whether automatic replies may go to some addresses now: decided for a batch at once.

    Locks the addresses' identities (in address order; ingests counting replies to
    one address take turns, so two cannot both slip under the limit), then counts
    the automatic replies each got within the window: two statements for a batch.
    Each reply ``refusal`` allows is counted, so a batch holding several messages
    from one sender stays within the limit too.
    """

    def __init__(self, runtime: Runtime, uow: UnitOfWork, addresses: Iterable[str]) -> None:
        wanted = sorted(set(addresses))
        self.settings = runtime.settings.email
        self.bounces = uow.customers.bounces(wanted, lock=True)
        since = runtime.now() - timedelta(seconds=self.settings.auto_reply_window_s)
        self.sent = uow.outbox.automatic_since(wanted, since)

    def refusal(self, address: str) -> str | None:
        """Why no automatic reply may go to ``address``; None when one may (it is counted)."""
        bounced = self.bounces.get(normalise_address(Channel.EMAIL, address))
        if bounced is not None:
            return f"mail to {address} bounces ({bounced})"
        sent = self.sent.get(address, 0)
        if sent >= self.settings.auto_reply_limit:
            return (
                f"{sent} automatic replies to {address} in the last "
                f"{self.settings.auto_reply_window_s} s (limit {self.settings.auto_reply_limit}): "
                "a loop?"
            )
        self.sent[address] = sent + 1
        return None


def answered_by_agent(
    runtime: Runtime, uow: UnitOfWork, message: InboundMessage, inbox_id: int
) -> bool:
    """Whether this email is an agent writing about a ticket (then it is on it, and done).

    The ticket is the one of the notice the mail answers (the notice's random
    Message-ID in In-Reply-To or References), else the one its thread, subject tag
    or plus-address names, whatever headers the agent's client kept. What the agent
    wrote (quotes and signature stripped) reaches the requester only when it answers
    a notice about a customer's message (``router.agent_mail``); anything else is an
    internal note, as is an answer with nothing new. Mail from an agent that names
    no ticket, or that the agent writes as a ticket's requester, is a customer's.
    """
    if not may_be_an_agents_answer(runtime, uow, message):
        return False  # (the common case, without a query per message in a batch)
    sender = message.sender_address.strip().lower()
    agent = uow.agents.by_email(sender)
    if agent is None:
        return False
    own = runtime.own_addresses if runtime.settings.email.plus_addressing else None
    keys = thread_keys(message, runtime.settings.helpdesk.tag_prefix, own)
    notice = uow.messages.notice_to(keys.message_ids, agent.email)
    number = notice[0] if notice else _named_ticket(uow, keys)
    ticket = uow.tickets.get(number, for_update=True) if number else None
    if ticket is not None:
        ticket = follow_merges(uow.tickets, ticket)
    if ticket is None or ticket.requester_address.strip().lower() == sender:
        return False
    if Status(ticket.status) is Status.CLOSED:
        raise PermanentError(
            f"mail from agent {agent.name} about ticket #{ticket.id}, which is closed: "
            "not added (write in a new ticket)"
        )
    written = new_text(message.full_text or message.body_text)
    public = bool(written) and answers_publicly(notice[1] if notice else None)
    post_answer(
        runtime,
        uow,
        ticket,
        agent,
        written or message.full_text or message.body_text or "(empty)",
        internal=not public,
        via=_why(public=public, written=bool(written), notice_kind=notice[1] if notice else None),
        external_id=message.external_id,
        inbox_id=inbox_id,
    )
    uow.inbox.finish(inbox_id, state=RowState.DONE, ticket_id=ticket.id, now=runtime.now())
    return True


def may_be_an_agents_answer(runtime: Runtime, uow: UnitOfWork, message: InboundMessage) -> bool:
    """Whether ``answered_by_agent`` may take the message: a person's mail, from one of
    our agents' addresses, with agents' answers by mail on (no statement)."""
    if message.is_automatic or not runtime.settings.email.agent_replies:
        return False
    return sent_by_an_agent(uow, message.sender_address)


def _named_ticket(uow: UnitOfWork, keys: ThreadKeys) -> int | None:
    """The ticket an agent's mail names without answering a notice: its thread, then the
    subject tag, then the plus-address."""
    return (
        uow.messages.ticket_of_message_ids(keys.message_ids)
        or keys.subject_number
        or keys.plus_number
    )


def _why(*, public: bool, written: bool, notice_kind: str | None) -> str:
    if public:
        return "email"
    if not written:
        return "email, with nothing new: kept as a note, not sent"
    if notice_kind is not None:
        return f"email, answering a {notice_kind} notice: an internal note, not sent"
    return (
        "email naming the ticket by its tag, address or thread, not answering a notice: "
        "an internal note, not sent"
    )


def email_thread(
    runtime: Runtime, uow: UnitOfWork, message: InboundMessage, customer: CustomerRef | None
) -> Ticket | None:
    """The ticket this message answers, locked: by Message-ID, subject tag, plus-address.

    Only email threads this way: a web form always opens a new ticket (its
    sender is not verified, so a subject tag there proves nothing). The subject
    tag and the plus-address count only when the sender takes part in the ticket
    (its requester, someone who wrote on it, or with ``email.cc_participants``
    someone its mail was also sent to or copied to): both are easy to guess.
    """
    own = runtime.own_addresses if runtime.settings.email.plus_addressing else None
    keys = thread_keys(message, runtime.settings.helpdesk.tag_prefix, own)
    found = uow.messages.thread_of(keys.message_ids)
    if isinstance(found, Ticket):  # one an earlier row of the batch writes on: locked, or new
        return found
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


def sent_by_an_agent(uow: UnitOfWork, address: str) -> bool:
    """Whether ``address`` is one of our agents' (every agent's address read once in a
    unit of work, however many messages of a batch ask, and kept in the process until
    it hears of a change: ``UnitOfWork.agent_emails``)."""
    return address.strip().lower() in uow.memo("agent emails", uow.agent_emails)
