"""Hand simulation jobs to their actor (``workers.runtime.simulation_actor`` declares it)."""

from __future__ import annotations

import logging

from workers.runtime.context import Runtime

log = logging.getLogger(__name__)

ACTOR = "simulate_config"


def enqueue_simulation(runtime: Runtime, job_id: int) -> None:
    """Send the job to the actor (after the commit that wrote it); one that cannot be sent
    is the scheduler's to re-drive."""
    try:
        runtime.broker.get_actor(ACTOR).send(job_id)
    except Exception:
        log.warning("could not enqueue simulation job %s; the scheduler will", job_id)
