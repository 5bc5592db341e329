"""The supervisor's board page: ``GET /desk/board``, the API's ``GET /api/v1/board``."""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from connectors.ports import BoardDesk
from connectors.web.workspace.door import PREFIX, PageDoor
from connectors.web.workspace.pages import Pages
from router.access import Ability
from router.staff_views import Caller


def board_router(pages: Pages, door: PageDoor, desk: BoardDesk) -> APIRouter:
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    @router.get("/board", name="workspace_board", response_class=HTMLResponse)
    async def board(
        request: Request, caller: Annotated[Caller, Depends(door.caller)]
    ) -> HTMLResponse:
        door.allowed(caller, Ability.VIEW_BOARD)
        found = await run_in_threadpool(desk.board, caller)
        done = request.query_params.get("done", "")
        return await pages.page(request, "board.html", caller, board=found, done=done)

    return router
