"""The running fleet: each process's heartbeat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, JSONType, UTCDateTime


class ProcessBeat(Base):
    """A running process (worker, scheduler, connector, web, serve), beating every few
    seconds; one whose beat stopped is dead, and what it held may be taken."""

    __tablename__ = "process_beats"

    holder: Mapped[str] = mapped_column(String(96), primary_key=True)  # host:pid:nonce
    kind: Mapped[str] = mapped_column(String(16))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    queues: Mapped[str] = mapped_column(Text, default="")  # comma-separated
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # a connector process's connectors: name -> last success, last error, sessions open
    health: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
