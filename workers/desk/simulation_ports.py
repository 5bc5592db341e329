"""``connectors.simulation_ports.SimulationDesk`` over ``workers.desk.simulation_jobs``."""

from __future__ import annotations

from datetime import date
from typing import Any

from router.simulation_job import JobView
from store.errors import store_errors
from workers.desk import simulation_jobs
from workers.desk.simulation_jobs import SimulationAsked
from workers.runtime.context import Runtime


class SimulationPorts:
    runtime: Runtime

    def submit_simulation(
        self,
        candidate: str,
        *,
        since: str | None,
        first: date | None,
        last: date | None,
        teams: tuple[str, ...],
        pilot_teams: tuple[str, ...],
        requested_by: str,
    ) -> JobView:
        asked = SimulationAsked(candidate, since, first, last, teams, pilot_teams)
        with store_errors("simulate"):
            return simulation_jobs.submit_simulation(self.runtime, asked, requested_by=requested_by)

    def simulation_job(self, job_id: int) -> JobView | None:
        return simulation_jobs.simulation_job(self.runtime, job_id)

    def simulation_result(self, job_id: int) -> tuple[JobView, dict[str, Any] | None] | None:
        return simulation_jobs.simulation_result(self.runtime, job_id)
