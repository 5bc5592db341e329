"""What the staff API needs to simulate a candidate configuration (the admins' tool)."""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol


class SimulationDesk(Protocol):
    """A candidate configuration tried on past tickets (the caller is an admin: checked)."""

    def simulate(
        self,
        candidate: str,
        *,
        since: str | None,
        first: date | None,
        last: date | None,
        teams: tuple[str, ...],
    ) -> dict[str, Any]:
        """The report of ``relaydesk rules simulate --format json``. ``ConfigError`` lists
        every problem of the candidate (TOML text); ``ValueError``: no such period, or
        more tickets than a request replays."""
        ...
