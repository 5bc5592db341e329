"""Satisfaction ratings: what a requester said of the help with one resolution."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, UTCDateTime


class Rating(Base):
    """One per resolution of a ticket (``resolution``: how many times it had been reopened
    before it), changeable for a while; the agent and team are those who resolved it.
    The reports read ``ticket_id``, ``agent_id``, ``team_id``, ``good``, ``created_at``."""

    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("ticket_id", "resolution", name="uq_ratings_resolution"),
        Index("ix_ratings_updated", "updated_at"),  # the ratings changed since a refresh
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    resolution: Mapped[int] = mapped_column(Integer)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    good: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text, default="")
    via: Mapped[str] = mapped_column(String(16))  # page, email (its link), telegram
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
