"""Simulations run in the background for the staff API: the request, the progress and the
report (``workers/steps/simulation_jobs.py`` runs them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, JSONType, UTCDateTime


class SimulationJob(Base):
    """One simulation asked for: queued, running, done (its report kept) or failed (why)."""

    __tablename__ = "simulation_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)  # router.vocabulary.JobState
    requested_by: Mapped[str] = mapped_column(String(320))
    # the candidate's TOML, the period and the teams, as asked
    request: Mapped[dict[str, Any]] = mapped_column(JSONType)
    tickets_total: Mapped[int | None] = mapped_column()
    tickets_done: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)  # runs started (a lost worker's: again)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # last sign of life: sent to the queue, or the running worker's beat
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
