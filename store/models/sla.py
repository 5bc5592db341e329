"""SLA timers: one row per ticket and clock, with its stored deadlines (indexed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, JSONType, UTCDateTime


class SlaTimer(Base):
    """A ticket's first-response, next-response or resolution clock.

    ``warn_at`` and ``due_at`` are computed when the clock changes (a reply, a
    status change), never by the sweep: the sweep only reads what is due, so
    its cost follows the number due, not the number open.
    """

    __tablename__ = "sla_timers"
    __table_args__ = (
        UniqueConstraint("ticket_id", "kind"),
        Index("ix_sla_timers_warn", "warn_at"),
        Index("ix_sla_timers_due", "due_at"),
        Index("ix_sla_timers_escalation", "next_escalation_at"),
        Index("ix_sla_timers_started", "started_at"),  # the reports: clocks of a period
        # the breached clocks still running (few): a ticket list's "breached", per row
        Index(
            "ix_sla_timers_running_breach",
            "ticket_id",
            postgresql_where=text("breached_at IS NOT NULL AND stopped_at IS NULL"),
            sqlite_where=text("breached_at IS NOT NULL AND stopped_at IS NULL"),
        ),
        # the clocks breached and warned since a moment (the fleet's status and metrics:
        # the last hour's, at every scrape); without them a seq scan of every clock
        Index(
            "ix_sla_timers_breached",
            "breached_at",
            postgresql_where=text("breached_at IS NOT NULL"),
            sqlite_where=text("breached_at IS NOT NULL"),
        ),
        Index(
            "ix_sla_timers_warned",
            "warned_at",
            postgresql_where=text("warned_at IS NOT NULL"),
            sqlite_where=text("warned_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    policy: Mapped[str] = mapped_column(String(64))
    calendar: Mapped[str] = mapped_column(String(64))
    target_s: Mapped[float | None] = mapped_column(Float)  # None: recorded, never due
    warn_share: Mapped[float] = mapped_column(Float)
    consumed_s: Mapped[float] = mapped_column(Float, default=0.0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)  # the ticket waits on the customer
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None once warned or stopped
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None once breached or stopped
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation_step: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the escalation chain as planned at the breach: [[at, recipient, role], ...]
    escalation_plan: Mapped[list[list[str]] | None] = mapped_column(JSONType)
    # the scheduler handed the due step to a worker at this time (cleared when fired)
    handed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
