"""The reports narrowed to a configuration version, and a pilot beside the rest, on a desk
where billing ran a pilot (``tests.support.pilot_week``): figures against values
computed by hand; the summing queries with a version filter against the definitions
applied ticket by ticket; the rollups step aside for a version filter (the figures
equal the raw rows'). On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from router.export_format import ExportFilters
from router.report_comparison import NoSides
from router.report_facts import clock_counts, day_counts, person_facts, speed_facts, volume_by
from router.report_figures import ReportFilters
from router.report_period import Period
from router.report_versions import Moves, ticket_moves
from store.report_bins import ReportBins
from store.report_queries import ReportQueries, ticket_conditions
from store.report_records import clock_records, ticket_records
from store.report_rollups import ReportRollups
from store.report_tallies import ReportTallies
from store.report_versions import VersionQueries
from tests.support.pilot_week import PilotWeek, pilot_week
from tests.support.report_week import WEEK, H
from workers.desk.export import Export
from workers.desk.report_comparison import compare_versions, report_versions
from workers.desk.reports import make_report
from workers.steps.report_refresh import refresh_reports

pytestmark = pytest.mark.integration


@pytest.fixture
def week(database_url: str, tmp_path: Path) -> Iterator[PilotWeek]:
    yield from pilot_week(database_url, tmp_path)


def _close(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _close(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {k: _close(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_close(v) for v in value]
    return value


def test_each_ticket_counts_for_the_version_that_classified_it(week: PilotWeek) -> None:
    with week.desk.runtime.db.unit_of_work() as uow:
        records = {r.id: r.config_version for r in ticket_records(uow.session, ReportFilters())}
    assert records == {1: week.version, 2: week.candidate, 3: week.candidate, 4: week.version}


def test_a_version_filter_narrows_every_figure_of_the_report(week: PilotWeek) -> None:
    runtime = week.desk.runtime
    pilot = make_report(runtime, WEEK, ReportFilters(config_version=(week.candidate,)))
    rest = make_report(runtime, WEEK, ReportFilters(config_version=(week.version,)))
    both = make_report(runtime, WEEK, ReportFilters(config_version=(week.version, week.candidate)))
    assert pilot.volume_from == "tickets"  # no rollup keeps versions
    assert (pilot.volume.total.created, pilot.volume.total.resolved) == (2, 2)
    assert (rest.volume.total.created, both.volume.total.created) == (2, 4)
    assert {t.name for t in pilot.teams} == {"billing"}
    assert {t.name for t in rest.teams} == {"support"}
    assert (pilot.promises.total.met, pilot.promises.total.breached) == (2, 2)
    assert (rest.promises.total.met, rest.promises.total.breached) == (4, 0)
    assert pilot.speed.reopen_rate == 0.5 and rest.speed.reopen_rate == 0.0
    assert pilot.top["requester"] == (("Kim", 1), ("Lee", 1))
    nobody = make_report(runtime, WEEK, ReportFilters(config_version=("0" * 12,)))
    assert nobody.volume.total.created == 0 and nobody.promises.total.attainment is None


def test_the_pilot_beside_the_rest_is_what_was_counted_by_hand(week: PilotWeek) -> None:
    compared = compare_versions(week.desk.runtime, WEEK, ReportFilters())
    assert compared.pilot is not None and compared.pilot.teams == ("billing",)
    assert compared.pilot.running
    pilot, rest = compared.first, compared.second
    assert (pilot.version, rest.version) == (week.candidate, week.version)
    assert (pilot.created, pilot.resolved, rest.created, rest.resolved) == (2, 2, 2, 2)
    frb = pilot.first_response_business
    assert (frb.count, frb.median_s, frb.p90_s) == (2, 1.5 * H, 3 * H)
    rb = pilot.resolution_business
    assert (rb.median_s, rb.p90_s) == (3 * H, 6 * H)  # #2: 2 h, then 1 h after its reopening
    assert (pilot.resolution_wall.median_s, pilot.resolution_wall.p90_s) == (22 * H, 48 * H)
    assert (rest.first_response_business.median_s, rest.first_response_business.p90_s) == (
        0.5 * H,
        H,
    )
    assert (rest.resolution_business.median_s, rest.resolution_business.p90_s) == (2 * H, 3 * H)
    assert (pilot.sla.met, pilot.sla.breached, pilot.sla.attainment) == (2, 2, 0.5)
    assert (rest.sla.met, rest.sla.breached, rest.sla.attainment) == (4, 0, 1.0)
    assert (pilot.transfers, pilot.reassignments, pilot.moved_share) == (1, 0, 0.5)
    assert (rest.transfers, rest.reassignments, rest.moved_share) == (0, 1, 0.5)
    assert (pilot.reopen_rate, rest.reopen_rate) == (0.5, 0.0)
    assert (pilot.ratings, pilot.satisfaction, rest.ratings, rest.satisfaction) == (2, 0.5, 2, 1.0)


def test_named_versions_are_compared_in_the_order_asked_and_within_the_teams_given(
    week: PilotWeek,
) -> None:
    runtime = week.desk.runtime
    swapped = compare_versions(
        runtime, WEEK, ReportFilters(), first=week.version, second=week.candidate
    )
    assert (swapped.first.version, swapped.first.created) == (week.version, 2)
    billing = compare_versions(runtime, WEEK, ReportFilters(team=("billing",)))
    assert (billing.first.created, billing.second.created) == (2, 0)
    assert billing.second.satisfaction is None and billing.second.moved_share is None
    listed = report_versions(runtime)
    assert [(c.version, c.pilot_teams, c.current) for c in listed.choices] == [
        (week.candidate, ("billing",), True),
        (week.version, (), True),
    ]
    assert listed.choices[0].applied_by == "lead"


def test_nothing_to_compare_without_a_pilot_or_named_versions(database_url: str) -> None:
    from tests.conftest import make_settings
    from tests.support.desk import desk_for

    for desk in desk_for(make_settings(database_url)):
        with pytest.raises(NoSides):
            compare_versions(desk.runtime, WEEK, ReportFilters())
        assert report_versions(desk.runtime).pilot is None


VERSION_PERIODS = (WEEK, Period(WEEK.first, WEEK.first, "America/Los_Angeles"))


@pytest.mark.parametrize("period", VERSION_PERIODS, ids=lambda p: f"{p.first}-{p.timezone}")
def test_the_summing_queries_with_a_version_count_what_the_definitions_count(
    week: PilotWeek, period: Period
) -> None:
    from sqlalchemy import select

    from store.models import AuditEvent

    with week.desk.runtime.db.unit_of_work() as uow:
        raw, found = ReportQueries(uow.session), VersionQueries(uow.session)
        every = list(ticket_records(uow.session, ReportFilters()))
        events: dict[int, list[str]] = {}
        for ticket, action in uow.session.execute(
            select(AuditEvent.ticket_id, AuditEvent.action)
            .where(AuditEvent.ticket_id.is_not(None))
            .order_by(AuditEvent.id)
        ):
            events.setdefault(ticket or 0, []).append(action)
        for versions in ((week.candidate,), (week.version,), (week.version, week.candidate)):
            for filters in (
                ReportFilters(config_version=versions),
                ReportFilters(config_version=versions, team=("billing",)),
            ):
                others = dataclasses.replace(filters, config_version=())
                records = [
                    r for r in ticket_records(uow.session, others) if r.config_version in versions
                ]
                clocks = list(clock_records(uow.session, filters))
                assert raw.clock_counts(period, filters) == clock_counts(clocks, period)
                assert raw.day_counts(period, filters) == day_counts(records, period)
                assert _close(raw.speed_facts(period, filters)) == _close(
                    speed_facts(records, period)
                )
                for by in ("agent", "team"):
                    handled = raw.handled(period, filters, by=by)
                    assert _close(raw.person_facts(period, filters, by=by)) == _close(
                        person_facts(records, period, by=by, handled=handled)
                    )
                for key in ("category", "tag", "organisation", "requester", "form"):
                    assert raw.volume_by(period, filters, key=key) == volume_by(
                        records, period, key=key
                    )
                created = [r.id for r in records if period.start <= r.created_at < period.end]
                moves = sum((ticket_moves(events.get(n, [])) for n in created), Moves())
                assert found.moves(period, ticket_conditions(filters)) == moves
        assert {r.id for r in every} == {1, 2, 3, 4}


def test_the_rollups_step_aside_for_a_version_and_the_figures_equal_the_raw_rows(
    week: PilotWeek,
) -> None:
    runtime = week.desk.runtime
    refresh_reports(runtime)
    filters = ReportFilters(config_version=(week.candidate,), team=("billing",))
    with runtime.db.unit_of_work() as uow:
        assert ReportRollups(uow.session).day_counts(WEEK, filters) is None
        assert ReportRollups(uow.session).created_by_category(WEEK, filters) is None
        assert ReportBins(uow.session).speed_facts(WEEK, filters) is None
        assert ReportBins(uow.session).person_facts(WEEK, filters, by="team") is None
        tallies = ReportTallies(uow.session)
        assert tallies.clock_counts(WEEK, filters) is None
        assert tallies.ratings(WEEK, filters, by="agent") is None
        assert tallies.volume_by(WEEK, filters, key="tag") is None
        raw = ReportQueries(uow.session)
        expected_speed = raw.speed_facts(WEEK, filters)
        expected_clocks = raw.clock_counts(WEEK, filters)
    report = make_report(runtime, WEEK, filters)
    assert report.speed.resolved == expected_speed.resolved == 2
    assert report.promises.total.breached == sum(c.breached for c in expected_clocks[0]) == 2
    # the same tickets without the version come from the rollups, and agree
    team_only = make_report(runtime, WEEK, ReportFilters(team=("billing",)))
    assert team_only.volume_from == "rollups"
    assert _close(team_only.speed) == _close(report.speed)
    assert _close(team_only.promises) == _close(report.promises)


def test_the_export_keeps_the_tickets_of_a_version(week: PilotWeek) -> None:
    import json

    runtime = week.desk.runtime
    for versions, numbers in (
        ((week.candidate,), [2, 3]),
        ((week.version,), [1, 4]),
        (("0" * 12,), []),
    ):
        export = Export(runtime, ExportFilters(config_version=versions), fmt="jsonl")
        rows = [json.loads(line) for line in "".join(export).splitlines() if line.strip()]
        assert [r["number"] for r in rows] == numbers


def test_the_command_line_narrows_the_report_and_the_export_to_a_version(
    week: PilotWeek, tmp_path: Path
) -> None:
    import json

    from click.testing import CliRunner

    from workers.cli.main import main

    config = str(tmp_path / "relaydesk.toml")
    week_days = ["--from", "2026-11-23", "--to", "2026-11-25"]
    runner = CliRunner()
    shown = runner.invoke(
        main,
        [
            "--config",
            config,
            "report",
            *week_days,
            "--config-version",
            week.candidate,
            "--format",
            "json",
        ],
    )
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.output)
    assert report["filters"]["config_version"] == [week.candidate]
    assert report["volume"]["total"]["created"] == 2
    table = runner.invoke(
        main, ["--config", config, "report", *week_days, "--config-version", week.version]
    )
    assert table.exit_code == 0 and f"config_version {week.version}" in table.output
    out = tmp_path / "tickets.jsonl"
    export = ["export", "--format", "jsonl", "--config-version", week.version, "-o", str(out)]
    exported = runner.invoke(main, ["--config", config, *export])
    assert exported.exit_code == 0, exported.output
    assert [json.loads(line)["number"] for line in out.read_text().splitlines()] == [1, 4]
