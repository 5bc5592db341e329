"""Mail each team's weekly report to its supervisors (a scheduled step).

For every team with a ``weekly_report`` whose week is due (router.weekly_report), each
supervisor (the team's ``supervisor``, and agents with the supervisor role in the team)
gets, in their language, the week's key figures against the week before, the three
charts of the dashboard as SVG files and the CSV of the week's tickets, through the
outbox. The dedupe key (team, day due, supervisor) makes it once with any number of
schedulers; the files are kept by content, so a second scheduler only rewrites them.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from config.settings import AgentSettings, TeamSettings
from connectors.web.report_charts import report_charts
from connectors.web.templating import CATALOG as CHART_TEXTS
from router.envelopes import AttachmentRef
from router.export_format import ExportFilters
from router.language_choice import language_of
from router.notice_texts import CATALOG, Rendered
from router.report_figures import ReportFilters
from router.report_period import Period
from router.vocabulary import OutboxKind
from router.weekly_report import DueWeek, dedupe_key, due_week, weekly_text
from workers.desk.export import Export
from workers.desk.outgoing import queue_email
from workers.desk.reports import make_report
from workers.runtime.context import Runtime

KIND = OutboxKind.WEEKLY_REPORT


def supervisors(team: TeamSettings, agents: tuple[AgentSettings, ...]) -> list[AgentSettings]:
    named = {a.name: a for a in agents}
    found = [named[team.supervisor]] if team.supervisor in named else []
    found += [a for a in agents if a.role == "supervisor" and team.name in a.teams]
    return list({a.name: a for a in found}.values())


def send_weekly_reports(runtime: Runtime) -> int:
    """Queue the weekly reports that are due; how many mails were queued (not before)."""
    settings = runtime.settings
    now = runtime.now()
    queued = 0
    for team in settings.teams:
        plan = team.weekly_report
        if plan is None:
            continue
        week = due_week(now, weekday=plan.weekday, hour=plan.hour, timezone=plan.timezone)
        people = supervisors(team, settings.agents)
        if week is None or not people:
            continue
        with runtime.db.unit_of_work() as uow:
            sent = uow.outbox.keyed([dedupe_key(team.name, week, p.name) for p in people])
        people = [p for p in people if dedupe_key(team.name, week, p.name) not in sent]
        if not people:
            continue  # the figures are not counted again every minute of the day
        queued += _send(runtime, team.name, week, plan.timezone, people)
    return queued


def _send(
    runtime: Runtime, team: str, week: DueWeek, zone: str, people: list[AgentSettings]
) -> int:
    settings = runtime.settings
    filters = ReportFilters(team=(team,))
    period = Period(week.first, week.last, zone)
    report = make_report(runtime, period, filters)
    before = make_report(runtime, period.previous(), filters)
    start = datetime.combine(week.first, time(), ZoneInfo(zone)).astimezone(UTC)
    tickets = "".join(
        Export(
            runtime,
            ExportFilters(team=(team,), created_from=start, created_to=start + timedelta(7)),
            bom=True,
        )
    ).encode("utf-8")
    queued = 0
    with runtime.db.unit_of_work() as uow:
        for person in people:
            language = language_of(person.language or settings.helpdesk.language) or "en"
            files = [
                (f"{chart.name}.svg", "image/svg+xml", chart.svg())
                for chart in report_charts(report, CHART_TEXTS.texts(language))
            ]
            files.append((f"tickets-{team}-{week.first.isoformat()}.csv", "text/csv", tickets))
            attachments = tuple(
                AttachmentRef(
                    filename=name, content_type=kind, size=len(data), sha256=runtime.files.put(data)
                )
                for name, kind, data in files
            )
            subject, body = weekly_text(
                CATALOG.texts(language),
                team=team,
                desk_name=settings.helpdesk.name,
                week=report,
                before=before,
            )
            row = queue_email(
                runtime,
                uow,
                kind=KIND,
                ticket_id=None,
                recipient=person.email,
                recipient_name=person.display_name or person.name,
                rendered=Rendered(subject=subject, body_text=body, language=language),
                dedupe_key=dedupe_key(team, week, person.name),
                automatic=True,
                attachments=attachments,
            )
            queued += row is not None
    return queued
