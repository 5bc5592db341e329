"""What the staff API needs to simulate a candidate configuration (the admins' tool): a
job run in the background, its state and progress, its report."""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from router.simulation_job import JobView


class SimulationDesk(Protocol):
    """A candidate configuration tried on past tickets (the caller is an admin: checked)."""

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
        """A job queued for the workers. ``ConfigError`` lists every problem of the
        candidate (TOML text); ``ValueError``: no such period, or a pilot team that is not
        a team of both configurations."""
        ...

    def simulation_job(self, job_id: int) -> JobView | None: ...

    def simulation_result(self, job_id: int) -> tuple[JobView, dict[str, Any] | None] | None:
        """The job and its report (``relaydesk rules simulate --format json``), None until
        it is done; None: no such job."""
        ...
