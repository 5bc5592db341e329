"""Two configuration versions side by side over a period, and the versions to choose from.

One entry point for the staff API and the dashboard (``router.report_comparison`` says
what each figure is). Each side is counted from the raw rows of its version's tickets
(no rollup keeps versions), with the report's other filters (the caller's teams among
them), in one snapshot.
"""

from __future__ import annotations

from dataclasses import replace

from router.report_comparison import (
    Comparison,
    NoSides,
    PilotSides,
    ReportVersions,
    VersionFigures,
    pilot_sides,
    version_figures,
)
from router.report_figures import ReportFilters
from router.report_period import Period
from router.vocabulary import ConfigAction
from store.config_versions import ConfigVersions, CurrentConfig
from store.report_queries import ReportQueries, prepare_report_transaction, ticket_conditions
from store.report_versions import VersionQueries
from workers.runtime.context import Runtime


def _last_pilot(versions: ConfigVersions, now: CurrentConfig | None) -> PilotSides | None:
    """The last pilot started, and whether it runs ``now`` (the change in force)."""
    started = versions.last(ConfigAction.PILOT)
    if started is None or started.pilot is None:
        return None
    running = now is not None and now.pilot == started.pilot
    return PilotSides(started.pilot.version, started.version, started.pilot.teams, running)


def report_versions(runtime: Runtime) -> ReportVersions:
    """The versions a report may be narrowed to, and the last pilot."""
    with runtime.db.unit_of_work() as uow:
        versions = ConfigVersions(uow.session)
        now = versions.current()
        choices = VersionQueries(uow.session).choices(now)
        return ReportVersions(tuple(choices), _last_pilot(versions, now))


def _side(
    raw: ReportQueries, found: VersionQueries, period: Period, filters: ReportFilters, version: str
) -> VersionFigures:
    mine = replace(filters, config_version=(version,))
    where = ticket_conditions(mine)
    clocks, _ = raw.clock_counts(period, mine)
    return version_figures(
        version,
        days=raw.day_counts(period, mine),
        speed_facts=raw.speed_facts(period, mine),
        clocks=clocks,
        moves=found.moves(period, where),
        ratings=found.ratings(period, where),
    )


def compare_versions(
    runtime: Runtime,
    period: Period,
    filters: ReportFilters,
    *,
    first: str | None = None,
    second: str | None = None,
) -> Comparison:
    """``first`` beside ``second`` over ``period`` for the tickets ``filters`` let through
    (a version filter among them is replaced by each side's); the last pilot's candidate
    and rest for a side not named. ``NoSides`` when a side is missing."""
    with runtime.db.unit_of_work() as uow:
        if runtime.db.dialect == "postgresql":
            prepare_report_transaction(uow.session)
        versions = ConfigVersions(uow.session)
        pilot = _last_pilot(versions, versions.current())
        sides = pilot_sides((first, second), pilot)
        if sides is None:
            raise NoSides("name two versions to compare: no pilot has run")
        raw, found = ReportQueries(uow.session), VersionQueries(uow.session)
        figures = [_side(raw, found, period, filters, v) for v in sides]
    return Comparison(period, figures[0], figures[1], pilot)
