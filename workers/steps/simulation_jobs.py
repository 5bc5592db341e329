"""Run a simulation job on a worker, and re-drive those whose message or worker was lost.

``run_simulation_job`` claims the job (one worker runs it), replays its request through
the same use case as ``relaydesk rules simulate`` while a beat thread writes how many
tickets are done (and that the worker lives) every few seconds, then keeps the report,
or the reason it failed: a candidate or a period that no longer holds (another day,
another configuration), more tickets than a job replays, the time limit, or an
internal error (named, logged with its trace).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator

from dramatiq.threading import Interrupt

from config.loader import ConfigError
from router.rule_simulation import Arrival
from store.simulation_jobs import SimulationJobs
from workers.desk.simulation_jobs import SimulationAsked, run_asked
from workers.runtime.context import Runtime
from workers.runtime.simulation_queue import enqueue_simulation, held_jobs

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # runs started before a job whose worker keeps dying fails


class _Progress:
    """Tickets replayed so far, counted by the replaying thread, read by the beat."""

    def __init__(self) -> None:
        self.done = 0
        self.total: int | None = None

    def watch(self, arrivals: Iterator[Arrival], total: int) -> Iterable[Arrival]:
        self.total = total
        for arrival in arrivals:
            yield arrival
            self.done += 1


def beat_every(runtime: Runtime) -> float:
    """A running job beats four times within the time after which it counts as lost."""
    return min(runtime.settings.scheduler.heartbeat_s, runtime.redrive_after.total_seconds() / 4)


def run_simulation_job(runtime: Runtime, job_id: int) -> None:
    with runtime.db.unit_of_work() as uow:
        request = SimulationJobs(uow.session).claim(
            job_id, now=runtime.now(), stale=runtime.redrive_after, max_attempts=MAX_ATTEMPTS
        )
    if request is None:
        return  # another worker runs it, or it is finished
    progress = _Progress()
    stop = threading.Event()
    beat = threading.Thread(
        target=_beat, args=(runtime, job_id, progress, stop), name=f"simulation-{job_id}"
    )
    beat.start()
    try:
        result = run_asked(runtime, SimulationAsked.of_json(request), progress.watch)
    except ConfigError as exc:
        _fail(
            runtime,
            job_id,
            "the candidate is not valid: "
            + "; ".join(f"{where}: {message}" for where, message in exc.problems),
        )
    except ValueError as exc:
        _fail(runtime, job_id, str(exc))
    except Interrupt as exc:  # the time limit, or the worker shutting down hard
        _fail(runtime, job_id, f"stopped: {type(exc).__name__}")
        raise
    except Exception as exc:
        log.exception("simulation job %s failed", job_id)
        _fail(runtime, job_id, f"internal error: {type(exc).__name__}")
    else:
        with runtime.db.unit_of_work() as uow:
            SimulationJobs(uow.session).finish(
                job_id, result, done=progress.done, now=runtime.now()
            )
    finally:
        stop.set()
        beat.join()


def _beat(runtime: Runtime, job_id: int, progress: _Progress, stop: threading.Event) -> None:
    every = beat_every(runtime)
    while not stop.wait(every):
        try:
            with runtime.db.unit_of_work() as uow:
                SimulationJobs(uow.session).beat(
                    job_id, done=progress.done, total=progress.total, now=runtime.now()
                )
        except Exception:  # the next beat tries again; a job without beats is re-driven
            log.warning("simulation job %s: could not record its progress", job_id)


def _fail(runtime: Runtime, job_id: int, reason: str) -> None:
    with runtime.db.unit_of_work() as uow:
        SimulationJobs(uow.session).fail(job_id, reason, now=runtime.now())


def redrive_simulations(runtime: Runtime, *, limit: int) -> int:
    """Send again the jobs silent for ``redrive_after`` (queued with their message lost,
    or running on a worker that was lost); fail those that used every attempt. A queued
    job whose message the broker still holds waits for it (a worker busy with a long
    job): it is not sent twice. The broker is read outside the transactions, and only
    when a queued job has been quiet that long."""
    now, stale = runtime.now(), runtime.redrive_after
    with runtime.db.unit_of_work() as uow:
        quiet = SimulationJobs(uow.session).queued_quiet(now=now, stale=stale, limit=limit)
    held = held_jobs(runtime) if quiet else set()
    with runtime.db.unit_of_work() as uow:
        jobs = SimulationJobs(uow.session)
        jobs.still_held(sorted(held.intersection(quiet)), now=now)
        ids = jobs.due_for_redrive(now=now, stale=stale, max_attempts=MAX_ATTEMPTS, limit=limit)
    for job_id in ids:
        enqueue_simulation(runtime, job_id)
    return len(ids)
