"""Two configuration versions side by side over one period: a pilot against the rest.

Each side is the report's own figures for the tickets of one version
(``router.report_versions``: the version that classified them), with the report's
other filters: the same definitions as the whole report (``router.report_facts``),
summed for one version at a time.

- **volume**: tickets created and resolved in the period;
- **first response** and **resolution**: median and 90th percentile, in business time
  (as the SLA clocks count) and in wall time;
- **SLA attainment**: the clocks started in the period met, against met and breached;
- **transfers** and **reassignments** of the tickets created in the period, and the
  share of them moved at least once;
- **reopen rate** of the tickets resolved in the period;
- **satisfaction**: good ratings against all ratings given in the period.

When no versions are named, the sides are the last pilot's: its candidate (on its
teams) against the version every other team kept (``pilot_sides``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from router.errors import RelaydeskError
from router.report_facts import ClockCount, DayCount, SpeedFacts
from router.report_figures import Attainment, promises, speed
from router.report_period import Period
from router.report_stats import Summary, share
from router.report_versions import Moves


@dataclass(frozen=True)
class VersionFigures:
    version: str
    created: int
    resolved: int
    first_response_business: Summary
    first_response_wall: Summary
    resolution_business: Summary
    resolution_wall: Summary
    sla: Attainment
    transfers: int
    reassignments: int
    moved_share: float | None  # tickets created in the period moved at least once
    reopen_rate: float | None
    ratings: int
    satisfaction: float | None


@dataclass(frozen=True)
class PilotSides:
    """The last pilot: ``candidate`` decided for ``teams``, ``rest`` for the others."""

    candidate: str
    rest: str
    teams: tuple[str, ...]
    running: bool


@dataclass(frozen=True)
class VersionChoice:
    """A version a report may be narrowed to: when it was last applied and by whom, the
    teams it was piloted on (``()``: applied to every team)."""

    version: str
    applied_at: datetime
    applied_by: str
    pilot_teams: tuple[str, ...]
    current: bool  # the desk's version now, or the pilot running now


@dataclass(frozen=True)
class ReportVersions:
    choices: tuple[VersionChoice, ...]  # newest first
    pilot: PilotSides | None  # the last pilot


class NoSides(RelaydeskError):
    """Nothing to compare: no version named and no pilot ever ran (the API answers 422)."""


@dataclass(frozen=True)
class Comparison:
    period: Period
    first: VersionFigures
    second: VersionFigures
    pilot: PilotSides | None  # the last pilot, when there was one


def version_figures(
    version: str,
    *,
    days: Iterable[DayCount],
    speed_facts: SpeedFacts,
    clocks: Iterable[ClockCount],
    moves: Moves,
    ratings: tuple[int, int],
) -> VersionFigures:
    """One side from the facts the store counted for the tickets of ``version``."""
    counted = list(days)
    created = sum(d.created for d in counted)
    figures = speed(speed_facts)
    good, bad = ratings
    return VersionFigures(
        version=version,
        created=created,
        resolved=sum(d.resolved for d in counted),
        first_response_business=figures.first_response_business,
        first_response_wall=figures.first_response_wall,
        resolution_business=figures.resolution_business,
        resolution_wall=figures.resolution_wall,
        sla=promises(clocks, {}).total,
        transfers=moves.transfers,
        reassignments=moves.reassignments,
        moved_share=share(moves.moved, created),
        reopen_rate=figures.reopen_rate,
        ratings=good + bad,
        satisfaction=share(good, good + bad),
    )


def pilot_sides(
    asked: tuple[str | None, str | None], pilot: PilotSides | None
) -> tuple[str, str] | None:
    """The two versions to compare: those asked, the last pilot's for those not asked
    (its candidate first, the rest second); ``None`` when one is missing."""
    first, second = asked
    first = first or (pilot.candidate if pilot else None)
    second = second or (pilot.rest if pilot else None)
    return (first, second) if first and second else None
