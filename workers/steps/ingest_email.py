"""What ingest does for email only: parse, take agents' answers, act on bounces, limit loops."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from connectors.email.normalize import parse_inbound
from connectors.email.quoting import new_text
from router.envelopes import BounceReport, InboundMessage
from router.errors import PermanentError
from router.thread_keys import thread_keys
from router.vocabulary import Channel, RowState, Status
from store.customers import normalise_address
from store.db import UnitOfWork
from workers.desk.replies import post_answer
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
        actor="system:ingest",
        action="outbox.bounced",
        detail=f"{item.kind} to {item.recipient} bounced: {reason}",
        now=now,
        data={"outbox_id": item.id, "status": bounce.status},
    )
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
    """Whether this email is an agent answering a ticket (then it is sent on, and done).

    An agent answers by replying to a notification we sent to that agent: the
    mail comes from the agent's address AND refers to the Message-ID of that
    notification (random, so a stranger forging the From cannot guess it; a
    subject tag or plus-address alone never makes mail an agent's answer). What
    the agent wrote, quotes and signature stripped, goes to the requester; a
    reply with nothing new is kept as an internal note and sends nothing.
    """
    if message.is_automatic or not runtime.settings.email.agent_replies:
        return False
    sender = message.sender_address.strip().lower()
    if sender not in uow.memo("agent emails", uow.agents.emails):
        return False  # (the common case, without a query per message in a batch)
    agent = uow.agents.by_email(sender)
    if agent is None:
        return False
    keys = thread_keys(message, runtime.settings.helpdesk.tag_prefix)
    number = uow.messages.ticket_notified_to(keys.message_ids, agent.email)
    ticket = uow.tickets.get(number, for_update=True) if number else None
    if ticket is None or Status(ticket.status) is Status.CLOSED:
        return False
    written = new_text(message.full_text or message.body_text)
    post_answer(
        runtime,
        uow,
        ticket,
        agent,
        written or message.full_text or message.body_text or "(empty)",
        internal=not written,
        via="email" if written else "email, with nothing new: kept as a note, not sent",
        external_id=message.external_id,
        inbox_id=inbox_id,
    )
    uow.inbox.finish(inbox_id, state=RowState.DONE, ticket_id=ticket.id, now=runtime.now())
    return True
