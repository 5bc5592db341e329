"""Agents: the list with status and load, and one's own routing status."""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from connectors.ports import StaffDesk
from connectors.web.schemas import BODY_ERRORS
from connectors.web.staff.gate import AUTH_ERRORS, StaffGate
from connectors.web.staff.schemas import AgentOut, StatusChange, StatusRequest
from router.access import Ability
from router.staff_views import Caller
from router.vocabulary import AgentStatus


def agent_router(gate: StaffGate, desk: StaffDesk) -> APIRouter:
    router = APIRouter(prefix="/api/v1/agents", tags=["agents"])

    @router.get(
        "",
        summary="List agents",
        response_model=list[AgentOut],
        responses=AUTH_ERRORS,
    )
    async def list_agents(
        caller: Annotated[Caller, Depends(gate.allowed(Ability.LIST_AGENTS))],
    ) -> list[AgentOut]:
        """Every agent by name: routing status, teams, and load against capacity, overall
        and per channel."""
        return [AgentOut.of(a) for a in await run_in_threadpool(desk.agents)]

    @router.put(
        "/me/status",
        summary="Set my status",
        response_model=StatusChange,
        responses={**BODY_ERRORS, **AUTH_ERRORS},
    )
    async def set_my_status(
        body: StatusRequest,
        caller: Annotated[Caller, Depends(gate.allowed(Ability.SET_OWN_STATUS))],
    ) -> StatusChange:
        """Set the caller's routing status, as `relaydesk agents status` and Telegram's
        `/status` do: online takes tickets (the waiting ones are routed at once), away and
        offline do not."""
        previous = await run_in_threadpool(desk.set_own_status, caller, body.status)
        return StatusChange(
            name=caller.principal.name, status=body.status, previous=AgentStatus(previous)
        )

    return router
