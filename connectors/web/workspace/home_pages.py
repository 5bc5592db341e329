"""The workspace's start page and the header's own-status switch."""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from connectors.ports import StaffDesk
from connectors.web.workspace.door import PREFIX, PageDoor, local_path
from connectors.web.workspace.pages import Pages
from router.access import Ability
from router.staff_views import Caller
from router.vocabulary import AgentStatus


def home_router(pages: Pages, door: PageDoor, desk: StaffDesk) -> APIRouter:
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    @router.get("/", name="workspace_home", response_class=HTMLResponse)
    async def home(
        request: Request, caller: Annotated[Caller, Depends(door.caller)]
    ) -> HTMLResponse:
        return await pages.page(request, "home.html", caller)

    @router.post("/status", name="workspace_status")
    async def set_status(
        caller: Annotated[Caller, Depends(door.caller)],
        status: Annotated[str, Form()] = "",
        back: Annotated[str, Form()] = "",
    ) -> Response:
        """The header's switch: the API's ``PUT /api/v1/agents/me/status``, as a form."""
        door.allowed(caller, Ability.SET_OWN_STATUS)
        try:
            chosen = AgentStatus(status)
        except ValueError:
            raise HTTPException(422, detail="status") from None
        await run_in_threadpool(desk.set_own_status, caller, chosen)
        return RedirectResponse(local_path(back, PREFIX + "/"), status_code=303)

    return router
