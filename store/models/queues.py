"""The inbox and the outbox: durable work rows, the store is the source of truth.

``available_at`` is when the scheduler may next re-drive a row that is still
unfinished; the sweep bumps it atomically, so two schedulers never double up.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, JSONType, UTCDateTime

# the inbox rows no attempt has begun yet (a partial index's condition)
WAITING_ROWS = "state = 'pending' AND attempts = 0"


class InboxItem(Base):
    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("channel", "idempotency_key"),
        Index("ix_inbox_due", "state", "available_at"),
        Index("ix_inbox_sequence", "sequence_key", "state"),
        # the rows an ingest batch may take along (``store.inbox_statements.WAITING``), in
        # id order by channel: without it the pick walked the primary key past every done
        # row (85 ms at 300,000 rows); its condition is written in the pick as literals,
        # so a prepared statement's generic plan can use it too
        Index(
            "ix_inbox_waiting",
            "channel",
            "id",
            postgresql_where=text(WAITING_ROWS),
            sqlite_where=text(WAITING_ROWS),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(512))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)  # the original bytes, when any
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)  # why it failed, or why it is quiet
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # rows with one key (a chat's updates) are ingested one at a time, oldest first
    sequence_key: Mapped[str | None] = mapped_column(String(64))


class OutboxItem(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "available_at"),
        Index("ix_outbox_recipient", "recipient", "created_at"),
        Index("ix_outbox_sequence", "sequence_key", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))  # acknowledgement, assignment, reply, ...
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)  # counts toward loop limits
    recipient: Mapped[str] = mapped_column(String(320))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)  # the rendered OutboundMessage
    message_id: Mapped[str] = mapped_column(String(255), unique=True)  # stable across retries
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    agent_id: Mapped[int | None] = mapped_column(  # the agent a notice is for, on any channel
        ForeignKey("agents.id", ondelete="SET NULL")
    )
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # rows with one key (a chat's messages) are sent one at a time, oldest first
    sequence_key: Mapped[str | None] = mapped_column(String(64))
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the far side asked to wait
    # a reply an agent sent from a chat: told there once it is delivered, or that it was not
    confirm_chat_id: Mapped[str | None] = mapped_column(String(64))
    # the claim that holds a row being sent: its token (new at every claim, checked before
    # the send and when it is recorded) and the process that holds it (a heartbeat's holder)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_holder: Mapped[str | None] = mapped_column(String(96))
