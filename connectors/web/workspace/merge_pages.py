"""Merging from the ticket page: the form names the ticket to merge into; the first post
shows both tickets and asks to confirm (nothing changes yet); the confirmed post is the
API's ``POST /api/v1/desk/tickets/{number}/merge`` with the version the page was read at
(If-Match), and opens the ticket that remains."""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from connectors.ports import Staff
from connectors.web.workspace.door import PREFIX, PageDoor
from connectors.web.workspace.pages import Pages
from connectors.web.workspace.ticket_pages import Number, back_to, ticket_page
from router.access import Ability
from router.errors import NotFound, PermanentError, StaleVersion
from router.staff_ticket_views import StaffTicket
from router.staff_views import Caller
from router.storable import is_id
from router.ticket_merges import MergeSide, merge_refusal
from router.vocabulary import Status


def merge_router(pages: Pages, door: PageDoor, desk: Staff) -> APIRouter:
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    @router.post("/tickets/{number}/merge", name="workspace_merge")
    async def merge(
        request: Request, number: Number, caller: Annotated[Caller, Depends(door.caller)]
    ) -> Response:
        await door.on_ticket(caller, number, Ability.MERGE)
        async with request.form() as form:
            fields = {k: v[:200] for k, v in form.items() if isinstance(v, str)}
        given = fields.get("into", "").strip().removeprefix("#")
        into = int(given) if given.isdigit() and is_id(int(given)) else None

        async def refused(status: int, why: str) -> Response:
            return await ticket_page(
                pages, desk, request, caller, number, status=status, refused=why
            )

        if into is None:
            return await refused(422, f"{given or '(nothing)'} is not a ticket number")
        try:
            await door.on_ticket(caller, into, Ability.MERGE)
        except HTTPException as exc:
            if exc.status_code != 404:
                raise
            return await refused(404, f"there is no ticket #{into}")
        version = fields.get("version") or None
        if fields.get("confirm") != "1":
            source = await run_in_threadpool(desk.staff_ticket, number)
            target = await run_in_threadpool(desk.staff_ticket, into)
            if source is None or target is None:
                raise HTTPException(404, detail="ticket not found")
            why = merge_refusal(_side(source), _side(target))
            if why is not None:
                return await refused(409, why)
            return await pages.page(
                request,
                "merge.html",
                caller,
                source=source,
                target=target,
                version=version or source.version,
            )
        try:
            await run_in_threadpool(desk.merge_ticket, caller, number, into, if_match=version)
        except StaleVersion:
            return await ticket_page(
                pages, desk, request, caller, number, status=409, draft={}, conflict=True
            )
        except NotFound as exc:
            return await refused(404, str(exc))
        except PermanentError as exc:
            return await refused(409, str(exc))
        return back_to(request, into, "merged")

    return router


def _side(ticket: StaffTicket) -> MergeSide:
    return MergeSide(
        number=ticket.number,
        status=Status(ticket.status),
        requester_id=ticket.customer_id,
        merged_into=ticket.merged_into,
    )
