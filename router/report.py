"""A report: every figure of a period, and whose teams a person may see it for.

A supervisor sees the reports of the teams they supervise (all of them when they
name none), an admin every team; ``report_teams`` decides, for the staff API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from router.report_figures import (
    Backlog,
    LoadPoint,
    Person,
    Promises,
    ReportFilters,
    Speed,
    Volume,
)
from router.report_period import Period
from router.vocabulary import Role


@dataclass(frozen=True)
class Report:
    period: Period
    previous: Period
    filters: ReportFilters
    made_at: datetime
    volume: Volume
    backlog: Backlog
    speed: Speed
    promises: Promises
    agents: tuple[Person, ...]
    teams: tuple[Person, ...]
    top: Mapping[str, tuple[tuple[str, int], ...]]  # () is "no data"
    volume_from: str  # "rollups" or "tickets"
    load_over_time: tuple[LoadPoint, ...] = ()  # the agents of the report's teams


class OutOfScope(Exception):
    """A report or an export of teams the asker may not see (the API answers 403)."""


def report_teams(
    asked: tuple[str, ...], *, role: Role, supervised: tuple[str, ...]
) -> tuple[str, ...]:
    """The teams a report or an export covers for someone of ``role`` who supervises
    ``supervised``: an admin's are as asked (none: every team); a supervisor's are those
    asked, each theirs, or all theirs; anyone else sees none."""
    if role is Role.ADMIN:
        return asked
    if role is not Role.SUPERVISOR or not supervised:
        raise OutOfScope("reports are for supervisors of a team and for admins")
    foreign = sorted(set(asked) - set(supervised))
    if foreign:
        raise OutOfScope(f"not a team you supervise: {', '.join(foreign)}")
    return asked or supervised
