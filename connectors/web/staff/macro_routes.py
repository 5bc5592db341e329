"""Macros over HTTP: the list, applying one to a ticket in one action, and an admin's own
macros (made, changed and removed here; those of ``[[macros]]`` are listed read-only)."""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Response
from starlette.concurrency import run_in_threadpool

from connectors.ports import MacroDesk
from connectors.web.schemas import BODY_ERRORS, Problem
from connectors.web.staff.gate import (
    AUTH_ERRORS,
    TICKET_ERRORS,
    StaffGate,
    TicketAccess,
)
from connectors.web.staff.macro_schemas import MacroIn, MacroOut, MacroRequest
from connectors.web.staff.ticket_action_routes import expected_version
from router.access import Ability
from router.errors import NotFound, PermanentError, StaleVersion
from router.macros import MacroApplied
from router.staff_views import Caller

CONFLICT = {
    "model": Problem,
    "description": "The ticket cannot take the macro's reply or changes (closed, or a "
    "status it cannot move to): nothing was sent.",
}
READ_ONLY = {
    "model": Problem,
    "description": "The name is taken, or the macro is defined in the config (read-only).",
}
MISSING = {"model": Problem, "description": "No macro of that name is kept."}
MacroName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


def macro_router(gate: StaffGate, desk: MacroDesk) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["macros"])
    admin = Annotated[Caller, Depends(gate.allowed(Ability.MANAGE_MACROS))]

    @router.get(
        "/macros", summary="List macros", response_model=list[MacroOut], responses=AUTH_ERRORS
    )
    async def list_macros(
        caller: Annotated[Caller, Depends(gate.allowed(Ability.LIST_TICKETS))],
    ) -> list[MacroOut]:
        """Every macro: those of `[[macros]]` (`source` `config`, read-only) in their order,
        then those admins keep (`source` `api`) by name. Each has its body with its
        placeholders (`{requester_name}`, `{ticket_number}`, `{agent_name}`) and the
        status, priority, tags (added) and team it sets."""
        return [MacroOut.of(m) for m in await run_in_threadpool(desk.macros)]

    @router.post(
        "/macros",
        summary="Make a macro",
        status_code=201,
        response_model=MacroOut,
        responses={**BODY_ERRORS, **AUTH_ERRORS, 409: READ_ONLY},
    )
    async def create_macro(body: MacroIn, caller: admin) -> MacroOut:
        """Admins only. 409 when the name is taken (by the config or a kept macro); 422
        for a placeholder the desk does not fill or a team that does not exist."""
        macro = body.definition()
        await _run(desk.create_macro, caller, macro)
        return MacroOut.of(macro)

    @router.put(
        "/macros/{name}",
        summary="Change a macro",
        response_model=MacroOut,
        responses={**BODY_ERRORS, **AUTH_ERRORS, 404: MISSING, 409: READ_ONLY},
    )
    async def replace_macro(name: MacroName, body: MacroIn, caller: admin) -> MacroOut:
        """Admins only: the whole macro, written over the kept one (`name` as in the path).
        404 for none kept; 409 for one of the config."""
        if body.name != name:
            raise HTTPException(422, detail="name: the body names another macro than the path")
        macro = body.definition()
        await _run(desk.replace_macro, caller, macro)
        return MacroOut.of(macro)

    @router.delete(
        "/macros/{name}",
        summary="Remove a macro",
        status_code=204,
        responses={**AUTH_ERRORS, 404: MISSING, 409: READ_ONLY},
    )
    async def remove_macro(name: MacroName, caller: admin) -> Response:
        """Admins only. 404 for none kept; 409 for one of the config."""
        await _run(desk.remove_macro, caller, name)
        return Response(status_code=204)

    @router.post(
        "/desk/tickets/{number}/macro",
        summary="Apply a macro",
        response_model=MacroApplied,
        responses={
            **BODY_ERRORS,
            **TICKET_ERRORS,
            409: CONFLICT,
            412: {"model": Problem, "description": "The ticket changed since If-Match's."},
        },
        tags=["tickets"],
    )
    async def apply_macro(
        body: MacroRequest,
        access: Annotated[TicketAccess, Depends(gate.on_ticket(Ability.REPLY))],
        if_match: Annotated[str | None, Header(alias="If-Match", max_length=200)] = None,
    ) -> MacroApplied:
        """Reply with the macro's text (its placeholders filled in; or `text`, the agent's
        edit of it) and `files` on the requester's channel, and set its status (or
        `status`), priority, tags (added) and team, in one transaction audited as the macro
        (`macro.applied`). 404 for a macro that does not exist; 422 for a file not kept."""
        try:
            return await run_in_threadpool(
                lambda: desk.apply_macro(
                    access.caller,
                    access.ticket.number,
                    body.macro,
                    text=body.text or None,
                    files=tuple((f.sha256, f.filename) for f in body.files),
                    status=body.status,
                    if_match=expected_version(if_match),
                )
            )
        except StaleVersion as exc:
            raise HTTPException(412, detail=str(exc)) from None
        except NotFound as exc:
            raise HTTPException(404, detail=str(exc)) from None
        except ValueError as exc:
            raise HTTPException(422, detail=str(exc)) from None
        except PermanentError as exc:
            raise HTTPException(409, detail=str(exc)) from None

    return router


async def _run(call, caller: Caller, value: object) -> None:  # type: ignore[no-untyped-def]
    try:
        await run_in_threadpool(call, caller, value)
    except NotFound as exc:
        raise HTTPException(404, detail=str(exc)) from None
    except ValueError as exc:
        raise HTTPException(422, detail=str(exc)) from None
    except PermanentError as exc:
        raise HTTPException(409, detail=str(exc)) from None
