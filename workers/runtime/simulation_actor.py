"""The simulation actor on its own queue, ``simulate`` (``simulation_queue`` sends to it).

A thin adapter: the job row keeps the request, the attempts and the progress, so the
actor itself never retries; a message lost, or a worker lost while it ran, is the
scheduler's to re-drive (``store.simulation_jobs.due_for_redrive``).
"""

from __future__ import annotations

import dramatiq

from workers.runtime.context import Runtime
from workers.runtime.queues import SIMULATE
from workers.runtime.simulation_queue import ACTOR
from workers.steps.simulation_jobs import run_simulation_job

TIME_LIMIT_MS = 2 * 3600 * 1000  # a job of a few million tickets, on a busy worker


def declare_simulation_actor(runtime: Runtime) -> None:
    def simulate(job_id: int) -> None:
        run_simulation_job(runtime, job_id)

    declare = dramatiq.actor(
        actor_name=ACTOR,
        queue_name=SIMULATE,
        broker=runtime.broker,
        max_retries=0,
        time_limit=TIME_LIMIT_MS,
    )
    declare(simulate)
