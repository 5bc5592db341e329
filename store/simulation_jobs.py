"""Simulation jobs in the store: asked, claimed by one worker, beating while they run,
finished with their report or failed with their reason, and found again when their
worker or their message was lost (``due_for_redrive``; a queued job whose message the
broker still holds is left to it: ``queued_quiet``, ``still_held``).

A job is claimed with one conditional UPDATE (queued, or running with a beat older than
``stale``), so two workers given the same job never both run it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from router.simulation_job import JobView
from router.vocabulary import JobState
from store.models import SimulationJob

_ALIVE = (JobState.QUEUED.value, JobState.RUNNING.value)
# what a poll shows of a job (``JobView``): every column but the request and the report
_VIEWED = (
    SimulationJob.id,
    SimulationJob.state,
    SimulationJob.requested_by,
    SimulationJob.tickets_total,
    SimulationJob.tickets_done,
    SimulationJob.attempts,
    SimulationJob.error,
    SimulationJob.created_at,
    SimulationJob.started_at,
    SimulationJob.finished_at,
)


class SimulationJobs:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, request: dict[str, Any], *, requested_by: str, now: datetime) -> int:
        job = SimulationJob(
            state=JobState.QUEUED.value,
            requested_by=requested_by,
            request=request,
            tickets_done=0,
            attempts=0,
            created_at=now,
            beat_at=now,
        )
        self.session.add(job)
        self.session.flush()
        return job.id

    def get(self, job_id: int) -> JobView | None:
        """The job as a poll shows it: its columns but the request and the report (up to
        a megabyte each), which a poll does not need."""
        row = self.session.execute(select(*_VIEWED).where(SimulationJob.id == job_id)).first()
        return None if row is None else _view(row)

    def with_result(self, job_id: int) -> tuple[JobView, dict[str, Any] | None] | None:
        """The job as a poll shows it and its report (None until it is done), in one
        statement; the request is not read."""
        row = self.session.execute(
            select(*_VIEWED, SimulationJob.result).where(SimulationJob.id == job_id)
        ).first()
        return None if row is None else (_view(row), row.result)

    def claim(
        self, job_id: int, *, now: datetime, stale: timedelta, max_attempts: int
    ) -> dict[str, Any] | None:
        """The job's request when this worker may run it (queued, or running without a
        beat for ``stale``: its worker was lost), now running; else None."""
        claimed = self.session.execute(
            update(SimulationJob)
            .where(
                SimulationJob.id == job_id,
                SimulationJob.attempts < max_attempts,
                or_(
                    SimulationJob.state == JobState.QUEUED.value,
                    (SimulationJob.state == JobState.RUNNING.value)
                    & (SimulationJob.beat_at < now - stale),
                ),
            )
            .values(
                state=JobState.RUNNING.value,
                attempts=SimulationJob.attempts + 1,
                started_at=now,
                beat_at=now,
                tickets_done=0,
            )
            .returning(SimulationJob.request)
            .execution_options(synchronize_session=False)
        ).first()
        return None if claimed is None else dict(claimed[0])

    def beat(self, job_id: int, *, done: int, total: int | None, now: datetime) -> None:
        """The running job's progress, and a sign its worker lives."""
        self.session.execute(
            update(SimulationJob)
            .where(SimulationJob.id == job_id, SimulationJob.state == JobState.RUNNING.value)
            .values(tickets_done=done, tickets_total=total, beat_at=now)
            .execution_options(synchronize_session=False)
        )

    def finish(self, job_id: int, result: dict[str, Any], *, done: int, now: datetime) -> None:
        self.session.execute(
            update(SimulationJob)
            .where(SimulationJob.id == job_id, SimulationJob.state == JobState.RUNNING.value)
            .values(
                state=JobState.DONE.value,
                result=result,
                tickets_done=done,
                tickets_total=done,
                finished_at=now,
                beat_at=now,
            )
            .execution_options(synchronize_session=False)
        )

    def fail(self, job_id: int, reason: str, *, now: datetime) -> None:
        self.session.execute(
            update(SimulationJob)
            .where(SimulationJob.id == job_id, SimulationJob.state.in_(_ALIVE))
            .values(state=JobState.FAILED.value, error=reason, finished_at=now, beat_at=now)
            .execution_options(synchronize_session=False)
        )

    def queued_quiet(self, *, now: datetime, stale: timedelta, limit: int) -> list[int]:
        """Queued jobs without a sign of life for ``stale``: their message was lost, or
        still waits in the broker behind others."""
        return list(
            self.session.scalars(
                select(SimulationJob.id)
                .where(
                    SimulationJob.state == JobState.QUEUED.value,
                    SimulationJob.beat_at < now - stale,
                )
                .order_by(SimulationJob.id)
                .limit(limit)
            )
        )

    def still_held(self, job_ids: list[int], *, now: datetime) -> None:
        """Queued jobs whose message the broker still holds: not re-driven now, looked at
        again once quiet for another ``stale``."""
        if job_ids:
            self.session.execute(
                update(SimulationJob)
                .where(SimulationJob.id.in_(job_ids), SimulationJob.state == JobState.QUEUED.value)
                .values(beat_at=now)
                .execution_options(synchronize_session=False)
            )

    def due_for_redrive(
        self, *, now: datetime, stale: timedelta, max_attempts: int, limit: int
    ) -> list[int]:
        """Jobs queued or running without a sign of life for ``stale`` (their message or
        their worker was lost), queued again with their beat moved to ``now`` (one
        scheduler sends each); those that used every attempt fail instead."""
        quiet = (SimulationJob.state.in_(_ALIVE)) & (SimulationJob.beat_at < now - stale)
        self.session.execute(
            update(SimulationJob)
            .where(quiet, SimulationJob.attempts >= max_attempts)
            .values(
                state=JobState.FAILED.value,
                error=f"its worker stopped during each of {max_attempts} attempts",
                finished_at=now,
                beat_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        ids = select(SimulationJob.id).where(quiet).order_by(SimulationJob.id).limit(limit)
        rows = self.session.execute(
            update(SimulationJob)
            .where(SimulationJob.id.in_(ids), quiet)
            .values(state=JobState.QUEUED.value, beat_at=now)
            .returning(SimulationJob.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(row[0] for row in rows)

    def make_all_due(self, now: datetime) -> None:
        """Embedded start-up: every job alive belonged to this process's last life."""
        self.session.execute(
            update(SimulationJob)
            .where(SimulationJob.state.in_(_ALIVE))
            .values(beat_at=datetime(2000, 1, 1, tzinfo=now.tzinfo))
            .execution_options(synchronize_session=False)
        )


def _view(job: Any) -> JobView:
    """A job's view from a row of ``_VIEWED``."""
    return JobView(
        id=job.id,
        state=JobState(job.state),
        requested_by=job.requested_by,
        tickets_total=job.tickets_total,
        tickets_done=job.tickets_done,
        attempts=job.attempts,
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )
