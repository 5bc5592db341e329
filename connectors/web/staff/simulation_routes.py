"""A candidate configuration simulated on past tickets, for admins:
``POST /api/v1/admin/simulations`` answers what ``relaydesk rules simulate --format json``
prints (classification, routing and SLA), from the same use case. Nothing is written.
"""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from config.loader import ConfigError
from connectors.simulation_ports import SimulationDesk
from connectors.web.schemas import ValidationProblems
from connectors.web.staff.gate import AUTH_ERRORS, BODY_ERRORS, StaffGate
from connectors.web.staff.query_params import WORD
from router.access import Ability
from router.staff_views import Caller

CANDIDATE_CHARS = 1_000_000


class SimulationRequest(BaseModel):
    """The candidate configuration (a whole relaydesk TOML file, as text) and the period."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    candidate: str = Field(max_length=CANDIDATE_CHARS, description="The candidate's TOML.")
    since: str | None = Field(
        None, pattern=r"^(today|[0-9]{1,4}d)$", description="today, 7d, 30d ... (default 30d)"
    )
    first: date | None = Field(None, alias="from", description="The first day.")
    last: date | None = Field(None, alias="to", description="The last day (included).")
    teams: list[Annotated[str, Field(pattern=WORD)]] = Field(
        default_factory=list, max_length=50, description="Only the tickets of these teams now."
    )


def _refused(error: ConfigError) -> JSONResponse:
    """Every problem of the candidate, one per entry, where it is in the candidate."""
    problems = [
        {
            "type": "config",
            "loc": ["body", "candidate", *where.split(".")],
            "field": f"candidate.{where}" if where != "candidate" else "candidate",
            "msg": message,
        }
        for where, message in error.problems
    ]
    return JSONResponse({"detail": problems}, status_code=422)


def simulation_router(gate: StaffGate, desk: SimulationDesk) -> APIRouter:
    router = APIRouter(prefix="/api/v1/admin", tags=["simulations"])

    @router.post(
        "/simulations",
        summary="Simulate a candidate configuration",
        responses={
            **BODY_ERRORS,
            **AUTH_ERRORS,
            200: {"description": "What would change, as `relaydesk rules simulate --format json`"},
            422: {
                "model": ValidationProblems,
                "description": "An invalid candidate (every problem listed) or period, or "
                "more tickets than one request replays.",
            },
        },
    )
    async def simulate(
        body: SimulationRequest,
        caller: Annotated[Caller, Depends(gate.allowed(Ability.SIMULATE_CONFIG))],
    ) -> Any:
        """Replay the period's tickets (default: the last 30 days) through the desk's
        configuration and the candidate, as they arrived: classification changes, who
        would take the work and who could not, SLA due times and the targets met or
        missed. Nothing is written; the candidate is not applied."""
        try:
            report: dict[str, Any] = await run_in_threadpool(
                desk.simulate,
                body.candidate,
                since=body.since,
                first=body.first,
                last=body.last,
                teams=tuple(body.teams),
            )
        except ConfigError as exc:
            return _refused(exc)
        except ValueError as exc:
            raise HTTPException(422, detail=str(exc)) from None
        return report

    return router
