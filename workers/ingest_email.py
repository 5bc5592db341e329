"""What ingest does for email only: parse the raw bytes, act on bounces, limit auto-replies."""

from __future__ import annotations

from datetime import timedelta

from connectors.email.normalize import parse_inbound
from router.envelopes import BounceReport, InboundMessage
from router.errors import PermanentError
from store.db import UnitOfWork
from workers.runtime import Runtime


def read_email(
    runtime: Runtime, uow: UnitOfWork, inbox_id: int, envelope: InboundMessage
) -> InboundMessage:
    """The whole message behind an envelope the connector committed; attachments kept.

    Raises ``PermanentError`` when the bytes are missing or name no sender: the
    row is then failed with that reason and keeps its bytes for a person to read.
    """
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
    """Fail the outbox row the bounce refers to and flag the address; its ticket, if any."""
    if not bounce.permanent or not bounce.original_message_id:
        return None  # a delay notice changes nothing: the relay is still trying
    now = runtime.now()
    reason = " ".join(p for p in (bounce.status, bounce.diagnostic) if p) or "delivery failed"
    item = uow.outbox.mark_bounced(bounce.original_message_id, reason=reason, now=now)
    if item is None:
        return None  # not a message of ours
    addresses = bounce.recipients or (item.recipient,)
    for address in addresses:
        uow.customers.flag_bounced(address, reason, now)
    uow.audit.record(
        ticket_id=item.ticket_id,
        actor="system:ingest",
        action="outbox.bounced",
        detail=f"{item.kind} to {', '.join(addresses)} bounced: {reason}",
        now=now,
        data={"outbox_id": item.id, "status": bounce.status},
    )
    return item.ticket_id


def auto_reply_refusal(runtime: Runtime, uow: UnitOfWork, address: str) -> str | None:
    """Why no automatic reply may go to ``address`` now, or None when one may."""
    bounced = uow.customers.bounced(address)
    if bounced is not None:
        return f"mail to {address} bounces ({bounced})"
    settings = runtime.settings.email
    since = runtime.now() - timedelta(seconds=settings.auto_reply_window_s)
    sent = uow.outbox.automatic_since(address, since)
    if sent >= settings.auto_reply_limit:
        return (
            f"{sent} automatic replies to {address} in the last "
            f"{settings.auto_reply_window_s} s (limit {settings.auto_reply_limit}): a loop?"
        )
    return None
