"""The report: every figure for a period and filters, read in one snapshot.

One entry point for the command line, the staff API and the dashboard. The
rollups are brought up to date first (``refresh_reports``); the volume is read
from them unless a filter they do not keep is given (agent, organisation,
form), everything else from the raw rows (see ``store.report_queries``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from router.report import Report
from router.report_figures import (
    ReportFilters,
    backlog,
    people,
    promises,
    speed,
    top_ten,
    volume,
)
from router.report_period import Period, period_between, period_named
from store.report_queries import ReportQueries, prepare_report_transaction
from store.report_rollups import ReportRollups
from workers.runtime.context import Runtime
from workers.steps.report_refresh import refresh_reports

TOPS = ("category", "tag", "form", "organisation", "requester")
STEPS = ("volume", "backlog", "speed", "promises", "agents", "teams", *TOPS)
Progress = Callable[[str], None]


def report_period(
    runtime: Runtime,
    *,
    since: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> Period:
    """``--since 7d`` or ``--from``/``--to`` (one alone: up to today, or that day on)."""
    tz = runtime.settings.reports.timezone
    if first is None and last is None:
        return period_named(since or "7d", now=runtime.now(), timezone=tz)
    if since is not None:
        raise ValueError("give a period as --since or as --from/--to, not both")
    today = period_named("today", now=runtime.now(), timezone=tz).first
    return period_between(first or last or today, last or today, timezone=tz)


def make_report(
    runtime: Runtime,
    period: Period,
    filters: ReportFilters | None = None,
    *,
    progress: Progress | None = None,
) -> Report:
    """Every figure of ``period`` for the tickets ``filters`` let through."""
    filters = filters or ReportFilters()
    tell = progress or (lambda step: None)
    refresh_reports(runtime, sample_load=False)
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        if runtime.db.dialect == "postgresql":
            prepare_report_transaction(uow.session)
        raw, rollups = ReportQueries(uow.session), ReportRollups(uow.session)
        previous = period.previous()
        now_rows = rollups.day_counts(period, filters)
        before = rollups.day_counts(previous, filters)
        volume_from = "rollups"
        if now_rows is None or before is None:
            now_rows, before = raw.day_counts(period, filters), raw.day_counts(previous, filters)
            volume_from = "tickets"
        figures_volume = volume(period, now_rows, before)
        tell("volume")
        figures_backlog = backlog(raw.backlog_rows(now, filters))
        tell("backlog")
        figures_speed = speed(raw.speed_facts(period, filters))
        tell("speed")
        figures_promises = promises(*raw.clock_counts(period, filters))
        tell("promises")
        load = raw.load_facts(period)
        agents = people(
            raw.person_facts(period, filters, by="agent"),
            load=load,
            ratings=raw.ratings(period, filters, by="agent"),
        )
        tell("agents")
        teams = people(
            raw.person_facts(period, filters, by="team"),
            ratings=raw.ratings(period, filters, by="team"),
        )
        tell("teams")
        top = {}
        for key in TOPS:
            counts = rollups.created_by_category(period, filters) if key == "category" else None
            if counts is None:
                counts = raw.volume_by(period, filters, key=key)
            top[key] = top_ten(counts)
            tell(key)
    return Report(
        period=period,
        previous=previous,
        filters=filters,
        made_at=now,
        volume=figures_volume,
        backlog=figures_backlog,
        speed=figures_speed,
        promises=figures_promises,
        agents=agents,
        teams=teams,
        top=top,
        volume_from=volume_from,
    )
