"""The reports dashboard: ``GET /desk/reports``, the API's ``GET /api/v1/reports`` as a page.

Supervisors see their teams, admins every team (``router.report.report_teams``, as the
API); the filters are a GET form, so a dashboard is a link. The three charts are SVG
drawn on the server (``connectors.web.report_charts``), shown as images whose numbers
are a click away (a ``<details>`` table under each); the export links carry the same
filters to ``/api/v1/exports/tickets``.
"""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

import base64
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from connectors.ports import ReportDesk
from connectors.web.report_charts import report_charts
from connectors.web.staff.query_params import Words, checked, versions
from connectors.web.workspace.door import PREFIX, PageDoor
from connectors.web.workspace.pages import HEADERS, Pages
from router.access import Ability
from router.catalogs import N_
from router.report import OutOfScope, report_teams
from router.report_comparison import Comparison, NoSides
from router.report_figures import ReportFilters
from router.report_period import Period
from router.staff_views import Caller
from router.vocabulary import Channel, Priority, Role

#: The charts are ``data:`` images (one report read per page); nothing else changes.
CSP = {
    "Content-Security-Policy": HEADERS["Content-Security-Policy"].replace(
        "img-src 'self'", "img-src 'self' data:"
    )
}

DAY = r"^(|[0-9]{4}-[0-9]{2}-[0-9]{2})$"
VERSIONS = r"^(|[0-9a-f]{1,16})$"  # a configuration version, or empty: "any"
SINCE = ("today", "7d", "30d", "90d", "365d")
TOP_TITLES = (
    ("category", N_("Most frequent categories")),
    ("tag", N_("Most frequent tags")),
    ("form", N_("Most used forms")),
    ("organisation", N_("Organisations with the most tickets")),
    ("requester", N_("Requesters with the most tickets")),
)


def export_query(period: Period, filters: ReportFilters, fmt: str) -> str:
    """The export's query for the dashboard's filters: tickets created in the period."""
    zone = ZoneInfo(period.timezone)
    start = datetime.combine(period.first, time(), zone).astimezone(UTC)
    end = datetime.combine(period.last + timedelta(days=1), time(), zone).astimezone(UTC)
    pairs: list[tuple[str, str]] = [("format", fmt)]
    pairs += [("team", t) for t in filters.team]
    pairs += [("channel", c) for c in filters.channel]
    pairs += [("category", c) for c in filters.category]
    pairs += [("priority", p) for p in filters.priority]
    pairs += [("assignee", a) for a in filters.agent]
    pairs += [("organisation", o) for o in filters.organisation]
    pairs += [("form", f) for f in filters.form]
    pairs += [("config_version", v) for v in filters.config_version]
    pairs += [("created_from", start.isoformat()), ("created_to", end.isoformat())]
    return urlencode(pairs)


def _compared(
    desk: ReportDesk, period: Period, filters: ReportFilters, first: str, second: str
) -> Comparison | None:
    """The two versions side by side, ``None`` when there is nothing to compare."""
    try:
        return desk.compare_versions(period, filters, first=first or None, second=second or None)
    except NoSides:
        return None


def report_page_router(pages: Pages, door: PageDoor, desk: ReportDesk) -> APIRouter:
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    @router.get("/reports", name="workspace_reports", response_class=HTMLResponse)
    async def reports(
        request: Request,
        caller: Annotated[Caller, Depends(door.caller)],
        since: Annotated[str, Query(pattern=r"^(|today|[0-9]{1,4}d)$")] = "",
        first: Annotated[str, Query(alias="from", pattern=DAY)] = "",
        last: Annotated[str, Query(alias="to", pattern=DAY)] = "",
        team: Words = [],  # noqa: B006  (FastAPI copies a default)
        channel: Words = [],  # noqa: B006
        category: Words = [],  # noqa: B006
        priority: Words = [],  # noqa: B006
        agent: Words = [],  # noqa: B006
        organisation: Words = [],  # noqa: B006
        form: Words = [],  # noqa: B006
        config_version: Words = [],  # noqa: B006
        compare: bool = False,
        first_version: Annotated[str, Query(alias="first", pattern=VERSIONS)] = "",
        second_version: Annotated[str, Query(alias="second", pattern=VERSIONS)] = "",
    ) -> HTMLResponse:
        """A form's empty fields are "any": they are left out, not refused. ``compare``:
        two versions side by side under the filters (``first`` and ``second``; the last
        pilot's candidate and the rest for those left empty)."""
        door.allowed(caller, Ability.VIEW_REPORTS)
        team, channel, category, priority, agent, organisation, form, version = (
            [v for v in values if v]
            for values in (
                team,
                channel,
                category,
                priority,
                agent,
                organisation,
                form,
                config_version,
            )
        )
        try:
            teams = report_teams(
                checked(team, "team"), role=caller.principal.role, supervised=caller.supervised
            )
            filters = ReportFilters(
                team=teams,
                channel=tuple(Channel(c).value for c in channel),
                category=checked(category, "category"),
                priority=tuple(Priority(p).value for p in priority),
                agent=checked(agent, "agent"),
                organisation=checked(organisation, "organisation"),
                form=checked(form, "form"),
                config_version=versions(version),
            )
        except OutOfScope as exc:
            raise HTTPException(403, detail=str(exc)) from None
        except ValueError as exc:
            raise HTTPException(422, detail=str(exc)) from None
        if not (since or first or last):
            since = "30d"
        try:
            period = desk.report_period(
                since=since or None,
                first=date.fromisoformat(first) if first else None,
                last=date.fromisoformat(last) if last else None,
            )
        except ValueError as exc:
            raise HTTPException(422, detail=str(exc)) from None
        report = await run_in_threadpool(desk.report, period, filters)
        listed = await run_in_threadpool(desk.report_versions)
        compared = None
        if compare:
            compared = await run_in_threadpool(
                _compared, desk, period, filters, first_version, second_version
            )
        texts = pages.texts(request, caller)
        charts = [
            (chart, "data:image/svg+xml;base64," + base64.b64encode(chart.svg()).decode("ascii"))
            for chart in report_charts(report, texts)
        ]
        return await pages.page(
            request,
            "reports.html",
            caller,
            headers=CSP,
            report=report,
            charts=charts,
            asked={
                "since": since,
                "from": first,
                "to": last,
                "team": team,
                "channel": channel,
                "category": category,
                "priority": priority,
                "agent": agent,
                "organisation": organisation,
                "form": form,
                "config_version": version,
                "first": first_version,
                "second": second_version,
                "compare": compare,
            },
            versions=listed,
            compared=compared,
            periods=SINCE,
            sampled_load=[p for p in report.load_over_time if p.load_share is not None],
            top_titles=[(key, texts.gettext(title)) for key, title in TOP_TITLES],
            teams=pages.team_names if caller.principal.role is Role.ADMIN else caller.supervised,
            channels=[c.value for c in Channel],
            priorities=[p.value for p in Priority],
            csv_query=export_query(period, filters, "csv"),
            jsonl_query=export_query(period, filters, "jsonl"),
        )

    return router
