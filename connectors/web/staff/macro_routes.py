"""Macros over HTTP: the list, and applying one to a ticket in one action."""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from config.macro_settings import MacroSettings
from connectors.ports import MacroDesk
from connectors.web.schemas import Problem
from connectors.web.staff.gate import (
    AUTH_ERRORS,
    BODY_ERRORS,
    TICKET_ERRORS,
    StaffGate,
    TicketAccess,
)
from router.access import Ability
from router.errors import NotFound, PermanentError
from router.macros import MacroApplied
from router.staff_views import Caller


class MacroRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    macro: str = Field(min_length=1, max_length=64, description="The macro's `name`.")


CONFLICT = {
    "model": Problem,
    "description": "The ticket cannot take the macro's reply or status (closed, or a status "
    "it cannot move to): nothing was sent.",
}


def macro_router(gate: StaffGate, desk: MacroDesk) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["tickets"])

    @router.get(
        "/macros",
        summary="List macros",
        response_model=list[MacroSettings],
        responses=AUTH_ERRORS,
    )
    async def list_macros(
        caller: Annotated[Caller, Depends(gate.allowed(Ability.LIST_TICKETS))],
    ) -> tuple[MacroSettings, ...]:
        """The canned replies of `[[macros]]`: name, title, body with its placeholders
        (`{requester_name}`, `{ticket_number}`, `{agent_name}`), and the status and team
        each sets."""
        return desk.macros()

    @router.post(
        "/desk/tickets/{number}/macro",
        summary="Apply a macro",
        response_model=MacroApplied,
        responses={**BODY_ERRORS, **TICKET_ERRORS, 409: CONFLICT},
    )
    async def apply_macro(
        body: MacroRequest,
        access: Annotated[TicketAccess, Depends(gate.on_ticket(Ability.REPLY))],
    ) -> MacroApplied:
        """Reply with the macro's text (its placeholders filled in) on the requester's
        channel and set its status, in one transaction audited as the macro
        (`macro.applied`); then move the ticket to the macro's team, if it names one.
        404 for a macro that does not exist."""
        try:
            return await run_in_threadpool(
                desk.apply_macro, access.caller, access.ticket.number, body.macro
            )
        except NotFound as exc:
            raise HTTPException(404, detail=str(exc)) from None
        except PermanentError as exc:
            raise HTTPException(409, detail=str(exc)) from None

    return router
