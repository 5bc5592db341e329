"""Simulations asked through the staff API, run in the background: ``submit_simulation``
checks the request (the candidate, the period, the pilot's teams) and queues a job,
which a worker of the fleet runs (``workers.steps.simulation_jobs``); the job's state,
progress and report are read back from the store.

The request is kept as asked, JSON: ``candidate`` (TOML text), ``since``, ``from``,
``to`` (ISO days), ``teams`` and ``pilot_teams``; the job replays it later through
the same use case as ``relaydesk rules simulate`` (``workers.desk.simulations``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from router.simulation_job import JobView
from router.simulation_report import report
from store.simulation_jobs import SimulationJobs
from workers.desk.reports import report_period
from workers.desk.simulations import (
    Watch,
    candidate_settings,
    check_pilot_teams,
    simulate_candidate,
)
from workers.runtime.context import Runtime
from workers.runtime.simulation_queue import enqueue_simulation

JOB_TICKETS = 2_000_000  # the most tickets one job replays (100,000 take about 20 s)


@dataclass(frozen=True)
class SimulationAsked:
    candidate: str
    since: str | None = None
    first: date | None = None
    last: date | None = None
    teams: Sequence[str] = ()
    pilot_teams: Sequence[str] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate,
            "since": self.since,
            "from": self.first.isoformat() if self.first else None,
            "to": self.last.isoformat() if self.last else None,
            "teams": list(self.teams),
            "pilot_teams": list(self.pilot_teams),
        }

    @classmethod
    def of_json(cls, data: dict[str, Any]) -> SimulationAsked:
        first, last = data.get("from"), data.get("to")
        return cls(
            candidate=data["candidate"],
            since=data.get("since"),
            first=date.fromisoformat(first) if first else None,
            last=date.fromisoformat(last) if last else None,
            teams=tuple(data.get("teams") or ()),
            pilot_teams=tuple(data.get("pilot_teams") or ()),
        )


def submit_simulation(runtime: Runtime, asked: SimulationAsked, *, requested_by: str) -> JobView:
    """Queue ``asked`` for a worker once it is known to be runnable: ``ConfigError`` lists
    every problem of the candidate, ``ValueError`` a period that is not one or a pilot
    team that is not a team of both configurations."""
    proposed = candidate_settings(asked.candidate)
    if asked.since is not None or asked.first is not None or asked.last is not None:
        report_period(runtime, since=asked.since, first=asked.first, last=asked.last)
    if asked.pilot_teams:
        check_pilot_teams(runtime.settings, proposed, asked.pilot_teams)
    with runtime.db.unit_of_work() as uow:
        jobs = SimulationJobs(uow.session)
        job_id = jobs.add(asked.as_json(), requested_by=requested_by, now=runtime.now())
        job = jobs.get(job_id)  # as queued, in the transaction that added it
    enqueue_simulation(runtime, job_id)
    assert job is not None
    return job


def simulation_job(runtime: Runtime, job_id: int) -> JobView | None:
    with runtime.db.unit_of_work() as uow:
        return SimulationJobs(uow.session).get(job_id)


Report = dict[str, Any]


def simulation_result(runtime: Runtime, job_id: int) -> tuple[JobView, Report | None] | None:
    """The job and its report (None until it is done); None: no such job."""
    with runtime.db.unit_of_work() as uow:
        return SimulationJobs(uow.session).with_result(job_id)


def run_asked(runtime: Runtime, asked: SimulationAsked, watch: Watch | None) -> dict[str, Any]:
    """The report of ``relaydesk rules simulate --format json`` for ``asked``."""
    result = simulate_candidate(
        runtime,
        candidate_settings(asked.candidate),
        since=asked.since,
        first=asked.first,
        last=asked.last,
        teams=asked.teams,
        pilot_teams=asked.pilot_teams,
        watch=watch,
        limit=JOB_TICKETS,
    )
    return report(result)
