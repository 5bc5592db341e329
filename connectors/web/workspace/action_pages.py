"""The ticket page's actions as forms: reply (and a status in the same submit), note,
status, claim, assign, transfer, unassign, field edits; each the API's ``TicketActions``
call with the version the page was read at (the API's If-Match). When the ticket changed
in between, nothing is written: the page comes back (409) saying so, showing what
changed since, with the text that was being written kept in its box."""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from config.settings import WebSettings
from connectors.ports import Staff
from connectors.web.workspace.door import PREFIX, PageDoor
from connectors.web.workspace.pages import Pages
from connectors.web.workspace.reply_uploads import keep_uploads, reply_uploads
from connectors.web.workspace.ticket_pages import Number, back_to, ticket_page
from router.access import Ability
from router.errors import NotFound, PermanentError, StaleVersion
from router.staff_views import Caller
from router.ticket_edits import TicketEdit
from router.vocabulary import Status

MAX_TEXT = 100_000


def action_router(pages: Pages, door: PageDoor, desk: Staff, web: WebSettings) -> APIRouter:
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    async def act(
        request: Request,
        number: int,
        caller: Caller,
        ability: Ability,
        done: str,
        do: Callable[[dict[str, str], str | None], Any],
    ) -> Response:
        await door.on_ticket(caller, number, ability)
        async with request.form() as form:
            fields = {k: v[:MAX_TEXT] for k, v in form.items() if isinstance(v, str)}
        version = fields.get("version") or None
        try:
            await run_in_threadpool(do, fields, version)
        except StaleVersion:
            return await ticket_page(
                pages, desk, request, caller, number, status=409, draft=fields, conflict=True
            )
        except NotFound as exc:
            raise HTTPException(422, detail=str(exc)) from None
        except (ValueError, PermanentError) as exc:
            return await ticket_page(
                pages,
                desk,
                request,
                caller,
                number,
                status=409,
                draft=fields,
                refused=str(exc),
            )
        back = fields.get("back", "")
        if back == "board":
            return back_to(request, number, done, board=True)
        return back_to(request, number, done)

    Caller_ = Annotated[Caller, Depends(door.caller)]

    @router.post("/tickets/{number}/reply", name="workspace_reply")
    async def reply(request: Request, number: Number, caller: Caller_) -> Response:
        """The reply with its files (multipart): the files are checked as the API's uploads
        are, and any problem refuses the whole reply (422, the text kept)."""
        await door.on_ticket(caller, number, Ability.REPLY)
        uploads, problems = await reply_uploads(request, web)
        if problems:
            async with request.form() as form:
                fields = {k: v[:MAX_TEXT] for k, v in form.items() if isinstance(v, str)}
            return await ticket_page(
                pages,
                desk,
                request,
                caller,
                number,
                status=422,
                draft=fields,
                file_problems=problems,
            )
        files = await keep_uploads(desk, uploads)

        def do(f: dict[str, str], version: str | None) -> None:
            status = Status(f["status"]) if f.get("status") else None
            text = f.get("text", "")
            if f.get("macro"):  # the macro's changes, and its text unless one was written
                desk.apply_macro(
                    caller,
                    number,
                    f["macro"][:64],
                    text=text if text.strip() else None,
                    files=files,
                    status=status,
                    if_match=version,
                )
            else:
                desk.reply(caller, number, text, status=status, if_match=version, files=files)

        async with request.form() as form:
            done = "macro" if form.get("macro") else "reply"
        return await act(request, number, caller, Ability.REPLY, done, do)

    @router.post("/tickets/{number}/note", name="workspace_note")
    async def note(request: Request, number: Number, caller: Caller_) -> Response:
        def do(f: dict[str, str], version: str | None) -> None:
            desk.note(caller, number, f.get("text", ""), if_match=version)

        return await act(request, number, caller, Ability.NOTE, "note", do)

    @router.post("/tickets/{number}/status", name="workspace_set_status")
    async def set_status(request: Request, number: Number, caller: Caller_) -> Response:
        def do(f: dict[str, str], version: str | None) -> None:
            desk.set_status(
                caller,
                number,
                Status(f.get("status", "")),
                reason=f.get("reason", ""),
                if_match=version,
            )

        return await act(request, number, caller, Ability.CHANGE_STATUS, "status", do)

    @router.post("/tickets/{number}/claim", name="workspace_claim")
    async def claim(request: Request, number: Number, caller: Caller_) -> Response:
        def do(f: dict[str, str], version: str | None) -> None:
            desk.claim(caller, number, if_match=version)

        return await act(request, number, caller, Ability.CLAIM, "claim", do)

    @router.post("/tickets/{number}/assign", name="workspace_assign")
    async def assign(request: Request, number: Number, caller: Caller_) -> Response:
        def do(f: dict[str, str], version: str | None) -> None:
            desk.assign(
                caller,
                number,
                f.get("agent", ""),
                reason=f.get("reason", ""),
                force=False,
                if_match=version,
            )

        return await act(request, number, caller, Ability.ASSIGN, "assign", do)

    @router.post("/tickets/{number}/transfer", name="workspace_transfer")
    async def transfer(request: Request, number: Number, caller: Caller_) -> Response:
        def do(f: dict[str, str], version: str | None) -> None:
            desk.transfer(
                caller,
                number,
                agent=None,
                team=f.get("team", ""),
                reason=f.get("reason", ""),
                if_match=version,
            )

        return await act(request, number, caller, Ability.ASSIGN, "transfer", do)

    @router.post("/tickets/{number}/unassign", name="workspace_unassign")
    async def unassign(request: Request, number: Number, caller: Caller_) -> Response:
        def do(f: dict[str, str], version: str | None) -> None:
            desk.unassign(caller, number, reason=f.get("reason", ""), if_match=version)

        return await act(request, number, caller, Ability.ASSIGN, "unassign", do)

    @router.post("/tickets/{number}/fields", name="workspace_fields")
    async def fields(request: Request, number: Number, caller: Caller_) -> Response:
        def do(f: dict[str, str], version: str | None) -> None:
            edit = TicketEdit(
                priority=f.get("priority") or None,
                category=f.get("category") or None,
                tags=tuple(t.strip() for t in f.get("tags", "").split(",")),
            )
            desk.edit_fields(caller, number, edit, reason="", if_match=version)

        return await act(request, number, caller, Ability.EDIT_FIELDS, "fields", do)

    return router
