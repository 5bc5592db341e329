"""The supervisor's board as JSON: ``GET /api/v1/board`` (the workspace shows the same)."""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from connectors.ports import BoardDesk
from connectors.web.staff.gate import AUTH_ERRORS, StaffGate
from router.access import Ability
from router.board import Board
from router.staff_views import Caller


def board_router(gate: StaffGate, desk: BoardDesk) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["agents"])

    @router.get(
        "/board", summary="The supervisor's board", response_model=Board, responses=AUTH_ERRORS
    )
    async def board(
        caller: Annotated[Caller, Depends(gate.allowed(Ability.VIEW_BOARD))],
    ) -> Board:
        """The teams the caller supervises (an admin: every team): each agent's status,
        load against capacity per channel, tickets held and the oldest of them; the
        tickets waiting for an agent by priority, each with the routing's reason; the SLA
        warnings and breaches of the last 24 hours. Supervisors and admins."""
        return await run_in_threadpool(desk.board, caller)

    return router
