"""Merge a ticket into another of the same requester: ``POST .../{number}/merge``."""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from connectors.ports import MergeDesk, TicketActions
from connectors.web.schemas import BODY_ERRORS, ID, Problem
from connectors.web.staff.gate import TICKET_ERRORS, StaffGate, TicketAccess
from connectors.web.staff.ticket_action_routes import IfMatch, expected_version
from connectors.web.staff.ticket_routes import ETAG_HEADER, PREFIX, etag
from router.access import Ability
from router.errors import NotFound, PermanentError, StaleVersion


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    into: int = Field(
        description="The ticket that remains (the same requester's, in the caller's scope).",
        **ID,
    )


class MergeOut(BaseModel):
    number: int = Field(description="The merged ticket: closed, `merged_into` the other.")
    into: int = Field(description="The ticket that remains, with the messages now.")
    moved: int = Field(description="How many messages moved.")
    version: str | None = Field(description="The merged ticket's version (also its ETag).")


def merge_router(gate: StaffGate, desk: MergeDesk, actions: TicketActions) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["staff tickets"])

    @router.post(
        "/{number}/merge",
        operation_id="merge_ticket",
        summary="Merge into another ticket of the requester",
        response_model=MergeOut,
        responses={
            **BODY_ERRORS,
            **TICKET_ERRORS,
            200: {"headers": ETAG_HEADER},
            404: {
                "model": Problem,
                "description": "No such ticket in the caller's scope: this one or `into`.",
            },
            409: {
                "model": Problem,
                "description": "The merge is refused: `into` is this ticket, has another "
                "requester, or one of the two is closed or merged already.",
            },
            412: {"model": Problem, "description": "The ticket changed since If-Match's version."},
        },
    )
    async def merge(
        body: MergeRequest,
        access: Annotated[TicketAccess, Depends(gate.on_ticket(Ability.MERGE))],
        response: Response,
        if_match: IfMatch = None,
    ) -> MergeOut:
        """The same question asked twice: this ticket closes as merged into `into` (its
        status closed, its SLA clocks stopped) and its messages move there, each marked
        `merged_from`; its requester is told on their channel that the conversation goes
        on in `into`; whatever comes later on this ticket's thread (a mail answering it
        or tagged with it, its chat, its requester's page) joins `into`. `ticket.merged`
        in both audit logs (and for webhooks). If-Match: this ticket's version."""
        caller = access.caller
        await gate.on_ticket(Ability.MERGE)(number=body.into, caller=caller)  # 404 / 403
        number = access.ticket.number
        try:
            moved = await run_in_threadpool(
                desk.merge_ticket,
                caller,
                number,
                body.into,
                if_match=expected_version(if_match),
            )
        except StaleVersion as exc:
            raise HTTPException(412, detail=str(exc)) from None
        except NotFound as exc:
            raise HTTPException(404, detail=str(exc)) from None
        except PermanentError as exc:
            raise HTTPException(409, detail=str(exc)) from None
        version = await run_in_threadpool(actions.version_for, caller, number)
        if version is not None:
            response.headers["ETag"] = etag(version)
        return MergeOut(number=number, into=body.into, moved=moved, version=version)

    return router
