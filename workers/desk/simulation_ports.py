"""``connectors.simulation_ports.SimulationDesk`` over ``workers.desk.simulations``."""

from __future__ import annotations

from datetime import date
from typing import Any

from router.simulation_report import report
from store.errors import store_errors
from workers.desk.simulations import candidate_settings, simulate_candidate
from workers.runtime.context import Runtime

REQUEST_TICKETS = 50_000  # the most tickets one request replays (100,000 took a minute)


class SimulationPorts:
    runtime: Runtime

    def simulate(
        self,
        candidate: str,
        *,
        since: str | None,
        first: date | None,
        last: date | None,
        teams: tuple[str, ...],
    ) -> dict[str, Any]:
        proposed = candidate_settings(candidate)
        with store_errors("simulate"):
            result = simulate_candidate(
                self.runtime,
                proposed,
                since=since,
                first=first,
                last=last,
                teams=teams,
                limit=REQUEST_TICKETS,
            )
        return report(result)
