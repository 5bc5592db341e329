"""The report: every figure for a period and filters, read in one snapshot.

One entry point for the command line, the staff API and the dashboard. The
rollups are brought up to date first (``refresh_reports``); the volume is read
from them unless a filter they do not keep is given (agent, organisation,
form), speed and people from the bins (``store.report_bins``) unless a filter
other than team is given, the top tags, forms and organisations, the ratings and the
promises from the tallies (``store.report_tallies``) unless a filter other than team
(and priority, for the promises) is given; the backlog, the top requesters (ranked
in the database), and everything a filter keeps from the rollups, from the raw rows (see
``store.report_queries``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from router.report import Report
from router.report_facts import PersonFacts
from router.report_figures import (
    ReportFilters,
    backlog,
    load_over_time,
    people,
    promises,
    speed,
    top_ten,
    volume,
)
from router.report_period import Period, period_between, period_named
from store.report_bins import ReportBins
from store.report_load import load_days, load_facts
from store.report_queries import ReportQueries, prepare_report_transaction
from store.report_rollups import ReportRollups
from store.report_tallies import ReportTallies
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


def _or_raw(
    rolled: list[PersonFacts] | None,
    raw: ReportQueries,
    period: Period,
    filters: ReportFilters,
    by: str,
) -> list[PersonFacts]:
    return raw.person_facts(period, filters, by=by) if rolled is None else rolled


def _rated(
    tallies: ReportTallies, raw: ReportQueries, period: Period, filters: ReportFilters, by: str
) -> dict[str, tuple[int, int]]:
    rolled = tallies.ratings(period, filters, by=by)
    return raw.ratings(period, filters, by=by) if rolled is None else rolled


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
        bins, tallies = ReportBins(uow.session), ReportTallies(uow.session)
        speed_facts = bins.speed_facts(period, filters)
        figures_speed = speed(
            raw.speed_facts(period, filters) if speed_facts is None else speed_facts
        )
        tell("speed")
        clocks = tallies.clock_counts(period, filters)
        figures_promises = promises(
            *(raw.clock_counts(period, filters) if clocks is None else clocks)
        )
        tell("promises")
        load = load_facts(uow.session, period)
        load_points = load_over_time(period, load_days(uow.session, period, filters))
        agents = people(
            _or_raw(bins.person_facts(period, filters, by="agent"), raw, period, filters, "agent"),
            load=load,
            ratings=_rated(tallies, raw, period, filters, "agent"),
        )
        tell("agents")
        teams = people(
            _or_raw(bins.person_facts(period, filters, by="team"), raw, period, filters, "team"),
            ratings=_rated(tallies, raw, period, filters, "team"),
        )
        tell("teams")
        top = {}
        for key in TOPS:
            if key == "requester":  # ranked in the database (a year: 200,000 of them)
                top[key] = raw.top_requesters(period, filters)
                tell(key)
                continue
            if key == "category":
                counts = rollups.created_by_category(period, filters)
            else:
                counts = tallies.volume_by(period, filters, key=key)
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
        load_over_time=load_points,
    )
