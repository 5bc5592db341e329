"""The weekly report by mail: when a team's is due, which week it covers, what it says.

A team's ``weekly_report`` names a weekday (0 Monday ... 6 Sunday), an hour and a time
zone. At that local moment the report of the seven local days before it is due, and
stays due for a day (a scheduler that was down longer skips that week rather than send
it late). Its dedupe key names the team, the day it was due and the supervisor: sent
once however many schedulers ask. Pure: ``now`` is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from router.catalogs import Texts
from router.report import Report

LATE = timedelta(days=1)  # past this, a missed week is skipped


@dataclass(frozen=True)
class DueWeek:
    due_on: date  # the local day the report was due
    first: date  # the week reported: first .. last, local days
    last: date


def due_week(now: datetime, *, weekday: int, hour: int, timezone: str) -> DueWeek | None:
    """The week whose report is due at ``now``, or None."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    moment = datetime.combine(day, time(hour), zone)
    if moment > local:
        day -= timedelta(days=7)
        moment = datetime.combine(day, time(hour), zone)
    if now - moment >= LATE:
        return None
    return DueWeek(due_on=day, first=day - timedelta(days=7), last=day - timedelta(days=1))


def dedupe_key(team: str, week: DueWeek, supervisor: str) -> str:
    return f"weekly_report:{team}:{week.due_on.isoformat()}:{supervisor}"


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else str(round(seconds / 60))


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.0f}%"


def weekly_text(
    texts: Texts, *, team: str, desk_name: str, week: Report, before: Report
) -> tuple[str, str]:
    """The mail's subject and body: the week's key figures against the week before."""
    _ = texts.gettext
    subject = _(
        "%(desk)s weekly report, %(team)s: %(first)s to %(last)s",
        desk=desk_name,
        team=team,
        first=week.period.first.isoformat(),
        last=week.period.last.isoformat(),
    )
    rows = (
        (_("Tickets created"), week.volume.total.created, week.volume.total.previous_created),
        (_("Tickets resolved"), week.volume.total.resolved, week.volume.total.previous_resolved),
        (_("Open at the end"), week.backlog.total, "-"),
        (
            _("First response, median minutes"),
            _minutes(week.speed.first_response_wall.median_s),
            _minutes(before.speed.first_response_wall.median_s),
        ),
        (
            _("Resolution, median minutes"),
            _minutes(week.speed.resolution_wall.median_s),
            _minutes(before.speed.resolution_wall.median_s),
        ),
        (
            _("SLA attainment"),
            _percent(week.promises.total.attainment),
            _percent(before.promises.total.attainment),
        ),
    )
    lines = [
        _("The week of team %(team)s against the week before:", team=team),
        "",
        *(
            _("%(figure)s: %(now)s (week before: %(before)s)", figure=f, now=n, before=b)
            for f, n, b in rows
        ),
        "",
        _("Attached: the charts of the week and the CSV of its tickets."),
    ]
    return subject, "\n".join(lines)
