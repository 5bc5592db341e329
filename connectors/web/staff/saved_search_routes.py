"""Saved searches over HTTP: an agent's named filters of the ticket list (a supervisor may
share one with a team they supervise), listed with their counts."""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from connectors.saved_search_ports import SavedSearchDesk
from connectors.web.schemas import BODY_ERRORS, ID, Problem
from connectors.web.staff.gate import AUTH_ERRORS, StaffGate
from connectors.web.staff.query_params import WORD
from connectors.web.text_fields import LINE_PATTERN
from router.access import Ability
from router.errors import NotFound, PermanentError
from router.saved_searches import SavedSearch
from router.staff_views import Caller
from router.ticket_list import MAX_QUERY
from router.vocabulary import Channel, Priority, Status

Word = Annotated[str, Field(pattern=WORD)]
Words = Annotated[list[Word], Field(max_length=50)]
SearchId = Annotated[int, Path(description="The saved search's id.", **ID)]
MISSING = {"model": Problem, "description": "No saved search of that id the caller sees."}
TAKEN = {"model": Problem, "description": "The caller has a saved search of that name."}


class SavedFilters(BaseModel):
    """The list's filters (`GET /api/v1/desk/tickets`'s parameters of the same names)."""

    model_config = ConfigDict(extra="forbid")

    status: list[Status] = Field(default_factory=list, max_length=10)
    priority: list[Priority] = Field(default_factory=list, max_length=10)
    team: Words = Field(default_factory=list)
    assignee: Words = Field(default_factory=list)
    unassigned: bool = False
    channel: list[Channel] = Field(default_factory=list, max_length=10)
    category: Words = Field(default_factory=list)
    tag: Words = Field(default_factory=list)
    organisation: Words = Field(default_factory=list)
    breached: bool = False
    due_within: int | None = Field(None, ge=0, le=525_600)
    q: str = Field("", max_length=MAX_QUERY, pattern=r"^[^\u0000]*$")

    def kept(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=True)


class SavedSearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="One line.", pattern=LINE_PATTERN)
    filters: SavedFilters
    team: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="Share it with this team (its supervisor or an admin only).",
    )


class SavedSearchOut(BaseModel):
    id: int
    name: str
    owner: str
    team: str | None
    filters: dict[str, Any]
    count: int | None = Field(None, description="Tickets it lists now, up to 1000.")

    @classmethod
    def of(cls, search: SavedSearch, count: int | None = None) -> "SavedSearchOut":
        return cls(
            id=search.id,
            name=search.name,
            owner=search.owner,
            team=search.team,
            filters=search.filters,
            count=count,
        )


def saved_search_router(gate: StaffGate, desk: SavedSearchDesk) -> APIRouter:
    router = APIRouter(prefix="/api/v1/saved-searches", tags=["saved searches"])
    Agent = Annotated[Caller, Depends(gate.allowed(Ability.LIST_TICKETS))]

    @router.get(
        "",
        summary="List saved searches",
        response_model=list[SavedSearchOut],
        responses=AUTH_ERRORS,
    )
    async def list_searches(caller: Agent) -> list[SavedSearchOut]:
        """The caller's own saved searches and those shared with their teams, by name, each
        with how many tickets it lists now (in the caller's scope, up to 1000)."""
        found = await run_in_threadpool(desk.saved_searches, caller)
        return [SavedSearchOut.of(search, count) for search, count in found]

    @router.post(
        "",
        summary="Save a search",
        status_code=201,
        response_model=SavedSearchOut,
        responses={**BODY_ERRORS, **AUTH_ERRORS, 409: TAKEN},
    )
    async def save_search(body: SavedSearchIn, caller: Agent) -> SavedSearchOut:
        """Keep `filters` under `name` (the list's parameters: what `GET
        /api/v1/desk/tickets` with them lists, in the scope of whoever reads it). With
        `team`, shared with that team's agents: its supervisor or an admin only (403);
        422 for a team that does not exist."""
        try:
            made = await run_in_threadpool(
                desk.save_search, caller, body.name, body.filters.kept(), body.team
            )
        except PermissionError as exc:
            raise HTTPException(403, detail=str(exc)) from None
        except ValueError as exc:
            raise HTTPException(422, detail=str(exc)) from None
        except PermanentError as exc:
            raise HTTPException(409, detail=str(exc)) from None
        return SavedSearchOut.of(made)

    @router.delete(
        "/{search_id}",
        summary="Remove a saved search",
        status_code=204,
        responses={**AUTH_ERRORS, 404: MISSING},
    )
    async def remove_search(search_id: SearchId, caller: Agent) -> Response:
        """The owner's; a shared one by its owner or whoever may share with its team (else
        403)."""
        try:
            await run_in_threadpool(desk.remove_search, caller, search_id)
        except NotFound as exc:
            raise HTTPException(404, detail=str(exc)) from None
        except PermissionError as exc:
            raise HTTPException(403, detail=str(exc)) from None
        return Response(status_code=204)

    return router
