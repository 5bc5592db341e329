"""Hand simulation jobs to their actor (``workers.runtime.simulation_actor`` declares it)."""

from __future__ import annotations

import logging

from workers.runtime.context import Runtime
from workers.runtime.queued_messages import held_arguments
from workers.runtime.queues import SIMULATE

log = logging.getLogger(__name__)

ACTOR = "simulate_config"


def enqueue_simulation(runtime: Runtime, job_id: int) -> None:
    """Send the job to the actor (after the commit that wrote it); one that cannot be sent
    is the scheduler's to re-drive."""
    try:
        runtime.broker.get_actor(ACTOR).send(job_id)
    except Exception:
        log.warning("could not enqueue simulation job %s; the scheduler will", job_id)


def held_jobs(runtime: Runtime) -> set[int]:
    """The jobs whose message the broker holds (waiting, or taken and not finished); none
    known where the broker cannot say (RabbitMQ): each quiet job is then sent again, and
    its claim drops the copies."""
    try:
        held = held_arguments(runtime.broker, SIMULATE, ACTOR)
    except Exception:  # the broker is down: as if it held nothing (the sends fail too)
        log.warning("could not read the simulation queue; quiet jobs are sent again")
        return set()
    return {args[0] for args in held or () if args and isinstance(args[0], int)}
