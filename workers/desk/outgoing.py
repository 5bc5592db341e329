"""Queue outbound messages (acknowledgements, notices) in the same transaction as their cause."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from connectors.telegram.chat_text import html_to_plain
from router.envelopes import AttachmentRef, OutboundMessage
from router.notice_texts import Rendered
from router.thread_keys import plus_address
from router.vocabulary import AuditAction, Channel, ChatAction, OutboxKind, SystemActor
from store.db import UnitOfWork
from store.outbox_rows import Queued
from workers.runtime.context import Runtime


def new_message_id(runtime: Runtime) -> str:
    domain = runtime.settings.helpdesk.address.rpartition("@")[2] or "relaydesk.localhost"
    return f"<relaydesk.{uuid.uuid4().hex}@{domain}>"


def queue_email(
    runtime: Runtime,
    uow: UnitOfWork,
    *,
    kind: OutboxKind,
    ticket_id: int | None,
    recipient: str,
    recipient_name: str,
    rendered: Rendered,
    dedupe_key: str | None,
    automatic: bool,
    in_reply_to: str | None = None,
    references: tuple[str, ...] = (),
    message_id: str | None = None,
    agent_id: int | None = None,
    from_address: str | None = None,
    confirm_chat_id: str | None = None,
    attachments: tuple[AttachmentRef, ...] = (),
    gather: Gathered | None = None,
    at_once: bool = False,
) -> int | None:
    """Write one outbox row and enqueue its delivery once the transaction commits;
    ``attachments``: kept files attached to the mail; ``gather``: a batch's, which writes
    it at its flush (then None here), or now with ``at_once`` (``Gathered.now``: its id
    for a caller who needs it, after every row gathered before it).

    ``from_address``: the address of ours the requester wrote to (the ticket's
    ``reply_address``); None: the helpdesk's. With plus-addressing on, replies go to
    ``support+<ticket>@...`` of that address: they find their ticket even when a
    mail client drops the threading headers.
    """
    ours = from_address or runtime.settings.helpdesk.address
    reply_to = None
    if ticket_id is not None and runtime.settings.email.plus_addressing:
        reply_to = plus_address(ours, ticket_id)
    message = OutboundMessage(
        channel=Channel.EMAIL,
        recipient=recipient,
        recipient_name=recipient_name,
        subject=rendered.subject,
        body_text=rendered.body_text,
        body_html=rendered.body_html,
        message_id=message_id or new_message_id(runtime),
        in_reply_to=in_reply_to,
        references=references,
        automatic=automatic,
        notification=not automatic and kind != OutboxKind.REPLY,  # only a reply is a person's mail
        reply_to=reply_to,
        from_address=from_address,
        attachments=attachments,
        language=rendered.language,
    )
    queued = Queued(
        message,
        kind=kind,
        ticket_id=ticket_id,
        dedupe_key=dedupe_key,
        agent_id=agent_id,
        confirm_chat_id=confirm_chat_id,
    )
    return _queue(runtime, uow, queued, gather, at_once)


def queue_chat(
    runtime: Runtime,
    uow: UnitOfWork,
    *,
    kind: OutboxKind,
    ticket_id: int | None,
    chat_id: str,
    html: str,
    text: str,
    buttons: tuple[tuple[dict[str, str], ...], ...] = (),
    dedupe_key: str | None,
    automatic: bool = False,
    agent_id: int | None = None,
    action: ChatAction = ChatAction.SEND,
    target_id: str | None = None,
    recipient_name: str = "",
    subject: str = "",
    message_id: str | None = None,
    confirm_chat_id: str | None = None,
    attachments: tuple[AttachmentRef, ...] = (),
    gather: Gathered | None = None,
    at_once: bool = False,
) -> int | None:
    """Queue one Telegram message (or an edit, or a callback answer, or a document: one of
    ``attachments``, ``html`` its caption) like an email.

    ``html`` is what the chat shows; ``text`` its plain form, which the sender
    splits and sends instead when the html is too long for one message. A chat's
    messages and edits leave one at a time in the order they were queued (a
    callback's answer, which shows as a toast, goes at once). ``gather`` and
    ``at_once``: as for ``queue_email``.
    """
    message = OutboundMessage(
        channel=Channel.TELEGRAM,
        recipient=chat_id,
        recipient_name=recipient_name,
        subject=subject,
        body_text=text or html_to_plain(html),
        body_html=html,
        message_id=message_id or f"tg.{uuid.uuid4().hex}",
        automatic=automatic,
        notification=agent_id is not None,
        buttons=buttons,
        chat_action=action,
        target_id=target_id,
        attachments=attachments,
    )
    queued = Queued(
        message,
        kind=kind,
        ticket_id=ticket_id,
        dedupe_key=dedupe_key,
        agent_id=agent_id,
        sequence_key=None if action == ChatAction.ANSWER_CALLBACK else f"tg:{chat_id}",
        confirm_chat_id=confirm_chat_id,
    )
    return _queue(runtime, uow, queued, gather, at_once)


def queue_message(
    runtime: Runtime,
    uow: UnitOfWork,
    message: OutboundMessage,
    *,
    kind: OutboxKind,
    ticket_id: int | None,
    dedupe: str | None,
    agent_id: int | None,
    sequence_key: str | None = None,
    confirm_chat_id: str | None = None,
) -> int | None:
    """Write the row, its audit event, and its delivery once the transaction commits (any
    channel's message: ``queue_email`` and ``queue_chat`` build theirs; a plugged-in
    channel's adapter builds its own). The row's id; None: queued before (its dedupe key).

    ``confirm_chat_id``: a reply's author answered from this chat and is told there
    once it is delivered, or that it could not be."""
    queued = Queued(
        message,
        kind=kind,
        ticket_id=ticket_id,
        dedupe_key=dedupe,
        agent_id=agent_id,
        sequence_key=sequence_key,
        confirm_chat_id=confirm_chat_id,
    )
    return queue_messages(runtime, uow, [queued])[0]


def queue_messages(runtime: Runtime, uow: UnitOfWork, queued: Sequence[Queued]) -> list[int | None]:
    """``queue_message`` for many: their rows in one statement (on PostgreSQL), ids in
    the order given, None for each queued before."""
    gathered = Gathered(runtime, uow)
    for one in queued:
        gathered.add(one)
    return gathered.flush()


class Gathered:
    """Messages a batch queues together (``queue_email`` and ``queue_chat`` given it add
    theirs here and return None): each one's audit event is made as it is added (its time
    and configuration version those of then, as ``queue_message`` makes it); ``flush``
    writes their rows in one statement, then buffers the events of those written, with
    their ids, and their deliveries once the transaction commits. A message queued before
    (its dedupe key) gets neither, as with ``queue_message``."""

    def __init__(self, runtime: Runtime, uow: UnitOfWork) -> None:
        self.runtime = runtime
        self.uow = uow
        self._pending: list[tuple[Queued, dict[str, Any] | None]] = []

    def add(self, queued: Queued) -> None:
        message = queued.message
        event = None
        if message.chat_action != ChatAction.ANSWER_CALLBACK:  # (a button's: the action is)
            event = self.uow.audit.event(
                ticket_id=queued.ticket_id,
                actor=SystemActor.SYSTEM,
                action=AuditAction.OUTBOX_QUEUED,
                detail=f"{queued.kind} to {message.recipient} by {message.channel.value}",
                now=self.runtime.now(),
                data={"outbox_id": None, "message_id": message.message_id},
            )
        self._pending.append((queued, event))

    def flush(self) -> list[int | None]:
        """Write what was added since the last flush: the rows' ids, in the order added."""
        pending, self._pending = self._pending, []
        if not pending:
            return []
        runtime, uow = self.runtime, self.uow
        ids = uow.outbox.add_many(
            [queued for queued, _ in pending],
            now=runtime.now(),
            redrive_after=runtime.redrive_after,
        )
        for (queued, event), outbox_id in zip(pending, ids, strict=True):
            if outbox_id is None:
                continue  # queued before (same dedupe key)
            if event is not None:
                event["data"]["outbox_id"] = outbox_id
                uow.audit.buffer(event)
            uow.after_commit(_delivery(runtime, outbox_id, Channel(queued.message.channel)))
        return ids

    def now(self, queued: Queued) -> int | None:
        """Add ``queued`` and write it now, in one statement with what was gathered before
        it: its id for a caller who needs it at once (a notice whose files follow), and
        the rows in the order they were added, as a chat's messages leave. Never write a
        message of the batch beside its ``Gathered``: it would go before those gathered."""
        self.add(queued)
        return self.flush()[-1]


def _delivery(runtime: Runtime, outbox_id: int, channel: Channel) -> Callable[[], None]:
    return lambda: runtime.enqueue_delivery(outbox_id, channel)


def _queue(
    runtime: Runtime, uow: UnitOfWork, queued: Queued, gather: Gathered | None, at_once: bool
) -> int | None:
    if gather is None:
        return queue_messages(runtime, uow, [queued])[0]
    if at_once:
        return gather.now(queued)
    gather.add(queued)
    return None
