"""Saving the search on the screen under a name (shared with a team by its supervisor), and
removing a saved one: the API's ``POST /api/v1/saved-searches`` and ``DELETE``, as forms."""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from connectors.ports import Staff
from connectors.web.route_paths import url_path
from connectors.web.schemas import ID
from connectors.web.staff.query_params import checked
from connectors.web.workspace.door import PREFIX, PageDoor
from router.access import Ability
from router.errors import NotFound, PermanentError
from router.staff_views import Caller
from router.ticket_list import MAX_QUERY

ONE_VALUE = ("status", "priority", "team", "channel", "tag")  # the search form's filters


def saved_search_router(door: PageDoor, desk: Staff) -> APIRouter:
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    @router.post("/saved-searches", name="workspace_save_search")
    async def save(
        request: Request,
        caller: Annotated[Caller, Depends(door.caller)],
        name: Annotated[str, Form(min_length=1, max_length=100)],
        q: Annotated[str, Form(max_length=MAX_QUERY)] = "",
        share: Annotated[str, Form(max_length=64)] = "",
    ) -> Response:
        door.allowed(caller, Ability.LIST_TICKETS)
        async with request.form() as form:
            given = {k: form.get(k) for k in ONE_VALUE}
        filters: dict[str, Any] = {
            k: list(checked([v], k)) for k, v in given.items() if isinstance(v, str) and v
        }
        if q.strip():
            filters["q"] = q.replace("\x00", " ")
        try:
            made = await run_in_threadpool(
                desk.save_search, caller, " ".join(name.split()), filters, share or None
            )
        except PermissionError as exc:
            raise HTTPException(403, detail=str(exc)) from None
        except ValueError as exc:
            raise HTTPException(422, detail=str(exc)) from None
        except PermanentError as exc:
            raise HTTPException(409, detail=str(exc)) from None
        return RedirectResponse(f"{url_path(request, 'workspace_home')}?saved={made.id}", 303)

    @router.post("/saved-searches/{search_id}/remove", name="workspace_remove_search")
    async def remove(
        request: Request,
        search_id: Annotated[int, Path(**ID)],
        caller: Annotated[Caller, Depends(door.caller)],
    ) -> Response:
        door.allowed(caller, Ability.LIST_TICKETS)
        try:
            await run_in_threadpool(desk.remove_search, caller, search_id)
        except NotFound as exc:
            raise HTTPException(404, detail=str(exc)) from None
        except PermissionError as exc:
            raise HTTPException(403, detail=str(exc)) from None
        return RedirectResponse(url_path(request, "workspace_home"), 303)

    return router
