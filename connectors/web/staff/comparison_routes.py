"""Configuration versions in the reports over HTTP: the versions a report may be narrowed
to (``GET /api/v1/reports/versions``), and two of them side by side over a period
(``GET /api/v1/reports/comparison``): by default the last pilot's candidate against the
version the other teams kept. Supervisors see their teams, admins every team, as for
the report (``report_routes.report_query``).
"""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from connectors.ports import ReportDesk
from connectors.web.staff.gate import AUTH_ERRORS, StaffGate
from connectors.web.staff.query_params import VERSION
from connectors.web.staff.report_routes import plain, report_query
from router.access import Ability
from router.report_comparison import NoSides
from router.report_figures import ReportFilters
from router.report_period import Period
from router.staff_views import Caller

Version = Annotated[
    str | None,
    Query(pattern=VERSION, description="A configuration version (default: the last pilot's)."),
]


def comparison_router(gate: StaffGate, desk: ReportDesk) -> APIRouter:
    router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

    @router.get(
        "/versions",
        summary="The configuration versions of the reports",
        responses={**AUTH_ERRORS, 200: {"description": "Newest first, and the last pilot"}},
    )
    async def get_versions(
        caller: Annotated[Caller, Depends(gate.allowed(Ability.VIEW_REPORTS))],
    ) -> dict[str, Any]:
        """The versions a report may be narrowed to (`config_version`), newest first: when
        each was last applied and by whom, the teams it was piloted on, whether it is in
        force now; and the last pilot (its candidate, the version the rest kept)."""
        found = await run_in_threadpool(desk.report_versions)
        return plain(dataclasses.asdict(found))

    @router.get(
        "/comparison",
        summary="Two configuration versions side by side",
        responses={
            **AUTH_ERRORS,
            200: {"description": "The key figures of each version's tickets"},
            422: {"description": "Nothing to compare: no version named and no pilot ran"},
        },
    )
    async def get_comparison(
        asked: Annotated[tuple[Period, ReportFilters], Depends(report_query(gate, desk))],
        first: Version = None,
        second: Version = None,
    ) -> dict[str, Any]:
        """Over the period, for the tickets of `first` and of `second` (the version that
        classified each: a pilot's candidate for its teams' tickets) with the report's
        other filters: tickets created and resolved, first response and resolution
        (median and 90th percentile, business and wall time), SLA attainment, transfers
        and reassignments, reopen rate and satisfaction. Without versions: the last
        pilot's candidate against the version the other teams kept. The README's
        "Reports" says what each figure means."""
        period, filters = asked
        try:
            compared = await run_in_threadpool(
                lambda: desk.compare_versions(period, filters, first=first, second=second)
            )
        except NoSides as exc:
            raise HTTPException(422, detail=str(exc)) from None
        return plain(dataclasses.asdict(compared))

    return router
