"""Split a customer's message out into a new ticket: ``POST .../{number}/split``."""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from connectors.ports import SplitDesk
from connectors.web.schemas import BODY_ERRORS, ID, Problem
from connectors.web.staff.gate import TICKET_ERRORS, StaffGate, TicketAccess
from connectors.web.staff.ticket_action_routes import IfMatch, expected_version
from router.access import Ability
from router.errors import NotFound, PermanentError, StaleVersion


class SplitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_id: int = Field(description="The message to move (`messages[].id`).", **ID)
    subject: str = Field("", max_length=998, description="The new ticket's subject.")


class SplitOut(BaseModel):
    number: int = Field(description="The new ticket.")


def split_router(gate: StaffGate, desk: SplitDesk) -> APIRouter:
    router = APIRouter(prefix="/api/v1/desk/tickets", tags=["tickets"])

    @router.post(
        "/{number}/split",
        summary="Split a message out into a new ticket",
        status_code=201,
        response_model=SplitOut,
        responses={
            **BODY_ERRORS,
            **TICKET_ERRORS,
            409: {
                "model": Problem,
                "description": "The message cannot be split out: not the customer's, the "
                "ticket's first, or the ticket is closed.",
            },
            412: {"model": Problem, "description": "The ticket changed since If-Match's version."},
        },
    )
    async def split(
        body: SplitRequest,
        access: Annotated[TicketAccess, Depends(gate.on_ticket(Ability.EDIT_FIELDS))],
        if_match: IfMatch = None,
    ) -> SplitOut:
        """A customer's later message (a second question in one thread) becomes a new
        ticket of the same requester, with the old one's channel, team, priority and
        category; it starts its own SLA clocks and is routed. 404 for a message that is
        not this ticket's. If-Match: the ticket's version (412 when it changed since)."""
        try:
            number = await run_in_threadpool(
                desk.split_message,
                access.caller,
                access.ticket.number,
                body.message_id,
                body.subject,
                if_match=expected_version(if_match),
            )
        except StaleVersion as exc:
            raise HTTPException(412, detail=str(exc)) from None
        except NotFound as exc:
            raise HTTPException(404, detail=str(exc)) from None
        except PermanentError as exc:
            raise HTTPException(409, detail=str(exc)) from None
        return SplitOut(number=number)

    return router
