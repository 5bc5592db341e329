"""An outbox row as a message is queued, and many written in one statement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from router.envelopes import OutboundMessage
from router.vocabulary import OutboxKind, RowState
from store.dialect import insert_ignoring_conflict, insert_many_ignoring_conflict
from store.models import OutboxItem


@dataclass(frozen=True)
class Queued:
    """A message to queue and what its row says besides (``OutboxRepository.add``)."""

    message: OutboundMessage
    kind: OutboxKind
    ticket_id: int | None
    dedupe_key: str | None = None
    agent_id: int | None = None
    sequence_key: str | None = None
    confirm_chat_id: str | None = None


def insert(
    session: Session, queued: Sequence[Queued], *, now: datetime, redrive_after: timedelta
) -> list[int | None]:
    """The rows of ``queued``: their ids in the order given, None for each queued before
    (a row with its dedupe key or its Message-ID exists, or an earlier one of ``queued``
    has it).

    On PostgreSQL one multi-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING``, its rows
    matched back by their Message-IDs (unique in the table, so a row it returns is the one
    of that Message-ID); a statement a row on SQLite (which cannot return a statement's
    ids in order) or when two of ``queued`` share a Message-ID."""
    rows = [_row(q, now, redrive_after) for q in queued]
    message_ids = [row["message_id"] for row in rows]
    together = len(rows) > 1 and len(set(message_ids)) == len(rows)
    if not together or session.get_bind().dialect.name != "postgresql":
        return [insert_ignoring_conflict(session, OutboxItem, row) for row in rows]
    found: dict[str, int] = dict(
        insert_many_ignoring_conflict(session, OutboxItem, rows, ("message_id", "id"))
    )
    return [found.get(message_id) for message_id in message_ids]


def _row(queued: Queued, now: datetime, redrive_after: timedelta) -> dict[str, Any]:
    message = queued.message
    return {
        "channel": message.channel.value,
        "kind": OutboxKind(queued.kind).value,  # a closed set: a typo fails here
        "automatic": message.automatic,
        "recipient": message.recipient,
        "payload": message.to_payload(),
        "message_id": message.message_id,
        "dedupe_key": queued.dedupe_key,
        "ticket_id": queued.ticket_id,
        "agent_id": queued.agent_id,
        "state": RowState.PENDING.value,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
        "available_at": now + redrive_after,
        "sequence_key": queued.sequence_key,
        "confirm_chat_id": queued.confirm_chat_id,
    }
