"""What became of a delivery that did not go through: a failed attempt, a bounced mail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from router.vocabulary import RowState
from store.models import OutboxItem


def failed_attempt(
    session: Session,
    outbox_id: int,
    *,
    error: str,
    permanent: bool,
    max_attempts: int,
    now: datetime,
    retry_after: timedelta,
    progress: str | None = None,
    token: str | None = None,
) -> RowState:
    """Back to pending for a retry, or failed when permanent or out of attempts (see
    ``OutboxRepository.mark_failed_attempt``)."""
    item = session.get(OutboxItem, outbox_id, with_for_update=True)
    if item is None:
        return RowState.FAILED
    if item.state not in (RowState.SENDING.value, RowState.PENDING.value):
        return RowState(item.state)
    if token is not None and item.lease_token != token:
        return RowState(item.state)  # another attempt holds it now: its outcome counts
    if progress:
        item.external_id = progress[:255]
    item.error = error[:4000]
    item.updated_at = now
    if permanent or item.attempts >= max_attempts:
        item.state = RowState.FAILED.value
    else:
        item.state = RowState.PENDING.value
        item.available_at = now + retry_after
    return RowState(item.state)


def bounced(
    session: Session, message_id: str, *, reason: str, now: datetime, only_for: Sequence[str] = ()
) -> OutboxItem | None:
    """Fail the sent row of ``message_id``: its mail bounced (``OutboxRepository.mark_bounced``)."""
    item = session.scalars(
        select(OutboxItem)
        .where(OutboxItem.message_id == message_id, OutboxItem.state == RowState.DONE.value)
        .with_for_update()
    ).first()
    if item is None:
        return None
    if only_for and item.recipient.lower() not in {a.lower() for a in only_for}:
        return None
    item.state = RowState.FAILED.value
    item.error = f"bounced: {reason}"[:4000]
    item.updated_at = now
    return item
