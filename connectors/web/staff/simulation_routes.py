"""A candidate configuration simulated on past tickets, for admins, in the background:
``POST /api/v1/admin/simulations`` checks the candidate and the period, queues a job for
the workers and answers 202 with its status URL (``Location``); the status says how many
tickets are done of how many, and once done the report (what ``relaydesk rules simulate
--format json`` prints) is at ``/result``. Always a job, however small the period: one
contract for every caller, and no request held while a month of tickets is replayed.
Nothing of the desk is written; the candidate is not applied.
"""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from config.loader import ConfigError
from connectors.simulation_ports import SimulationDesk
from connectors.web.schemas import BODY_ERRORS, ID, Problem, ValidationProblems
from connectors.web.staff.gate import AUTH_ERRORS, StaffGate
from connectors.web.staff.query_params import WORD
from router.access import Ability
from router.simulation_job import JobView
from router.staff_views import Caller
from router.storable import is_id
from router.vocabulary import JobState

CANDIDATE_CHARS = 1_000_000
PREFIX = "/api/v1/admin/simulations"
NO_SUCH = {"model": Problem, "description": "No such simulation."}
JobId = Annotated[int, Path(description="The simulation's id.", **ID)]


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
    pilot_teams: list[Annotated[str, Field(pattern=WORD)]] = Field(
        default_factory=list,
        max_length=50,
        description="Pilot the candidate on these teams only, every other team keeping the "
        "desk's configuration (as `relaydesk config reload --pilot-teams` would).",
    )


class SimulationJobOut(BaseModel):
    """A simulation job: where it is, how far, and where its report is once done."""

    id: int
    state: JobState = Field(description="queued, running, done or failed.")
    tickets_done: int = Field(description="Tickets replayed so far.")
    tickets_total: int | None = Field(description="The period's tickets, once counted.")
    attempts: int = Field(description="Runs started (a job whose worker was lost runs again).")
    error: str | None = Field(description="Why it failed.")
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    status_url: str
    result_url: str | None = Field(description="The report, once done.")


def _out(job: JobView) -> SimulationJobOut:
    url = f"{PREFIX}/{job.id}"
    return SimulationJobOut(
        id=job.id,
        state=job.state,
        tickets_done=job.tickets_done,
        tickets_total=job.tickets_total,
        attempts=job.attempts,
        error=job.error,
        requested_by=job.requested_by,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        status_url=url,
        result_url=f"{url}/result" if job.state is JobState.DONE else None,
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


def _no_such(job_id: int) -> HTTPException:
    return HTTPException(404, detail=f"no simulation {job_id}")


def simulation_router(gate: StaffGate, desk: SimulationDesk) -> APIRouter:
    router = APIRouter(prefix="/api/v1/admin", tags=["simulations"])
    Admin = Annotated[Caller, Depends(gate.allowed(Ability.SIMULATE_CONFIG))]

    @router.post(
        "/simulations",
        summary="Simulate a candidate configuration",
        status_code=202,
        response_model=SimulationJobOut,
        responses={
            **BODY_ERRORS,
            **AUTH_ERRORS,
            202: {
                "description": "Queued for the workers; `Location` is the job's status.",
                "headers": {"Location": {"schema": {"type": "string"}}},
            },
            422: {
                "model": ValidationProblems,
                "description": "An invalid candidate (every problem listed), period, or "
                "pilot team.",
            },
        },
    )
    async def simulate(body: SimulationRequest, caller: Admin) -> JSONResponse:
        """Replay the period's tickets (default: the last 30 days) through the desk's
        configuration and the candidate (on the pilot's teams only, if named), as they
        arrived: classification changes, who would take the work and who could not, SLA
        due times and the targets met or missed. The replay runs on the workers: follow
        `Location` for its progress, then read its `result_url`."""
        try:
            job: JobView = await run_in_threadpool(
                desk.submit_simulation,
                body.candidate,
                since=body.since,
                first=body.first,
                last=body.last,
                teams=tuple(body.teams),
                pilot_teams=tuple(dict.fromkeys(body.pilot_teams)),
                requested_by=caller.origin.actor,
            )
        except ConfigError as exc:
            return _refused(exc)
        except ValueError as exc:
            raise HTTPException(422, detail=str(exc)) from None
        out = _out(job)
        return JSONResponse(
            out.model_dump(mode="json"), status_code=202, headers={"Location": out.status_url}
        )

    @router.get(
        "/simulations/{job_id}",
        summary="Follow a simulation",
        response_model=SimulationJobOut,
        responses={**AUTH_ERRORS, 404: NO_SUCH},
    )
    async def status(job_id: JobId, caller: Admin) -> SimulationJobOut:
        """Its state, the tickets done of the period's, why it failed; `result_url` once
        done."""
        job = await run_in_threadpool(desk.simulation_job, job_id) if is_id(job_id) else None
        if job is None:
            raise _no_such(job_id)
        return _out(job)

    @router.get(
        "/simulations/{job_id}/result",
        summary="A simulation's report",
        responses={
            **AUTH_ERRORS,
            200: {"description": "What would change, as `relaydesk rules simulate --format json`"},
            404: NO_SUCH,
            409: {"model": Problem, "description": "Not done yet, or failed (and why)."},
        },
    )
    async def result(job_id: JobId, caller: Admin) -> Any:
        """The report, kept once the job is done."""
        found = await run_in_threadpool(desk.simulation_result, job_id) if is_id(job_id) else None
        if found is None:
            raise _no_such(job_id)
        job, report = found
        if job.state is JobState.FAILED:
            raise HTTPException(409, detail=f"the simulation failed: {job.error}")
        if report is None:
            raise HTTPException(
                409, detail=f"the simulation is {job.state.value}: {job.tickets_done} tickets done"
            )
        return report

    return router
