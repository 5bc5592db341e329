"""A simulation run in the background, as the staff API shows it (``store.simulation_jobs``
keeps it, ``workers.steps.simulation_jobs`` runs it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from router.vocabulary import JobState


@dataclass(frozen=True)
class JobView:
    id: int
    state: JobState
    requested_by: str
    tickets_total: int | None  # known once the job has counted the period's tickets
    tickets_done: int
    attempts: int  # runs started (a lost worker's job runs again)
    error: str | None  # why it failed
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
