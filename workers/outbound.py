"""Queue outbound messages (acknowledgements, notices) in the same transaction as their cause."""

from __future__ import annotations

import uuid

from router.envelopes import OutboundMessage
from router.notifications import Rendered
from router.threading import plus_address
from router.vocabulary import Channel
from store.db import UnitOfWork
from workers.runtime import Runtime


def new_message_id(runtime: Runtime) -> str:
    domain = runtime.settings.helpdesk.address.rpartition("@")[2] or "relaydesk.localhost"
    return f"<relaydesk.{uuid.uuid4().hex}@{domain}>"


def queue_email(
    runtime: Runtime,
    uow: UnitOfWork,
    *,
    kind: str,
    ticket_id: int | None,
    recipient: str,
    recipient_name: str,
    rendered: Rendered,
    dedupe_key: str | None,
    automatic: bool,
    in_reply_to: str | None = None,
    references: tuple[str, ...] = (),
    message_id: str | None = None,
) -> int | None:
    """Write one outbox row and enqueue its delivery once the transaction commits.

    With plus-addressing on, replies go to ``support+<ticket>@...``: they find
    their ticket even when a mail client drops the threading headers.
    """
    helpdesk = runtime.settings.helpdesk.address
    reply_to = None
    if ticket_id is not None and runtime.settings.email.plus_addressing:
        reply_to = plus_address(helpdesk, ticket_id)
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
        notification=not automatic and kind != "reply",  # only a reply is a person's mail
        reply_to=reply_to,
    )
    outbox_id = uow.outbox.add(
        message,
        kind=kind,
        ticket_id=ticket_id,
        now=runtime.now(),
        redrive_after=runtime.redrive_after,
        dedupe_key=dedupe_key,
    )
    if outbox_id is not None:
        uow.audit.record(
            ticket_id=ticket_id,
            actor="system",
            action="outbox.queued",
            detail=f"{kind} to {recipient} by email",
            now=runtime.now(),
            data={"outbox_id": outbox_id, "message_id": message.message_id},
        )
        uow.after_commit(lambda: runtime.enqueue_delivery(outbox_id, Channel.EMAIL))
    return outbox_id
