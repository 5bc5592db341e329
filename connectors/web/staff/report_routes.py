"""Reports and exports over HTTP: the figures of a period as JSON, tickets as CSV or JSON Lines.

Supervisors see their teams (``router.report.report_teams``: asking for another
team answers 403), admins every team; agents none (403). The figures and the
file are the command line's (``relaydesk report --format json``, ``relaydesk
export``), from the same use cases.
"""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

import dataclasses
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from connectors.ports import ReportDesk
from connectors.web.staff.gate import AUTH_ERRORS, StaffGate
from connectors.web.staff.query_params import Names, Versions, instant, versions
from router.access import Ability
from router.export_format import ExportFilters
from router.report import OutOfScope, report_teams
from router.report_figures import ReportFilters
from router.report_period import Period
from router.staff_views import Caller
from router.vocabulary import Channel, Priority, Status

MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def _teams(caller: Caller, asked: tuple[str, ...]) -> tuple[str, ...]:
    try:
        return report_teams(asked, role=caller.principal.role, supervised=caller.supervised)
    except OutOfScope as exc:
        raise HTTPException(403, detail=str(exc)) from None


def plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def report_query(gate: StaffGate, desk: ReportDesk) -> Any:
    """The dependency that reads a report's period and filters from the query (the
    report's, the comparison's): 422 for a period or a name that is none, 403 for a team
    the caller may not see."""

    def asked(
        caller: Annotated[Caller, Depends(gate.allowed(Ability.VIEW_REPORTS))],
        since: Annotated[
            str | None, Query(pattern=r"^(today|[0-9]{1,4}d)$", description="today, 7d, 30d ...")
        ] = None,
        first: Annotated[date | None, Query(alias="from", description="The first day.")] = None,
        last: Annotated[date | None, Query(alias="to", description="The last day.")] = None,
        team: Names = [],  # noqa: B006  (FastAPI copies a default)
        channel: Annotated[list[Channel], Query(max_length=10)] = [],  # noqa: B006
        category: Names = [],  # noqa: B006
        priority: Annotated[list[Priority], Query(max_length=10)] = [],  # noqa: B006
        agent: Names = [],  # noqa: B006
        organisation: Names = [],  # noqa: B006
        form: Names = [],  # noqa: B006
        config_version: Versions = [],  # noqa: B006
    ) -> tuple[Period, ReportFilters]:
        filters = ReportFilters(
            team=_teams(caller, tuple(team)),
            channel=tuple(c.value for c in channel),
            category=tuple(category),
            priority=tuple(p.value for p in priority),
            agent=tuple(agent),
            organisation=tuple(organisation),
            form=tuple(form),
            config_version=versions(config_version),
        )
        try:
            period = desk.report_period(since=since, first=first, last=last)
        except ValueError as exc:
            raise HTTPException(422, detail=str(exc)) from None
        return period, filters

    return asked


def report_router(gate: StaffGate, desk: ReportDesk) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["reports"])

    @router.get(
        "/reports",
        summary="The report of a period",
        responses={**AUTH_ERRORS, 200: {"description": "Every figure, as `relaydesk report`"}},
    )
    async def get_report(
        asked: Annotated[tuple[Period, ReportFilters], Depends(report_query(gate, desk))],
    ) -> dict[str, Any]:
        """Volume, backlog, speed, promises, people and the top tens of a period (default:
        the last 7 days), for the teams the caller may see: a supervisor's own (all of them
        unless `team` names some), every team for an admin. The README's "Reports" says
        what each figure means."""
        report = await run_in_threadpool(desk.report, *asked)
        return plain(dataclasses.asdict(report))

    @router.get(
        "/exports/tickets",
        summary="Export tickets",
        response_class=StreamingResponse,
        responses={
            **AUTH_ERRORS,
            200: {
                "description": "CSV or JSON Lines, streamed (`relaydesk export`)",
                "content": {"text/csv": {}, "application/x-ndjson": {}},
            },
        },
    )
    async def export_tickets(
        caller: Annotated[Caller, Depends(gate.allowed(Ability.VIEW_REPORTS))],
        format: Literal["csv", "jsonl"] = "csv",
        messages: bool = False,
        bom: bool = False,
        after: Annotated[int, Query(ge=0, le=2**31 - 1, description="Continue after it.")] = 0,
        status: Annotated[list[Status], Query(max_length=10)] = [],  # noqa: B006
        priority: Annotated[list[Priority], Query(max_length=10)] = [],  # noqa: B006
        team: Names = [],  # noqa: B006
        assignee: Names = [],  # noqa: B006
        channel: Annotated[list[Channel], Query(max_length=10)] = [],  # noqa: B006
        category: Names = [],  # noqa: B006
        tag: Names = [],  # noqa: B006
        organisation: Names = [],  # noqa: B006
        form: Names = [],  # noqa: B006
        config_version: Versions = [],  # noqa: B006
        created_from: datetime | None = None,
        created_to: datetime | None = None,
    ) -> StreamingResponse:
        """Tickets, oldest first, of the teams the caller may see, filtered like the ticket
        list; a stopped download continues with `after` (the last ticket number it got).
        CSV cells that a spreadsheet would run as a formula start with `'`; `bom` starts
        the CSV with a UTF-8 byte order mark (for Excel)."""
        filters = ExportFilters(
            status=tuple(s.value for s in status),
            priority=tuple(p.value for p in priority),
            team=_teams(caller, tuple(team)),
            assignee=tuple(assignee),
            channel=tuple(c.value for c in channel),
            category=tuple(category),
            tag=tuple(tag),
            organisation=tuple(organisation),
            form=tuple(form),
            config_version=versions(config_version),
            created_from=instant(created_from, "created_from"),
            created_to=instant(created_to, "created_to"),
        )
        chunks = desk.export_tickets(filters, fmt=format, messages=messages, after=after, bom=bom)
        return StreamingResponse(
            (chunk.encode("utf-8") for chunk in chunks),
            media_type=MEDIA[format],
            headers={"Content-Disposition": f'attachment; filename="tickets.{format}"'},
        )

    return router
